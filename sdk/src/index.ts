export { GanetiClient, type GanetiClientOptions } from "./client.js";
export * from "./core/errors.js";
export { JobHandle, type JobLogLine, type WaitOptions } from "./core/job-handle.js";
export type { CallOptions, JobCallOptions } from "./core/request.js";
export { normalizeFingerprint, type TransportOptions } from "./core/transport.js";
export type { RetryOptions } from "./core/retry.js";
export { q, type Filter, type FilterValue, type FieldOf, type QueryFieldMap, type QueryResourceName } from "./core/qlang.js";
export { QueryBuilder, queryRows, type QueryRow } from "./resources/query.js";
export type { TagKind } from "./resources/tags.js";
export type { InstanceCreateResult, ChangeList } from "./resources/instances.js";
export type { NodeOobParams } from "./resources/nodes.js";
export type { ClusterVerifyParams, ClusterVerifyDisksParams, ClusterRepairDiskSizesParams } from "./resources/cluster.js";
export type * from "./resources/params.js";
export type {
  ClusterInfo,
  InstanceInfo,
  InstanceListItem,
  InstanceConsole,
  NodeInfo,
  NodeListItem,
  NodeRole,
  GroupInfo,
  GroupListItem,
  NetworkInfo,
  NetworkListItem,
  JobInfo,
  JobBulkItem,
  JobListItem,
  JobWaitResult,
  RapiJobStatus,
  QueryResult,
  QueryFieldDefinition,
  FilterInfo,
  FilterListItem,
  JobIdListOnly,
  GroupVerifyDisksResult,
  RepairDiskSizesResult,
  OobCommandResult,
} from "@ganeti-ts/schema";
