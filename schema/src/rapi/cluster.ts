// Cluster-level endpoints: version, features, info, OS list, modify, tags.
import { z } from "zod";
import { ClusterInfoSchema, FeatureListSchema } from "../objects/cluster.js";
import { OsListSchema } from "../objects/os.js";
import { ANONYMOUS, JobIdResponseSchema, Q, WRITE, endpoint, tagEndpoints, type Endpoint } from "./define.js";

export const CLUSTER_ENDPOINTS: Endpoint[] = [
  endpoint({ name: "root", method: "GET", path: "/", access: ANONYMOUS, summary: "Legacy root (null)", handler: "cluster.root", response: z.null() }),
  endpoint({ name: "2", method: "GET", path: "/2", access: ANONYMOUS, summary: "Legacy root (null)", handler: "cluster.root", response: z.null() }),
  endpoint({ name: "version", method: "GET", path: "/version", access: ANONYMOUS, summary: "RAPI version (2)", handler: "cluster.version", response: z.literal(2) }),
  endpoint({ name: "info", method: "GET", path: "/2/info", access: ANONYMOUS, summary: "Cluster information", query: { reason: Q.reason }, handler: "cluster.info", response: ClusterInfoSchema }),
  endpoint({ name: "features", method: "GET", path: "/2/features", access: ANONYMOUS, summary: "Feature strings", handler: "cluster.features", response: FeatureListSchema }),
  endpoint({
    name: "os", method: "GET", path: "/2/os", access: ANONYMOUS, summary: "OS names (runs OP_OS_DIAGNOSE and waits)",
    query: { reason: Q.reason }, handler: "cluster.os", response: OsListSchema,
  }),
  endpoint({
    name: "redist_config", method: "PUT", path: "/2/redistribute-config", access: WRITE, summary: "Redistribute the configuration",
    query: { reason: Q.reason }, opcode: { opId: "OP_CLUSTER_REDIST_CONF", body: "body", static: {} }, response: JobIdResponseSchema,
  }),
  endpoint({
    name: "cluster_modify", method: "PUT", path: "/2/modify", access: WRITE, summary: "Modify cluster parameters",
    query: { reason: Q.reason },
    opcode: { opId: "OP_CLUSTER_SET_PARAMS", body: "body", static: {}, forbidden: ["compression_tools"] },
    response: JobIdResponseSchema,
  }),
  ...tagEndpoints("/2", "tags", "cluster", null),
];
