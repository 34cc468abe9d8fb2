// Start-up benchmark of the gnt CLI (a measurement, not a test): whole-process
// times of `gnt --version` and `gnt instance list` on a local one-node
// cluster with 200 instances (fake hypervisor, diskless), run three ways,
// interleaved run by run (A B C A B C ...) so that drift in the machine's
// load hits all alike:
//   tsx:    node cli/bin/gnt.js      (the TypeScript sources through tsx: before)
//   built:  node cli/dist/gnt.cjs    (what `gnt` is after `npm install -g` or the
//                                     Debian package: the bundle with its code cache)
//   Ganeti: /usr/sbin/gnt-instance   (Debian's Ganeti 3.0.2; without a Ganeti
//                                     cluster on this machine its `list` stops at
//                                     "Cluster not initialized": a lower bound)
// Each run is timed by /usr/bin/time (wall, user, sys); the table gives the
// median and the range.
// Run: npm run build && npx tsx bench/startup/run.ts [--instances 200] [--runs 11]
import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { cpus, loadavg, tmpdir } from "node:os";
import path from "node:path";
import { parseArgs, promisify } from "node:util";
import { startLocalCluster, type LocalCluster, REPO } from "../../test/helpers/cluster.js";
import { createBody, rapiClient, waitFinal } from "../../test/durability/helpers.js";

const run = promisify(execFile);
const { values } = parseArgs({
  options: {
    instances: { type: "string", default: "200" },
    runs: { type: "string", default: "11" },
  },
});
const N_INSTANCES = Number(values.instances);
const RUNS = Number(values.runs);
const BUILT = path.join(REPO, "cli/dist/gnt.cjs");
const GANETI = "/usr/sbin/gnt-instance";

interface Variant {
  name: string;
  argv: (args: string[]) => string[];
}

const variants: Variant[] = [
  { name: "tsx (before)", argv: (a) => [process.execPath, path.join(REPO, "cli/bin/gnt.js"), ...a] },
  { name: "built (after)", argv: (a) => [process.execPath, BUILT, ...a] },
  // gnt-instance is `gnt instance`: drop the noun.
  { name: "Ganeti 3.0.2 gnt-instance", argv: (a) => [GANETI, ...(a[0] === "instance" ? a.slice(1) : a)] },
];

interface Sample {
  wall: number;
  user: number;
  sys: number;
  code: number;
  lines: number;
}

async function timed(argv: string[], env: NodeJS.ProcessEnv, timeFile: string): Promise<Sample> {
  let code = 0;
  let stdout = "";
  try {
    ({ stdout } = await run("/usr/bin/time", ["-o", timeFile, "-f", "%e %U %S", ...argv], { env, maxBuffer: 16 << 20 }));
  } catch (err) {
    const e = err as { code?: number; stdout?: string };
    code = typeof e.code === "number" ? e.code : -1;
    stdout = e.stdout ?? "";
  }
  const last = (await readFile(timeFile, "utf8")).trim().split("\n").pop() ?? "";
  const [wall, user, sys] = last.split(" ").map(Number);
  return { wall: wall!, user: user!, sys: sys!, code, lines: stdout.split("\n").filter(Boolean).length };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const range = (xs: number[]) => `${Math.min(...xs).toFixed(2)}-${Math.max(...xs).toFixed(2)}`;

async function main(): Promise<void> {
  if (!existsSync(BUILT)) throw new Error(`${BUILT} is missing: run \`npm run build\` first`);
  const tmp = await mkdtemp(path.join(tmpdir(), "gts-startup-"));
  let c: LocalCluster | undefined;
  try {
    console.error("starting a one-node cluster...");
    c = await startLocalCluster({ nodes: 1 });
    const rapi = await rapiClient(c, c.url);
    const node = c.nodes[0]!;
    console.error(`creating ${N_INSTANCES} instances...`);
    const names = Array.from({ length: N_INSTANCES }, (_, i) => `start-${String(i + 1).padStart(4, "0")}.example.com`);
    for (let i = 0; i < names.length; i += 16) {
      const ids: number[] = [];
      for (const name of names.slice(i, i + 16)) {
        const r = await rapi.call<number>("POST", "/2/instances", { ...createBody(name, node), start: false });
        if (r.status !== 200) throw new Error(`create ${name}: HTTP ${r.status}`);
        ids.push(r.body);
      }
      const st = await waitFinal(rapi, ids, 600_000);
      for (const [id, s] of st) if (s !== "success") throw new Error(`create job ${id}: ${s}`);
    }
    const env = { ...process.env, ...c.env() };
    const commands = [["--version"], ["instance", "list"]];
    const results = new Map<string, Sample[]>();
    const load: number[] = [];
    for (let r = 0; r <= RUNS; r++) {
      load.push(loadavg()[0]!);
      for (const args of commands) {
        for (const v of variants) {
          const s = await timed(v.argv(args), env, path.join(tmp, "time"));
          if (r === 0) continue; // warm-up
          const key = `${args.join(" ")}|${v.name}`;
          results.set(key, [...(results.get(key) ?? []), s]);
        }
      }
    }
    const rows: string[] = [];
    for (const args of commands) {
      const base = median(results.get(`${args.join(" ")}|tsx (before)`)!.map((s) => s.wall));
      for (const v of variants) {
        const ss = results.get(`${args.join(" ")}|${v.name}`)!;
        const wall = ss.map((s) => s.wall);
        const cmd = v.name.startsWith("Ganeti")
          ? `gnt-instance ${args[0] === "instance" ? args.slice(1).join(" ") : args.join(" ")}`
          : `gnt ${args.join(" ")}`;
        const note = `exit ${[...new Set(ss.map((s) => s.code))].join("/")}, ${median(ss.map((s) => s.lines))} lines`;
        rows.push(
          `| \`${cmd}\` | ${v.name} | ${median(wall).toFixed(2)} (${range(wall)}) | ${median(ss.map((s) => s.user)).toFixed(2)} | ${median(ss.map((s) => s.sys)).toFixed(2)} | ${(base / median(wall)).toFixed(1)}× | ${note} |`,
        );
      }
    }
    console.log(
      `Run: \`npx tsx bench/startup/run.ts --instances ${N_INSTANCES} --runs ${RUNS}\` on ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} CPU(s), load average ${Math.min(...load).toFixed(1)}-${Math.max(...load).toFixed(1)}.`,
    );
    console.log("");
    console.log("| command | variant | wall s, median (range) | user s | sys s | speed-up vs tsx | runs |");
    console.log("| --- | --- | ---: | ---: | ---: | ---: | --- |");
    for (const r of rows) console.log(r);
  } finally {
    await c?.destroy();
    await rm(tmp, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exitCode = 1;
});
