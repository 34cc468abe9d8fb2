// hail: IAllocator plugin (command-line front end of htools/iallocator.ts).
import { oneShotGc } from "./v8-tuning.js";
import {
  readText,
  COMMON_OPTS,
  type OptSpec,
  runMain,
  loadExternalData,
  verbosity,
  out,
  err,
  saveCluster,
  printNodes,
  nodeFieldsOpt,
  showWarnings,
  startTool,
} from "./common.js";
import { HtoolsError } from "../htools/types.js";
import { parseRequest, runRequest, formatResponse } from "../htools/iallocator.js";
import { isDedicated } from "../htools/dedicated.js";

oneShotGc();

const SPECS: OptSpec[] = [
  ...COMMON_OPTS,
  {
    long: ["restrict-allocation-to", "restrict-to-nodes"],
    arg: "req",
    key: "restrict",
    help: "only allocate on these nodes (comma-separated)",
  },
];

async function main(): Promise<number> {
  const cmd = startTool("hail", SPECS);
  if (typeof cmd === "number") return cmd;
  const { opts: o, args } = cmd;
  if (args.length === 0) throw new HtoolsError("This program needs an input file.");
  if (args.length > 1) throw new HtoolsError("Only one argument is accepted (the input file)");
  const verbose = verbosity(o);
  const file = args[0]!;
  const body = readText(file === "-" ? 0 : file);
  const skm = o.staticKvm !== undefined ? Number(o.staticKvm) : 4096;
  const req = parseRequest(body, skm);
  if (req.warnings.length > 0) showWarnings(req.warnings);
  if (o.dataFile !== undefined || (o.simu as string[] | undefined)?.length) {
    const { cd } = await loadExternalData(o);
    req.cluster = cd;
  }
  if (verbose > 1) err(`Received request: ${describeRequest(req.request)}\n`);
  if (verbose > 2)
    err(
      `Received cluster data: ${req.cluster.nodes.length} nodes, ${req.cluster.instances.length} instances\n${req.cluster.instances.map((i) => `  ${i.name}: runSt = ${runStShow(i.runSt)}`).join("\n")}\n`,
    );
  const rq = req.request;
  const grp = rq.type === "allocate" ? rq.group : null;
  if (verbose > 1 && (rq.type === "allocate" || rq.type === "multi-allocate") && isDedicated(req.cluster, grp))
    err("Allocation on a dedicated cluster; using lost-allocations metrics.\n");
  const pn = nodeFieldsOpt(o.printNodes);
  if (pn) err("\nInitial cluster status:\n" + printNodes(req.cluster.nodes, pn) + "\n");
  const s1 = saveCluster(o.saveCluster as string | undefined, "pre-ialloc", "before iallocator run", req.cluster);
  if (s1) err(s1);
  const restrict = typeof o.restrict === "string" ? o.restrict.split(",").filter((x) => x) : null;
  const res = runRequest(req, { ignoreSoftErrors: !!o.ignoreSoftErrors, capacity: !o.noCapacity, restrictToNodes: restrict });
  out(formatResponse(res.response) + "\n");
  const finNodes = res.nodes ?? req.cluster.nodes;
  const finInsts = res.instances ?? req.cluster.instances;
  if (pn) err("\nFinal cluster status:\n" + printNodes(finNodes, pn) + "\n");
  const s2 = saveCluster(o.saveCluster as string | undefined, "post-ialloc", "after iallocator run", {
    ...req.cluster,
    nodes: finNodes,
    instances: finInsts,
  });
  if (s2) err(s2);
  return 0;
}

const RUNST: Record<string, string> = {
  running: "Running",
  ADMIN_down: "StatusDown",
  ADMIN_offline: "StatusOffline",
  ERROR_up: "ErrorUp",
  ERROR_down: "ErrorDown",
  ERROR_nodedown: "NodeDown",
  ERROR_nodeoffline: "NodeOffline",
  USER_down: "UserDown",
  ERROR_wrongnode: "WrongNode",
};
function runStShow(s: string): string {
  return RUNST[s] ?? s;
}
function describeRequest(r: ReturnType<typeof parseRequest>["request"]): string {
  switch (r.type) {
    case "allocate":
      return `Allocate ${r.inst.name} (${r.count} nodes${r.group ? ", group " + r.group : ""})`;
    case "multi-allocate":
      return `MultiAllocate ${r.reqs.map((x) => x.inst.name).join(",")}`;
    default:
      return r.type;
  }
}

// not awaited: the bundles are CommonJS (no top-level await); runMain sets the exit code.
// Then exit at once: everything written has reached the kernel (out/err
// write synchronously), and what is left is tearing down a heap of ~75 MB,
// which costs CPU and does nothing for the caller.  An unexpected exception
// still goes to Node's handler (the promise is rejected).
void runMain("hail", main).then(() => process.exit());
