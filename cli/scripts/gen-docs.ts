// Generates gnt's man pages and bash completion from its command tree (the
// commander definitions of src/program.ts and src/commands/), so that both
// say what the code accepts:
//   man8/gnt.8                 global options, the commands, the environment
//   man8/gnt-<command>.8       one page per command with sub-commands
//                              (gnt-instance.8, gnt-node.8, ...: Ganeti's names)
//   bash-completion/gnt        completes commands, sub-commands, options and
//                              the values of options with fixed choices
//   npx tsx cli/scripts/gen-docs.ts OUTDIR     (scripts/build-deb.sh runs it)
import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import type { Command, Option } from "commander";
import { registerLocalCommands } from "../src/commands/local.js";
import { commandTree } from "../src/program.js";

const VERSION_DATE = "2026";
const GANETI_NAMES = new Set(["instance", "node", "group", "network", "job", "cluster", "os", "filter"].map((n) => `gnt-${n}`));

export function tree(): Command {
  const quiet = () => undefined;
  return commandTree({
    io: { out: quiet, err: quiet, isTTY: false, progressStream: process.stderr },
    env: {},
    registerLocal: registerLocalCommands,
  });
}

const visible = (c: Command): Command[] => c.commands.filter((s) => !(s as unknown as { _hidden?: boolean })._hidden);
const options = (c: Command): Option[] => c.options.filter((o) => !o.hidden);

