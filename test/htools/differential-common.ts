// What the differential tests of our htools against Ganeti's own binaries
// share: where Ganeti's binaries and the testsuite corpus are, how a tool
// is run, and the synthetic clusters made by the benchmark harness's gen.py
// ($HTOOLS_GEN).
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "../..");
export const DATA = execFileSync(join(REPO, "scripts/ensure-ganeti-testsuite.sh"), { encoding: "utf8" }).trim();
const GEN = process.env.HTOOLS_GEN ?? "/work/shared/bench/htools/gen.py";

/** Debian's Ganeti 3.0.2 binaries (package `ganeti`). */
export const GANETI = {
  hbal: "/usr/bin/hbal",
  hspace: "/usr/bin/hspace",
  hail: "/usr/lib/ganeti/iallocators/hail",
  hinfo: "/usr/bin/hinfo",
  hcheck: "/usr/bin/hcheck",
};
export type Tool = keyof typeof GANETI;

export interface ToolRun {
  out: string;
  err: string;
  code: number;
}

function run(cmd: string, args: string[]): ToolRun {
  const r = spawnSync(cmd, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  if (r.error) throw r.error;
  // A signal is not an answer to compare: say which (a kill from outside, not a difference).
  if (r.signal) throw new Error(`${cmd} ${args.join(" ")} was ended by ${r.signal}`);
  return { out: r.stdout, err: r.stderr, code: r.status ?? 128 };
}

/** The same arguments through Ganeti's binary and ours. */
export function runBoth(tool: Tool, args: string[]): { theirs: ToolRun; ours: ToolRun } {
  return { theirs: run(GANETI[tool], args), ours: run("node", [join(REPO, "server/bin", `${tool}.js`), ...args]) };
}

export function requireGaneti(tools: Tool[]): void {
  for (const t of tools) if (!existsSync(GANETI[t])) throw new Error(`Ganeti's ${GANETI[t]} is required (apt-get install ganeti)`);
}

const SYNTHETIC: Record<string, string[]> = {
  d8: ["--nodes", "8", "--instances", "40", "--seed", "11"],
  d10f: ["--nodes", "10", "--instances", "50", "--groups", "2", "--hetero", "--excl-tags", "--locations", "--offline", "1", "--seed", "12"],
  d12: ["--nodes", "12", "--instances", "60", "--seed", "13", "--imbalance", "1.0"],
  // racked (bench/htools/racked.py's r30): two groups, heterogeneous and
  // offline nodes, location tags (racks of 8) and exclusion tags
  r30: ["--nodes", "30", "--instances", "150", "--seed", "30", "--groups", "2", "--hetero", "--excl-tags", "--locations", "--offline", "2"],
};

/** Generate the named synthetic clusters into a new temp dir (NAME.data, NAME.req-*); the caller removes it. */
export function syntheticClusters(names: (keyof typeof SYNTHETIC)[], prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const name of names) execFileSync("python3", [GEN, ...SYNTHETIC[name]!, "--out", join(dir, name)]);
  return dir;
}
