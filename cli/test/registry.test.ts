// Registry completeness for the CLI (house rule 4, see docs/architecture.md):
// every verb of docs/cli.md's "Nouns and verbs" table, and every `gnt NOUN
// VERB` written anywhere in README.md or docs/*.md, resolves to a command
// with a handler; and every registered verb is in that table.
import { readFileSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { Command } from "commander";
import { describe, expect, it } from "vitest";
import { registerLocalCommands } from "../src/commands/local.js";
import { buildProgram } from "../src/program.js";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const { program } = buildProgram({
  io: { out: () => undefined, err: () => undefined, isTTY: false },
  env: {},
  registerLocal: registerLocalCommands,
});

const sub = (c: Command, name: string) => c.commands.find((x) => x.name() === name || x.aliases().includes(name));
const hasHandler = (c: Command) => typeof Reflect.get(c, "_actionHandler") === "function";

/** Documented verbs from the table: "instance startup", "node power on", ... */
function tableVerbs(): string[] {
  const doc = readFileSync(path.join(REPO, "docs/cli.md"), "utf8");
  const section = doc.split("## Nouns and verbs")[1]!.split("\n## ")[0]!;
  const out: string[] = [];
  for (const row of section.split("\n").filter((l) => /^\| `/.test(l))) {
    const [, nounCell = "", verbCell = ""] = row.split("|").map((s) => s.trim());
    const noun = nounCell.replace(/`/g, "");
    if (!/`/.test(verbCell)) {
      out.push(noun); // a noun that is itself a command (`gnt watcher`)
      continue;
    }
    if (/tags verbs/.test(verbCell)) out.push(...["add-tags", "remove-tags", "list-tags"].map((v) => `${noun} ${v}`));
    // `verb` optionally followed by (`x`, `y`): aliases, or subcommands when the verb has some.
    for (const m of verbCell.matchAll(/`([a-z-]+)`(?: \(([^)]*)\))?/g)) {
      const verb = m[1]!;
      const inner = [...(m[2] ?? "").matchAll(/`([a-z-]+)`/g)].map((x) => x[1]!);
      const cmd = sub(sub(program, noun) ?? program, verb);
      out.push(`${noun} ${verb}`);
      for (const x of inner) {
        if (cmd?.aliases().includes(x)) out.push(`${noun} ${x}`);
        else if (cmd && cmd.commands.length > 0) out.push(`${noun} ${verb} ${x}`);
        // A subcommand taken as the verb's first argument (`gnt node power on`).
        else if (!cmd?.registeredArguments[0]?.description.includes(x)) out.push(`${noun} ${verb} ${x} (no such argument)`);
      }
    }
  }
  return out;
}

/** `gnt noun verb [sub]` (and `gnt-noun verb`) as written in README.md and docs/*.md. */
function writtenCommands(): string[] {
  const files = [
    path.join(REPO, "README.md"),
    ...readdirSync(path.join(REPO, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => path.join(REPO, "docs", f)),
  ];
  const out = new Set<string>();
  for (const f of files) {
    const text = readFileSync(f, "utf8");
    // Only code: fenced blocks and inline code spans (which may wrap lines).
    const fenced = [...text.matchAll(/^```[^\n]*\n([\s\S]*?)^```/gm)].map((m) => m[1]!.replace(/(^|\s)#.*$/gm, ""));
    const inline = [...text.replace(/^```[^\n]*\n[\s\S]*?^```/gm, "").matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s+/g, " "));
    for (const m of [...fenced, ...inline].join("\n").matchAll(/\bgnt(?:-([a-z]+))?((?: [a-z][a-z-]*){1,3})/g)) {
      const words = [...(m[1] ? [m[1]] : []), ...m[2]!.trim().split(" ")];
      out.add(`${path.relative(REPO, f)}: ${words.join(" ")}`);
    }
  }
  return [...out];
}

/** Walk the words down the tree; the deepest command reached must have a handler. */
function resolves(words: string[]): boolean {
  let cmd: Command = program;
  let used = 0;
  for (const w of words) {
    const next = sub(cmd, w);
    if (!next) break;
    cmd = next;
    used++;
  }
  // A group named on its own (`gnt daemon`) is fine; a group followed by an unknown verb is not.
  return cmd !== program && (hasHandler(cmd) || (cmd.commands.length > 0 && used === words.length));
}

describe("CLI registry completeness", () => {
  it("every verb of docs/cli.md's table maps to a handler", () => {
    const verbs = tableVerbs();
    expect(verbs.length).toBeGreaterThan(60);
    expect(verbs.filter((v) => !resolves(v.split(" ")))).toEqual([]);
  });

  it("every `gnt NOUN VERB` written in README.md and docs/ maps to a handler", () => {
    const written = writtenCommands();
    expect(written.length).toBeGreaterThan(20);
    expect(written.filter((w) => !resolves(w.split(": ")[1]!.split(" ")))).toEqual([]);
  });

  it("every registered verb is in docs/cli.md's table (or README's local commands)", () => {
    const documented = new Set(tableVerbs());
    const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
    const missing: string[] = [];
    const walk = (c: Command, prefix: string[]) => {
      for (const s of c.commands) {
        const words = [...prefix, s.name()];
        if (hasHandler(s) && !documented.has(words.join(" ")) && !readme.includes(`gnt ${words.join(" ")}`)) missing.push(words.join(" "));
        walk(s, words);
      }
    };
    walk(program, []);
    expect(missing).toEqual([]);
  });
});
