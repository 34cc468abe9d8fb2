// (Regexes are matched with ^/$ at line boundaries, as regex-tdfa does.)
// A small reader/runner for Ganeti's shelltest files (shelltestrunner v1
// format) so that test/hs/shelltests/htools-*.test run against our CLIs.
import { spawnSync } from "node:child_process";

export type Expect = { kind: "regex"; negate: boolean; re: RegExp; src: string } | { kind: "literal"; text: string };

export interface ShellTest {
  file: string;
  line: number;
  command: string;
  stdin: string | null;
  stdout: Expect | null;
  stderr: Expect | null;
  exit: { negate: boolean; code: number } | null;
}

function parseExpect(first: string, lines: string[], i: number): { e: Expect; next: number } {
  const rest = first.trim();
  if (rest === "") {
    const body: string[] = [];
    let k = i;
    while (k < lines.length && !lines[k]!.startsWith(">>>")) body.push(lines[k++]!);
    return { e: { kind: "literal", text: body.map((l) => l + "\n").join("") }, next: k };
  }
  const negate = rest.startsWith("!");
  let src = negate ? rest.slice(1) : rest;
  let k = i;
  // a regex may span several lines, up to the closing slash
  while (!(src.length > 1 && src.endsWith("/"))) {
    if (k >= lines.length) throw new Error(`unterminated regex: ${rest}`);
    src += "\n" + lines[k++]!;
  }
  const body = src.slice(1, -1);
  return { e: { kind: "regex", negate, re: new RegExp(body, "m"), src: body }, next: k };
}

export function parseShellTests(file: string, text: string): ShellTest[] {
  const lines = text.split("\n");
  const tests: ShellTest[] = [];
  let cur: ShellTest | null = null;
  let i = 0;
  while (i < lines.length) {
    const l = lines[i]!;
    if (l.startsWith(">>>=")) {
      const v = l.slice(4).trim();
      const negate = v.startsWith("!");
      cur!.exit = { negate, code: Number(negate ? v.slice(1) : v) };
      i++;
    } else if (l.startsWith(">>>2")) {
      const r = parseExpect(l.slice(4), lines, i + 1);
      cur!.stderr = r.e;
      i = r.next;
    } else if (l.startsWith(">>>")) {
      const r = parseExpect(l.slice(3), lines, i + 1);
      cur!.stdout = r.e;
      i = r.next;
    } else if (l.startsWith("<<<")) {
      const body: string[] = [];
      i++;
      while (i < lines.length && !lines[i]!.startsWith(">>>")) body.push(lines[i++]!);
      cur!.stdin = body.map((x) => x + "\n").join("");
    } else if (l.trim() === "" || l.startsWith("#")) i++;
    else {
      cur = { file, line: i + 1, command: l, stdin: null, stdout: null, stderr: null, exit: null };
      tests.push(cur);
      i++;
    }
  }
  return tests;
}

export interface RunResult {
  ok: boolean;
  problems: string[];
  stdout: string;
  stderr: string;
  code: number;
}

function check(what: string, e: Expect | null, got: string, problems: string[]): void {
  if (!e) return;
  if (e.kind === "literal") {
    if (got !== e.text) problems.push(`${what}: expected ${JSON.stringify(e.text)}, got ${JSON.stringify(got.slice(0, 2000))}`);
  } else {
    const m = e.re.test(got);
    if (m === e.negate)
      problems.push(`${what}: ${e.negate ? "unexpected match" : "no match"} for /${e.src}/ in ${JSON.stringify(got.slice(0, 2000))}`);
  }
}

export function runShellTest(t: ShellTest, cwd: string, env: NodeJS.ProcessEnv, rewrite: (cmd: string) => string): RunResult {
  const r = spawnSync("bash", ["-c", rewrite(t.command)], {
    cwd,
    env,
    input: t.stdin ?? "",
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  if (r.error) throw r.error;
  const code = r.status ?? 128;
  const problems: string[] = [];
  check("stdout", t.stdout, r.stdout, problems);
  check("stderr", t.stderr, r.stderr, problems);
  if (t.exit && (code === t.exit.code) === t.exit.negate)
    problems.push(`exit code ${code}, expected ${t.exit.negate ? "!" : ""}${t.exit.code}`);
  return { ok: problems.length === 0, problems, stdout: r.stdout, stderr: r.stderr, code };
}
