// hbal: cluster balancer (command-line front end of htools/balance.ts).
import "./v8-tuning.js";
import { hsFixed } from "../htools/format.js";
import { writeFileSync } from "node:fs";
import {
  showWarnings,
  COMMON_OPTS,
  type OptSpec,
  type Opts,
  parseArgs,
  runMain,
  loadExternalData,
  verbosity,
  out,
  err,
  saveCluster,
  printNodes,
  printInsts,
  nodeFieldsOpt,
  rapiCredentials,
  resolveLocalMaster,
  startTool,
} from "./common.js";
import { execJobSets, movesToExec, LuxiJobs, RapiJobs, type JobBackend } from "./exec.js";
import { RapiClient } from "./rapi-client.js";
import { HtoolsError } from "../htools/types.js";
import { setNodeStatus, splitCluster, commonSuffix, instanceGroupOk } from "../htools/loader.js";
import { balanceGroup, splitJobs, formatCmds, type MoveStep } from "../htools/balance.js";
import { totalResources } from "../htools/hspace.js";
const showStrList = (xs: string[]): string => `[${xs.map((x) => JSON.stringify(x)).join(",")}]`;
import { showIPolicy } from "../htools/text.js";
import { printStatsTable, compCV, optimalCVScore } from "../htools/metrics.js";

/** Haskell's printf "%.6g" (fixed notation for 0.1 <= |x| < 10^7, else exponent). */
function fmtG(x: number): string {
  if (x === 0 || !Number.isFinite(x)) return x === 0 ? "0.000000" : String(x);
  const e = Math.floor(Math.log10(Math.abs(x))) + 1;
  if (e < 0 || e > 7) return x.toExponential(6).replace(/e\+?/, "e");
  return hsFixed(x, 6);
}
import { getPolicyHealth } from "../htools/node.js";
import { isFail } from "../htools/types.js";

const SPECS: OptSpec[] = [
  ...COMMON_OPTS,
  { short: "G", long: ["group"], arg: "req", key: "group", help: "the target node group (name or UUID)" },
  { short: "l", long: ["max-length"], arg: "req", key: "maxLength", help: "cap the solution at this many moves" },
  { short: "g", long: ["min-gain"], arg: "req", key: "minGain", help: "minimum gain per step (default 0.01)" },
  { long: ["min-gain-limit"], arg: "req", key: "minGainLimit", help: "apply --min-gain only below this score (default 0.1)" },
  { short: "e", long: ["min-score"], arg: "req", key: "minScore", help: "stop below this score (default 1e-9)" },
  { short: "C", long: ["print-commands"], arg: "opt", key: "printCmds", help: "print the gnt-instance commands (or write them to FILE)" },
  { long: ["print-moves"], arg: "none", key: "printMoves", help: "(moves are always printed)" },
  {
    short: "X",
    long: ["exec"],
    arg: "none",
    key: "exec",
    help: "execute the moves (through the master's control socket with -L, through the RAPI with -m)",
  },
  { long: ["evac-mode"], arg: "none", key: "evacMode", help: "only move instances away from offline nodes" },
  { long: ["restricted-migration"], arg: "none", key: "restrictedMigration", help: "do not migrate instances off non-offline primaries" },
  { long: ["no-disk-moves"], arg: "none", key: "noDiskMoves", help: "do not move disks (failovers only)" },
  { long: ["no-instance-moves"], arg: "none", key: "noInstanceMoves", help: "do not migrate instances (disk moves only)" },
  { long: ["exclusion-tags"], arg: "req", key: "exTags", help: "comma-separated exclusion tag prefixes" },
  { long: ["exclude-instances"], arg: "req", key: "exInsts", help: "instances never to move" },
  { long: ["select-instances"], arg: "req", key: "selInsts", help: "only move these instances" },
  { long: ["mcpu", "max-cpu"], arg: "req", key: "mcpu", help: "maximum virtual-to-physical cpu ratio" },
  { long: ["min-disk"], arg: "req", key: "mdsk", help: "minimum free disk ratio" },
  { long: ["priority"], arg: "req", key: "prio", help: "job priority (low, normal, high)" },
  { long: ["prio"], arg: "req", key: "prio", help: "job priority" },
  { long: ["first-job-group"], arg: "none", key: "firstJobGroup", help: "only print the first jobset" },
  { long: ["reason"], arg: "req", key: "reason", help: "reason for the jobs" },
  { long: ["no-simulation"], arg: "none", key: "noSim", help: "(accepted for compatibility)" },
];