/** roff-escape a line of text (backslashes, hyphens, a leading dot or quote). */
function roff(s: string): string {
  return s
    .replace(/\\/g, "\\e")
    .replace(/-/g, "\\-")
    .replace(/^([.'])/, "\\&$1");
}

function usage(c: Command, parents: string[]): string {
  return [...parents, c.name(), c.usage()].filter(Boolean).join(" ");
}

function optionLines(c: Command): string[] {
  const out: string[] = [];
  for (const o of options(c)) {
    out.push(".TP", `.B ${roff(o.flags)}`);
    const extra: string[] = [];
    if (o.argChoices) extra.push(`one of: ${o.argChoices.join(", ")}`);
    if (o.defaultValue !== undefined && typeof o.defaultValue !== "boolean") extra.push(`default: ${String(o.defaultValue)}`);
    out.push(roff([o.description, ...(extra.length ? [`(${extra.join("; ")})`] : [])].join(" ")));
  }
  return out;
}

function header(name: string, summary: string): string[] {
  return [
    `.TH ${name.toUpperCase().replace(/-/g, "\\-")} 8 "${VERSION_DATE}" "ganeti-ts 0.1.0" "ganeti-ts manual"`,
    ".SH NAME",
    `${roff(name)} \\- ${roff(summary)}`,
  ];
}

/** A page for one command with sub-commands: every sub-command's usage, text and options. */
function commandPage(c: Command): string {
  const name = `gnt-${c.name()}`;
  // gnt answers to Ganeti's tool names (a link named gnt-instance is `gnt instance`).
  const ganetiName = GANETI_NAMES.has(name);
  const lines = [
    ...header(name, c.description() || `gnt ${c.name()} commands`),
    ".SH SYNOPSIS",
    `.B gnt ${roff(c.name())}`,
    roff("COMMAND [OPTIONS] [ARGUMENTS]"),
    ...(ganetiName ? [".br", `.B ${roff(name)}`, roff("COMMAND [OPTIONS] [ARGUMENTS]")] : []),
    ".SH DESCRIPTION",
    roff(
      ganetiName
        ? `The ${c.name()} commands of gnt(8); gnt run under the name ${name} (a link) is gnt ${c.name()}, as Ganeti's tool of that name.`
        : `The ${c.name()} commands of gnt(8).`,
    ),
    ".SH COMMANDS",
  ];
  const walk = (cmd: Command, parents: string[]) => {
    for (const s of visible(cmd)) {
      if (visible(s).length > 0) {
        walk(s, [...parents, s.name()]);
        continue;
      }
      lines.push(".SS", roff(usage(s, ["gnt", ...parents])));
      if (s.description()) lines.push(roff(s.description()));
      for (const a of s.registeredArguments) {
        if (a.description) lines.push(".TP", `.I ${roff(a.name())}`, roff(a.description));
      }
      lines.push(...optionLines(s));
    }
  };
  walk(c, [c.name()]);
  lines.push(".SH SEE ALSO", "gnt(8)");
  return lines.join("\n") + "\n";
}

function mainPage(root: Command): string {
  const groups = visible(root).filter((c) => visible(c).length > 0);
  const leaves = visible(root).filter((c) => visible(c).length === 0);
  const lines = [
    ...header("gnt", root.description()),
    ".SH SYNOPSIS",
    `.B gnt`,
    roff("[GLOBAL OPTIONS] COMMAND [SUB-COMMAND] [OPTIONS] [ARGUMENTS]"),
    ".SH DESCRIPTION",
    roff(
      "gnt manages a ganeti-ts or Ganeti 3.0 cluster through its Remote API (RAPI v2); on the master, root also reaches the master daemon's local control socket.",
    ),
    roff("Each command with sub-commands has its own page:"),
    ...groups.flatMap((c) => [".TP", `.BR gnt\\-${roff(c.name())} (8)`, roff(c.description())]),
    ".SH OTHER COMMANDS",
    ...leaves.flatMap((c) => [".TP", `.B ${roff(usage(c, ["gnt"]))}`, roff(c.description())]),
    ".SH GLOBAL OPTIONS",
    ...optionLines(root),
    ".SH ENVIRONMENT",
    ".TP",
    ".B GANETI_RAPI_URL, GANETI_RAPI_USER, GANETI_RAPI_PASSWORD, GANETI_RAPI_CA, GANETI_RAPI_FINGERPRINT, GANETI_RAPI_INSECURE",
    roff("The connection, as the options of the same names."),
    ".TP",
    ".B GANETI_DATA_DIR",
    roff("The master's data directory (default for the local verbs and the control socket)."),
    ".SH SEE ALSO",
    groups.map((c) => `gnt\\-${roff(c.name())}(8)`).join(", ") + ", hbal(1), hail(1), hspace(1)",
  ];
  return lines.join("\n") + "\n";
}

/** A bash completion script with the tree as data: path -> words. */
function completion(root: Command): string {
  const subs: Record<string, string[]> = {};
  const opts: Record<string, string[]> = {};
  const valued: Set<string> = new Set();
  const choices: Record<string, string[]> = {};
  const walk = (c: Command, key: string) => {
    subs[key] = visible(c).map((s) => s.name());
    opts[key] = [];
    for (const o of options(c)) {
      for (const f of [o.short, o.long]) {
        if (!f) continue;
        opts[key].push(f);
        if (o.required || o.optional) valued.add(f);
        if (o.argChoices) choices[f] = o.argChoices;
      }
    }
    opts[key].push("--help");
    for (const s of visible(c)) walk(s, key ? `${key} ${s.name()}` : s.name());
  };
  walk(root, "");
  const q = (s: string) => `'${s.replace(/'/g, "'\\''")}'`;
  const assoc = (name: string, m: Record<string, string[]>) =>
    `  local -A ${name}=(\n${Object.entries(m)
      .map(([k, v]) => `    [${q(k || "-")}]=${q(v.join(" "))}`)
      .join("\n")}\n  )`;
  return `# bash completion for gnt (generated from its command tree by cli/scripts/gen-docs.ts)
_gnt() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}"
${assoc("subs", subs)}
${assoc("opts", opts)}
${assoc("choices", choices)}
  local valued=${q(" " + [...valued].join(" ") + " ")}
  local path="" i w skip=0
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    if ((skip)); then skip=0; continue; fi
    if [[ $w == -* ]]; then
      [[ $valued == *" $w "* ]] && skip=1
      continue
    fi
    local next="\${path:+$path }$w"
    [[ -n \${subs[$next]+x} ]] && path="$next"
  done
  if [[ -n \${choices[$prev]+x} ]]; then
    COMPREPLY=($(compgen -W "\${choices[$prev]}" -- "$cur"))
    return
  fi
  [[ $valued == *" $prev "* ]] && return
  local key="\${path:--}"
  if [[ $cur == -* ]]; then
    COMPREPLY=($(compgen -W "\${opts[$key]} \${opts[-]}" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "\${subs[$key]}" -- "$cur"))
  fi
}
complete -o default -F _gnt gnt
`;
}

export function generate(outDir: string): string[] {
  const root = tree();
  const written: string[] = [];
  const put = (rel: string, text: string) => {
    const f = path.join(outDir, rel);
    mkdirSync(path.dirname(f), { recursive: true });
    writeFileSync(f, text);
    written.push(rel);
  };
  put("man8/gnt.8", mainPage(root));
  for (const c of visible(root)) if (visible(c).length > 0) put(`man8/gnt-${c.name()}.8`, commandPage(c));
  put("bash-completion/gnt", completion(root));
  return written;
}

if (process.argv[1] && path.resolve(process.argv[1]).endsWith(path.join("cli", "scripts", "gen-docs.ts"))) {
  const out = process.argv[2];
  if (!out) {
    process.stderr.write("usage: gen-docs.ts OUTDIR\n");
    process.exit(2);
  }
  for (const f of generate(out)) process.stdout.write(`${f}\n`);
}
