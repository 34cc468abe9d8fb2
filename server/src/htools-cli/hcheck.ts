// hcheck: cluster checker (Ganeti's hcheck; read-only): per-group and
// cluster health statistics, before and after a simulated rebalance.
import "./v8-tuning.js";
import { hsFixed } from "../htools/format.js";
import { showWarnings, COMMON_OPTS, type OptSpec, type Opts, runMain, loadExternalData, verbosity, out, startTool } from "./common.js";
import { HtoolsError } from "../htools/types.js";
import type { Node } from "../htools/node.js";
import type { Instance } from "../htools/types.js";
import { setNodeStatus, splitCluster } from "../htools/loader.js";
import { conflictingPrimaries } from "../htools/node.js";
import { compCV, optimalCVScore as optimalScore } from "../htools/metrics.js";
import { balanceGroup } from "../htools/balance.js";
import { evacuableNodes } from "../htools/alloc.js";
import { badItems } from "./health.js";

const COMMON_KEYS = ["dataFile", "iallocSrc", "luxi", "rapiUser", "rapiPasswordFile", "rapiCa", "offline", "quiet", "master", "verbose"];
const SPECS: OptSpec[] = [
  ...COMMON_OPTS.filter((s) =>
    [...COMMON_KEYS, "utilFile", "ignoreDynu", "ignoreSoftErrors", "noCapacity", "help", "version", "helpCompletion"].includes(s.key),
  ),
  { long: ["no-disk-moves"], arg: "none", key: "noDiskMoves", help: "do not move disks (failovers only)" },
  { short: "E", long: ["evac-mode"], arg: "none", key: "evacMode", help: "only move instances away from offline nodes" },
  { long: ["exclude-instances"], arg: "req", key: "exInsts", help: "instances never to move" },
  { long: ["exclusion-tags"], arg: "req", key: "exTags", help: "comma-separated exclusion tag prefixes" },
  { long: ["no-instance-moves"], arg: "none", key: "noInstanceMoves", help: "do not migrate instances (disk moves only)" },
  { long: ["machine-readable"], arg: "opt", key: "machineReadable", help: "print HCHECK_* shell assignments" },
  { long: ["mcpu", "max-cpu"], arg: "req", key: "mcpu", help: "maximum virtual-to-physical cpu ratio" },
  { short: "l", long: ["max-length"], arg: "req", key: "maxLength", help: "cap the simulated solution at this many moves" },
  { long: ["min-disk"], arg: "req", key: "mdsk", help: "minimum free disk ratio" },
  { short: "g", long: ["min-gain"], arg: "req", key: "minGain", help: "minimum gain per step (default 0.01)" },
  { long: ["min-gain-limit"], arg: "req", key: "minGainLimit", help: "apply --min-gain only below this score (default 0.1)" },
  { short: "e", long: ["min-score"], arg: "req", key: "minScore", help: "stop below this score (default 1e-9)" },
  { long: ["no-simulation"], arg: "none", key: "noSim", help: "do not simulate a rebalance" },
  { long: ["select-instances"], arg: "req", key: "selInsts", help: "only move these instances" },
];

const list = (v: unknown): string[] => (typeof v === "string" ? v.split(",").filter((x) => x) : []);
const num = (v: unknown, d: number): number => (typeof v === "string" ? Number(v) : d);

const BASE_DATA: Array<[string, string]> = [
  ["N1_FAIL", "Nodes not N+1 happy"],
  ["CONFLICT_TAGS", "Nodes with conflicting instances"],
  ["OFFLINE_PRI", "Instances having the primary node offline"],
  ["OFFLINE_SEC", "Instances having a secondary node offline"],
];
/** The global N+1 statistic, left out (key and value) with --no-capacity-checks. */
const GN1_DATA: [string, string] = ["GN1_FAIL", "Nodes not directly evacuateable"];
let COMMON_DATA: Array<[string, string]> = [...BASE_DATA, GN1_DATA];
let capacity = true;
const groupData = (): Array<[string, string]> => [...COMMON_DATA, ["SCORE", "Group score"]];
const clusterData = (): Array<[string, string]> => [...COMMON_DATA, ["NEED_REBALANCE", "Cluster is not healthy"]];

type Phase = "Initial" | "Rebalanced";
/** A group's (or the cluster's) node and instance index lists over full node/instance arrays. */
interface GroupState {
  gdx: number;
  nodes: readonly Node[];
  insts: readonly Instance[];
  members: number[];
  groupInsts: number[];
}

function keys(kv: Array<[string, string]>): void {
  // shell-safe values as Ganeti's printKeys writes them
  for (const [k, v] of kv) out(`HCHECK_${k}=${/^[A-Za-z0-9.]*$/.test(v) ? v : `'${v}'`}\n`);
}

function printStats(verbose: number, mr: boolean, level: { group: string } | null, phase: Phase, values: string[]): void {
  // keys and descriptions are zipped with the values: the shorter list wins
  const data = (level ? groupData() : clusterData()).slice(0, values.length);
  if (mr) {
    const pp = phase === "Initial" ? "INIT" : "FINAL";
    const lp = level ? `GROUP_${level.group}` : "CLUSTER";
    keys(data.map(([k], i) => [`${pp}_${lp}_${k}`, values[i]!]));
    return;
  }
  if (verbose < 1) return;
  const pd = phase === "Initial" ? "initially" : "after rebalancing";
  out("\n" + (level ? `Statistics for group ${level.group} ${pd}\n` : `Cluster statistics ${pd}\n`));
  for (let i = 0; i < data.length; i++) out(`    ${data[i]![1]}: ${values[i]}\n`);
}