const list = (v: unknown): string[] => (typeof v === "string" ? v.split(",").filter((x) => x) : []);
const f = (v: unknown, d: number): number => (typeof v === "string" ? Number(v) : d);

async function main(): Promise<number> {
  const cmd = startTool("hbal", SPECS);
  if (typeof cmd === "number") return cmd;
  const { opts: o, args } = cmd;
  if (args.length > 0) throw new HtoolsError("This program doesn't take any arguments.");
  if (typeof o.prio === "string" && !["low", "normal", "high"].includes(o.prio)) throw new HtoolsError(`Unknown priority '${o.prio}'`);
  const verbose = verbosity(o);
  // Where -X would send the jobs; checked before the (possibly long) computation.
  const jobs = o.exec ? execBackend(o) : null;
  const { cd, warnings } = await loadExternalData(o, {
    exclusionTags: list(o.exTags),
    excludeInstances: list(o.exInsts),
    selectInstances: list(o.selInsts),
  });
  if (verbose > 0) showWarnings(warnings);
  if (verbose > 1) {
    out(`Loaded cluster tags: ${cd.tags.join(",")}\n`);
    out(`Loaded cluster ipolicy: ${showIPolicy(cd.ipolicy)}\n`);
  }
  setNodeStatus(cd, {
    offline: (o.offline as string[] | undefined) ?? [],
    mcpu: o.mcpu !== undefined ? Number(o.mcpu) : undefined,
    mdsk: f(o.mdsk, 0),
  });
  if (cd.instances.length === 0) return (out("Cluster is empty, exiting.\n"), 0);
  const split = cd.instances.filter((i) => !instanceGroupOk(cd.nodes, i));
  if (split.length > 0 && verbose > 1) {
    err("Found instances belonging to multiple node groups:\n");
    for (const i of split) err(`  ${i.name}\n`);
    err("These instances will not be moved.\n");
  }
  out(`Loaded ${cd.nodes.length} nodes, ${cd.instances.length} instances\n`);
  const csf = commonSuffix(cd);
  if (csf && verbose > 1) out(`Note: Stripping common suffix of '${csf}' from names\n`);
  const saved = saveCluster(o.saveCluster as string | undefined, "original", "before balancing", cd);
  if (saved) err(saved);
  const groups = splitCluster(cd.nodes, cd.instances);
  if (groups.length > 1 && o.group === undefined) {
    err("Found multiple node groups:\n");
    for (const g of groups) err(`  ${cd.groups[g.gdx]!.name}\n`);
    throw new HtoolsError("Aborting.");
  }
  let gname: string;
  let gNodes: number[];
  let gInsts: number[];
  if (o.group === undefined) {
    const g = groups[0]!;
    gname = cd.groups[g.gdx]!.name;
    gNodes = g.nodes;
    gInsts = g.instances;
  } else {
    const grp = cd.groups.find((g) => g.name === o.group || g.uuid === o.group);
    if (!grp) {
      err(`Node group ${o.group} not found. Node group list is:\n`);
      for (const g of cd.groups) err(`  ${g.name}\n`);
      throw new HtoolsError("Aborting.");
    }
    gname = grp.name;
    const g = groups.find((x) => x.gdx === grp.idx);
    gNodes = g?.nodes ?? [];
    gInsts = g?.instances ?? [];
  }
  out(`Group size ${gNodes.length} nodes, ${gInsts.length} instances\n`);
  out(`Selected node group: ${gname}\n`);
  const nl = gNodes.map((i) => cd.nodes[i]!);
  const bad = nl.filter((n) => !n.offline && n.failN1);
  const badInsts = new Set(bad.flatMap((n) => [...n.pList, ...n.sList]));
  if (verbose >= 1) out(`Initial check done: ${bad.length} bad nodes, ${badInsts.size} bad instances.\n`);
  const policyBad = nl.filter((n) => !bad.includes(n) && isFail(getPolicyHealth(n)));
  if (verbose > 4) {
    out(`Bad nodes: ${showStrList(bad.map((n) => n.name))}\n`);
    const good = nl.filter((n) => !bad.includes(n));
    out(`N+1 happy nodes: ${showStrList(good.map((n) => n.name))}\n`);
    out(
      `Node policy status: [${good
        .map((n) => {
          const h = getPolicyHealth(n);
          return `(${JSON.stringify(n.name)},${isFail(h) ? "Bad " + h : "Ok ()"})`;
        })
        .join(",")}]\n`,
    );
  }
  if (bad.length > 0) out("Cluster is not N+1 happy, continuing but no guarantee that the cluster will end N+1 happy.\n");
  if (policyBad.length > 0) {
    out(`The cluster contains ${policyBad.length} policy-violating nodes.\n`);
    out(
      o.ignoreSoftErrors
        ? "Continuing, ignoring soft errors.\n"
        : "Continuing, but the set of moves might be too restricted; consider using the --ignore-soft-errors option.\n",
    );
  }
  const gInstObjs = gInsts.map((i) => cd.instances[i]!);
  if (o.printInsts) err("\nInitial instance map:\n" + printInsts(nl, gInstObjs));
  const pn = nodeFieldsOpt(o.printNodes);
  if (pn) err("\nInitial cluster status:\n" + printNodes(nl, pn) + "\n");
  const minScore = f(o.minScore, 1e-9);
  const imlen = Math.max(0, ...gInstObjs.map((i) => i.alias.length));
  const nmlen = Math.max(0, ...nl.map((n) => n.alias.length));
  const pmlen = 2 * nmlen + 1;
  const iniCv = compCV(nl);
  const optCv = optimalCVScore(nl);
  if (verbose > 2) out(`Initial coefficients: overall ${hsFixed(iniCv, 8)}\n` + printStatsTable("  ", nl));
  else out(`Initial score: ${hsFixed(iniCv, 8)}\n`);
  if (iniCv - optCv < minScore) {
    out(
      `Cluster is already well balanced (initial score ${fmtG(iniCv)},\noptimum score due to N+1 reservations ${fmtG(optCv)},\nminimum score ${fmtG(minScore)}).\nNothing to do, exiting\n`,
    );
    return 0;
  }
  out("Trying to minimize the CV...\n");
  const res = balanceGroup(
    cd.nodes,
    cd.instances,
    gNodes,
    gInsts,
    {
      ignoreSoftErrors: !!o.ignoreSoftErrors,
      noDiskMoves: !!o.noDiskMoves,
      noInstanceMoves: !!o.noInstanceMoves,
      restrictedMigration: !!o.restrictedMigration,
      evacMode: !!o.evacMode,
      maxLength: f(o.maxLength, -1),
      minGain: f(o.minGain, 0.01),
      minGainLimit: f(o.minGainLimit, 0.1),
      minScore,
    },
    (m: MoveStep) => {
      const ostr = m.oldSec === null ? m.oldPri : `${m.oldPri}:${m.oldSec}`;
      const nstr = m.newSec === null ? m.newPri : `${m.newPri}:${m.newSec}`;
      out(
        `  ${String(m.step).padStart(3)}. ${m.instName.padEnd(imlen)} ${ostr.padEnd(pmlen)} => ${nstr.padEnd(pmlen)} ${hsFixed(m.score, 8).padStart(12)} a=${m.code}\n`,
      );
    },
  );
  return finish(o, cd, res, verbose, nl, gNodes, minScore, jobs);
}

