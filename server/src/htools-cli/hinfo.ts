// hinfo: cluster information printer (Ganeti's hinfo; read-only).
import "./v8-tuning.js";
import { hsFixed } from "../htools/format.js";
import {
  showWarnings,
  COMMON_OPTS,
  type OptSpec,
  runMain,
  loadExternalData,
  verbosity,
  out,
  err,
  printNodes,
  printInsts,
  nodeFieldsOpt,
  startTool,
} from "./common.js";
import { HtoolsError } from "../htools/types.js";
import { setNodeStatus, splitCluster, commonSuffix, instanceGroupOk } from "../htools/loader.js";
import { showIPolicy } from "../htools/text.js";
import { printStatsTable, compCV, formatTable } from "../htools/metrics.js";
import { badItems } from "./health.js";

// hinfo's options are a subset of the common ones (Ganeti: -p, --print-instances, -t, -m, -L, -I, -v, -q, -O)
const SPECS: OptSpec[] = COMMON_OPTS.filter((s) =>
  [
    "printNodes",
    "printInsts",
    "dataFile",
    "master",
    "luxi",
    "rapiUser",
    "rapiPasswordFile",
    "rapiCa",
    "iallocSrc",
    "verbose",
    "quiet",
    "offline",
    "ignoreDynu",
    "mond",
    "mondData",
    "staticKvm",
    "help",
    "version",
    "helpCompletion",
  ].includes(s.key),
);

const plural = (n: number, one: string, many: string): string => (n === 1 ? one : many);

async function main(): Promise<number> {
  const cmd = startTool("hinfo", SPECS);
  if (typeof cmd === "number") return cmd;
  const { opts: o, args } = cmd;
  if (args.length > 0) throw new HtoolsError("This program doesn't take any arguments.");
  const verbose = verbosity(o);
  const { cd, warnings } = await loadExternalData(o);
  if (verbose !== 0) showWarnings(warnings);
  out(`Loaded cluster tags: ${cd.tags.join(",")}\n`);
  if (verbose > 2) out(`Loaded cluster ipolicy: ${showIPolicy(cd.ipolicy)}\n`);
  setNodeStatus(cd, { offline: (o.offline as string[] | undefined) ?? [] });

  // commonInfo
  if (cd.instances.length === 0 && verbose > 1) out("Cluster is empty.\n");
  const nn = cd.nodes.length;
  const ni = cd.instances.length;
  const ng = cd.groups.length;
  out(
    `Loaded ${nn} ${plural(nn, "node", "nodes")}, ${ni} ${plural(ni, "instance", "instances")}, ${ng} ${plural(ng, "node group", "node groups")}\n`,
  );
  const csf = commonSuffix(cd);
  if (csf && verbose > 2) out(`Note: Stripping common suffix of '${csf}' from names\n`);

  // split instances
  const split = cd.instances.filter((i) => !instanceGroupOk(cd.nodes, i));
  if (split.length === 0) {
    if (verbose > 1) out("No split instances found\n");
  } else {
    out("Found instances belonging to multiple node groups:\n");
    for (const i of split) err(`  ${i.name}\n`);
  }

  // group information
  const rows = splitCluster(cd.nodes, cd.instances).map((g) => {
    const nl = g.nodes.map((k) => cd.nodes[k]!);
    const bad = badItems(nl);
    return {
      name: cd.groups[g.gdx]!.name,
      cells: [String(nl.length), String(g.instances.length), String(bad.nodes), String(bad.instances)],
      n1: bad.nodes === 0,
      score: compCV(nl),
    };
  });
  if (verbose > 1) {
    const header = ["Group", "Nodes", "Instances", "Bad_Nodes", "Bad_Instances", "N+1", "Score"];
    const table = formatTable(
      "  ",
      header,
      rows.map((r) => [r.name, ...r.cells, r.n1 ? "True" : "False", hsFixed(r.score, 8)]),
      [false, true, true, true, true, false, true],
    );
    out(`Node group information:\n${table}`);
  }
  out(`Cluster is N+1 ${rows.every((r) => r.n1) ? "happy" : "unhappy"}\n`);

  if (o.printInsts) err("\nInstances instance map:\n" + printInsts(cd.nodes, cd.instances));
  const pn = nodeFieldsOpt(o.printNodes);
  if (pn) err("\nCluster status:\n" + printNodes(cd.nodes, pn) + "\n");

  out(`Cluster coefficients:\n${printStatsTable("  ", cd.nodes)}`);
  out(`Cluster score: ${hsFixed(compCV(cd.nodes), 8)}\n`);
  return 0;
}

void runMain("hinfo", main);
