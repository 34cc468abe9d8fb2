// The RAPI v2 endpoint table (every resource of Ganeti's RAPI v2, doc/rapi.rst).
import { CLUSTER_ENDPOINTS } from "./cluster.js";
import type { Endpoint } from "./define.js";
import { FILTER_ENDPOINTS } from "./filters.js";
import { GANETI_TS_ENDPOINTS } from "./ganeti-ts.js";
import { GROUP_ENDPOINTS } from "./groups.js";
import { INSTANCE_ENDPOINTS } from "./instances.js";
import { JOB_ENDPOINTS } from "./jobs.js";
import { NETWORK_ENDPOINTS } from "./networks.js";
import { NODE_ENDPOINTS } from "./nodes.js";
import { QUERY_ENDPOINTS } from "./query.js";

export * from "./define.js";
export { CLUSTER_ENDPOINTS } from "./cluster.js";
export { NODE_ENDPOINTS } from "./nodes.js";
export { GROUP_ENDPOINTS } from "./groups.js";
export { NETWORK_ENDPOINTS } from "./networks.js";
export { INSTANCE_ENDPOINTS, InstanceReinstallBodySchema } from "./instances.js";
export { JOB_ENDPOINTS, JobWaitBodySchema } from "./jobs.js";
export { QUERY_ENDPOINTS, QueryBodySchema } from "./query.js";
export { FILTER_ENDPOINTS, FilterRuleBodySchema } from "./filters.js";
export { GANETI_TS_ENDPOINTS } from "./ganeti-ts.js";

export const RAPI_ENDPOINTS: readonly Endpoint[] = [
  ...CLUSTER_ENDPOINTS,
  ...NODE_ENDPOINTS,
  ...GROUP_ENDPOINTS,
  ...NETWORK_ENDPOINTS,
  ...INSTANCE_ENDPOINTS,
  ...JOB_ENDPOINTS,
  ...QUERY_ENDPOINTS,
  ...FILTER_ENDPOINTS,
  ...GANETI_TS_ENDPOINTS,
];

/** Features announced by GET /2/features (a set in Ganeti: order not significant). */
export const RAPI_FEATURES = ["instance-create-reqv1", "instance-reinstall-reqv1", "node-migrate-reqv1", "node-evac-res1"] as const;
export type { OpcodeBody, OpcodeCommonBody, OpcodeParams } from "./requests.js";