/**
 * The job backend of -X: -m HOST (not file://) runs the jobs through the
 * RAPI and needs write credentials; -L through the master's control socket.
 * null for the other backends, which cannot execute: their error comes
 * after the computation, as in Ganeti.
 */
function execBackend(o: Opts): (() => JobBackend) | null {
  const ann = {
    ...(typeof o.prio === "string" ? { priority: o.prio } : {}),
    ...(typeof o.reason === "string" ? { reason: o.reason } : {}),
  };
  const master = o.master as string | undefined;
  if (master !== undefined && !master.startsWith("file://")) {
    const creds = rapiCredentials(o);
    if (creds.user === undefined || creds.password === undefined) {
      throw new HtoolsError(
        "hbal: executing the moves through the RAPI needs write credentials: --rapi-user and --rapi-password-file (or GANETI_RAPI_USER and GANETI_RAPI_PASSWORD)",
        "EUSAGE",
      );
    }
    return () => new RapiJobs(new RapiClient(master, creds), ann);
  }
  if (o.luxi !== undefined) {
    const local = resolveLocalMaster(o.luxi as string | true);
    if (local.socket === null) {
      throw new HtoolsError(
        "hbal: -L -X needs the master's control socket: give -L the master's data directory or socket, or set GANETI_DATA_DIR",
        "EUSAGE",
      );
    }
    const socket = local.socket;
    return () => new LuxiJobs(socket, ann);
  }
  return null;
}

