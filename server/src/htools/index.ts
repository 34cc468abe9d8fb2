// Public API of the htools module (pure: snapshot in, plan out, no I/O).
// See docs/htools.md, "For developers".
export type { ClusterData, LoadOptions } from "./loader.js";
export type { Group, Instance, IPolicy, ISpec, DiskTemplate, FailMode, RSpec } from "./types.js";
export { HtoolsError } from "./types.js";
export { Node } from "./node.js";
export { parseText, serializeCluster } from "./text.js";
export { parseRapi, type RapiBodies } from "./rapi.js";
export { parseSimu } from "./simu.js";
export { mergeData, updateMissing, splitCluster, setNodeStatus } from "./loader.js";
export { compCV, detailedCV, optimalCVScore, NAMES as SCORE_COMPONENTS } from "./metrics.js";
export { balanceGroup, splitJobs, formatCmds, type BalanceOptions, type BalanceResult, type MoveStep } from "./balance.js";
export {
  parseRequest,
  runRequest,
  formatResponse,
  iallocatorRun,
  type IAllocRequest,
  type IAllocResponse,
  type RequestType,
} from "./iallocator.js";
export { hspace, totalResources, type HspaceOptions, type HspaceResult, type CStats } from "./hspace.js";
export type { AlgOptions, EvacMode, Opcode } from "./alloc.js";

import type { ClusterData, LoadOptions } from "./loader.js";
import { mergeData, updateMissing, splitCluster } from "./loader.js";
import { balanceGroup, type BalanceOptions, type MoveStep } from "./balance.js";
import { HtoolsError } from "./types.js";
import { parseRequest, runRequest, type IAllocResponse } from "./iallocator.js";
import type { AlgOptions } from "./alloc.js";

/** Fix up a freshly parsed snapshot (tags, peers, memory statistics). */
export function prepare(cd: ClusterData, opts: LoadOptions = {}): { cluster: ClusterData; warnings: string[] } {
  const cluster = mergeData(cd, opts);
  const warnings = updateMissing(cluster, opts.staticKvmNodeMemory ?? 0);
  return { cluster, warnings };
}

/**
 * hbal on one node group of a prepared snapshot: the list of moves Ganeti's
 * hbal would choose.  `group` may be omitted on single-group clusters.
 */
export function balance(cd: ClusterData, opts: BalanceOptions & { group?: string } = {}): MoveStep[] {
  const groups = splitCluster(cd.nodes, cd.instances);
  let g = groups[0];
  if (opts.group !== undefined) {
    const grp = cd.groups.find((x) => x.name === opts.group || x.uuid === opts.group);
    if (!grp) throw new HtoolsError(`Node group ${opts.group} not found`, "ENOGROUP");
    g = groups.find((x) => x.gdx === grp.idx) ?? { gdx: grp.idx, nodes: [], instances: [] };
  } else if (groups.length > 1) throw new HtoolsError("Found multiple node groups", "EMULTIGROUP");
  if (!g) return [];
  return balanceGroup(cd.nodes, cd.instances, g.nodes, g.instances, opts).moves;
}

/** The full IAllocator protocol on a parsed request object (Ganeti's JSON shape). */
export function allocate(request: unknown, opts: AlgOptions = {}): IAllocResponse {
  const req = parseRequest(JSON.stringify(request));
  const r = runRequest(req, opts).response;
  return r.success ? { ...r, info: "Request successful: " + r.info } : r;
}