/** Ganeti's perGroupChecks: [n1 failures, conflicting-tag nodes, offline primaries, offline "secondaries", global N+1 failures] and the score. */
function groupChecks(g: GroupState): { stats: number[]; score: number } {
  const nl = g.members.map((k) => g.nodes[k]!);
  const off = nl.filter((n) => n.offline);
  const n1 = badItems(nl).nodes;
  const gn1 = capacity ? evacuableNodes(g.nodes, g.insts as Instance[], g.members).filter((ok) => !ok).length : 0;
  const conflict = nl.filter((n) => conflictingPrimaries(n) > 0).length;
  const offPri = off.reduce((s, n) => s + n.pList.length, 0);
  // Ganeti counts the offline nodes here (the length of their list of secondary lists)
  const offSec = off.length;
  return { stats: capacity ? [n1, conflict, offPri, offSec, gn1] : [n1, conflict, offPri, offSec], score: compCV(nl) };
}

function simulate(o: Opts, g: GroupState): GroupState {
  const r = balanceGroup(g.nodes, g.insts, g.members, g.groupInsts, {
    ignoreSoftErrors: !!o.ignoreSoftErrors,
    noDiskMoves: !!o.noDiskMoves,
    noInstanceMoves: !!o.noInstanceMoves,
    evacMode: !!o.evacMode,
    maxLength: num(o.maxLength, -1),
    minGain: num(o.minGain, 0.01),
    minGainLimit: num(o.minGainLimit, 0.1),
    minScore: num(o.minScore, 1e-9),
  });
  return { ...g, nodes: r.nodes, insts: r.instances };
}

async function main(): Promise<number> {
  const cmd = startTool("hcheck", SPECS);
  if (typeof cmd === "number") return cmd;
  const { opts: o, args } = cmd;
  if (args.length > 0) throw new HtoolsError("This program doesn't take any arguments.");
  const verbose = verbosity(o);
  const mr = o.machineReadable !== undefined && o.machineReadable !== "no";
  const noSim = !!o.noSim;
  capacity = !o.noCapacity;
  if (!capacity) COMMON_DATA = BASE_DATA;
  const { cd, warnings } = await loadExternalData(o, {
    exclusionTags: list(o.exTags),
    excludeInstances: list(o.exInsts),
    selectInstances: list(o.selInsts),
  });
  if (verbose !== 0) showWarnings(warnings);
  setNodeStatus(cd, {
    offline: (o.offline as string[] | undefined) ?? [],
    mcpu: o.mcpu !== undefined ? Number(o.mcpu) : undefined,
    mdsk: num(o.mdsk, 0),
  });
  const split: GroupState[] = splitCluster(cd.nodes, cd.instances).map((g) => ({
    gdx: g.gdx,
    nodes: cd.nodes,
    insts: cd.instances,
    members: g.nodes,
    groupInsts: g.instances,
  }));
  if (mr) keys(cd.groups.map((g) => [`GROUP_UUID_${g.idx}`, g.uuid]));

  const groupName = (g: GroupState): string => (mr ? String(g.gdx) : cd.groups[g.gdx]!.name);
  const report = (phase: Phase, states: GroupState[], needRebalance: boolean | null): boolean => {
    const per = states.map((g) => ({ g, ...groupChecks(g) }));
    for (const p of per) printStats(verbose, mr, { group: groupName(p.g) }, phase, [...p.stats.map(String), hsFixed(p.score, 8)]);
    // (Ganeti sums the groups' columns by transposing their rows: no group, no column)
    const total = per.length === 0 ? [] : COMMON_DATA.map((_, k) => per.reduce((s, p) => s + p.stats[k]!, 0));
    const need = needRebalance ?? total.reduce((a, b) => a + b, 0) > 0;
    printStats(verbose, mr, null, phase, [...total.map(String), mr ? (need ? "1" : "0") : need ? "True" : "False"]);
    return need;
  };

  // (the initial checks are printed after the headline, which needs their sum)
  const initialNeed = split.map((g) => groupChecks(g).stats.reduce((a, b) => a + b, 0)).some((s) => s > 0);
  if (verbose >= 1 && !mr)
    out(
      noSim
        ? "Running in no-simulation mode.\n"
        : initialNeed
          ? "Cluster needs rebalancing.\n"
          : "No need to rebalance cluster, no problems found.\n",
    );
  const need = report("Initial", split, null);
  const doSim = !noSim && need;
  if (doSim || mr) {
    const minScore = num(o.minScore, 1e-9);
    const after = doSim
      ? split.map((g) => {
          const nl = g.members.map((k) => g.nodes[k]!);
          return compCV(nl) < minScore + optimalScore(nl) ? g : simulate(o, g);
        })
      : split;
    // Ganeti reports the initial need to rebalance after the simulation too
    report("Rebalanced", after, need);
  }
  if (mr) keys([["OK", "1"]]);
  return noSim || !need ? 0 : 1;
}

void runMain("hcheck", main);
