// /2/nodes endpoints.
import { z } from "zod";
import { NodeInfoSchema, NodeListItemSchema, NodeRoleSchema } from "../objects/node.js";
import { ANONYMOUS, DRY_RUN, JobIdResponseSchema, Q, WRITE, endpoint, flag, fromPath, tagEndpoints, type Endpoint } from "./define.js";

const N = "/2/nodes/{node_name}";
const storageQuery = {
  storage_type: { kind: "string", description: "lvm-vg, lvm-pv or file" },
  reason: Q.reason,
} as const;

export const NODE_ENDPOINTS: Endpoint[] = [
  endpoint({
    name: "nodes", method: "GET", path: "/2/nodes", access: ANONYMOUS, summary: "List nodes", query: { bulk: Q.bulk, reason: Q.reason },
    handler: "nodes.list", response: z.union([z.array(NodeListItemSchema), z.array(NodeInfoSchema)]),
  }),
  endpoint({ name: "nodes_name", method: "GET", path: N, access: ANONYMOUS, summary: "One node", query: { lock: Q.lock, reason: Q.reason }, handler: "nodes.get", response: NodeInfoSchema }),
  endpoint({ name: "nodes_name_role", method: "GET", path: `${N}/role`, access: ANONYMOUS, summary: "Node role", query: { lock: Q.lock, reason: Q.reason }, handler: "nodes.role", response: NodeRoleSchema }),
  endpoint({
    name: "nodes_name_role", method: "PUT", path: `${N}/role`, access: WRITE, summary: "Set the node role (body: a JSON string)",
    query: { force: Q.force, "auto-promote": { kind: "int", description: "promote other nodes to master candidate if needed" }, reason: Q.reason },
    body: NodeRoleSchema, handler: "nodes.setRole", response: JobIdResponseSchema,
  }),
  endpoint({
    name: "nodes_name_modify", method: "POST", path: `${N}/modify`, access: WRITE, summary: "Modify node parameters", query: { reason: Q.reason },
    opcode: { opId: "OP_NODE_SET_PARAMS", body: "body", static: { node_name: fromPath("node_name") } }, response: JobIdResponseSchema,
  }),
  endpoint({
    name: "nodes_name_powercycle", method: "POST", path: `${N}/powercycle`, access: WRITE, summary: "Power-cycle the node",
    query: { force: Q.force, reason: Q.reason },
    opcode: { opId: "OP_NODE_POWERCYCLE", body: "body", static: { node_name: fromPath("node_name"), force: flag("force") } },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "nodes_name_evacuate", method: "POST", path: `${N}/evacuate`, access: WRITE, summary: "Evacuate instances from the node",
    query: { "dry-run": Q.dryRun, reason: Q.reason },
    opcode: { opId: "OP_NODE_EVACUATE", body: "body", static: { node_name: fromPath("node_name"), ...DRY_RUN } }, response: JobIdResponseSchema,
  }),
  endpoint({
    name: "nodes_name_migrate", method: "POST", path: `${N}/migrate`, access: WRITE,
    summary: "Migrate all primary instances (body v1, or legacy ?mode=/?live=)",
    query: { mode: { kind: "string", description: "legacy: live or non-live" }, live: { kind: "int", description: "legacy: 1 live, 0 non-live" }, reason: Q.reason },
    handler: "nodes.migrate", response: JobIdResponseSchema,
  }),
  endpoint({
    name: "nodes_name_storage", method: "GET", path: `${N}/storage`, access: ["write"], summary: "Query storage units (returns a job id)",
    query: { ...storageQuery, output_fields: { kind: "string", description: "comma-separated fields", required: true } },
    handler: "nodes.storage", response: JobIdResponseSchema,
  }),
  endpoint({
    name: "nodes_name_storage_modify", method: "PUT", path: `${N}/storage/modify`, access: WRITE, summary: "Modify a storage unit",
    query: { ...storageQuery, name: { kind: "string", description: "storage unit name", required: true }, allocatable: { kind: "int", description: "0 or 1" } },
    handler: "nodes.storageModify", response: JobIdResponseSchema,
  }),
  endpoint({
    name: "nodes_name_storage_repair", method: "PUT", path: `${N}/storage/repair`, access: WRITE, summary: "Repair a storage unit",
    query: { ...storageQuery, name: { kind: "string", description: "storage unit name", required: true } },
    handler: "nodes.storageRepair", response: JobIdResponseSchema,
  }),
  ...tagEndpoints(N, "nodes_name_tags", "node", "node_name"),
];