async function finish(
  o: ReturnType<typeof parseArgs>["opts"],
  cd: Awaited<ReturnType<typeof loadExternalData>>["cd"],
  res: ReturnType<typeof balanceGroup>,
  verbose: number,
  nl: ReturnType<typeof Array.prototype.slice>,
  gNodes: number[],
  minScore: number,
  jobs: (() => JobBackend) | null,
): Promise<number> {
  void nl;
  const finNodes = gNodes.map((i) => res.nodes[i]!);
  if (res.moves.length === 0) out("No solution found\n");
  else if (verbose > 2) out(`Final coefficients:   overall ${hsFixed(res.finalScore, 8)}\n` + printStatsTable("  ", finNodes));
  else out(`Cluster score improved from ${hsFixed(res.initialScore, 8)} to ${hsFixed(res.finalScore, 8)}\n`);
  if (verbose >= 1) out(`Solution length=${res.moves.length}\n`);
  let sets = splitJobs(res.moves);
  if (o.firstJobGroup) sets = sets.slice(0, 1);
  const cmds = formatCmds(sets);
  const pc = o.printCmds;
  if (pc === true || pc === "-") {
    out("\n" + (o.firstJobGroup ? "First set of jobs:" : "Commands to run to reach the above solution:") + "\n");
    out(
      cmds
        .split("\n")
        .filter((l, k, a) => !(k === a.length - 1 && l === ""))
        .filter((l) => l !== "  check")
        .map((l) => "  " + l + "\n")
        .join(""),
    );
  } else if (typeof pc === "string") {
    writeFileSync(
      pc,
      '#!/bin/sh\n\nset -e\n\ncheck() {\n  echo -n "Checking status of job $1..."\n  gnt-job wait "$1" > /dev/null\n  gnt-job info "$1" | grep -q "Status: success"\n  echo "done"\n}\n\n' +
        cmds,
    );
    out(`The commands have been written to file '${pc}'\n`);
  }
  const gi = new Set(res.instances.filter((i) => gNodes.includes(i.pNode)).map((i) => i.idx));
  const balanced = { ...cd, nodes: finNodes, instances: res.instances.filter((i) => gi.has(i.idx)) };
  const saved = saveCluster(o.saveCluster as string | undefined, "balanced", "after balancing", reindex(balanced));
  if (saved) err(saved);
  if (o.printInsts) err("\nFinal instance map:\n" + printInsts(finNodes, balanced.instances));
  const pn = nodeFieldsOpt(o.printNodes);
  if (pn) err("\nFinal cluster status:\n" + printNodes(finNodes, pn) + "\n");
  if (verbose > 3) {
    const ini = totalResources(gNodes.map((i) => cd.nodes[i]!));
    const fin = totalResources(finNodes);
    out(`Original: mem=${ini.fmem} disk=${ini.fdsk}\nFinal:    mem=${fin.fmem} disk=${fin.fdsk}\n`);
  }
  if (o.exec && res.moves.length > 0) {
    if (!jobs) throw new HtoolsError("hbal: Execution of commands possible only on LUXI");
    await runJobs(jobs(), movesToExec(sets, res.nodes, res.instances), verbose);
  }
  void minScore;
  return 0;
}

/** -X: run the jobsets; the first SIGINT/SIGTERM stops after the current jobset, the second at once. */
async function runJobs(be: JobBackend, sets: ReturnType<typeof movesToExec>, verbose: number): Promise<void> {
  let cancel = 0;
  const onSignal = (): void => {
    cancel++;
    if (cancel === 1) out("Cancel request registered, will exit at the end of the current job set...\n");
    else {
      out("Double cancel request, exiting now...\n");
      process.exit(2);
    }
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    await execJobSets(sets, be, { out, err, verbose, cancelled: () => cancel > 0 });
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
    be.close();
  }
}

/** Serialisation needs instance node references to resolve within the saved subset. */
function reindex<T extends { nodes: { idx: number }[] }>(cd: T): T {
  return cd;
}

// not awaited: the bundles are CommonJS (no top-level await); runMain sets the exit code
void runMain("hbal", main);
