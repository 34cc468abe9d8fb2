// ganeti-ts extensions of the RAPI, under /2/ganeti-ts/: opcodes that
// Ganeti's RAPI does not expose (Ganeti's gnt-cluster reaches them through
// the master's local socket) but that remote tools need. Ganeti's own
// clients never call these paths; nothing else of the v2 surface changes.
import { DRY_RUN, JobIdResponseSchema, Q, WRITE, endpoint, type Endpoint } from "./define.js";

const q = { "dry-run": Q.dryRun, reason: Q.reason };

export const GANETI_TS_ENDPOINTS: Endpoint[] = [
  endpoint({
    name: "ganeti_ts_verify",
    method: "POST",
    path: "/2/ganeti-ts/verify",
    access: WRITE,
    summary: "ganeti-ts extension: verify the cluster (OP_CLUSTER_VERIFY; the body holds its parameters)",
    query: q,
    opcode: { opId: "OP_CLUSTER_VERIFY", body: "body", static: DRY_RUN },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "ganeti_ts_verify_disks",
    method: "POST",
    path: "/2/ganeti-ts/verify-disks",
    access: WRITE,
    summary: "ganeti-ts extension: verify the instances' disks (OP_CLUSTER_VERIFY_DISKS)",
    query: q,
    opcode: { opId: "OP_CLUSTER_VERIFY_DISKS", body: "body", static: DRY_RUN },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "ganeti_ts_repair_disk_sizes",
    method: "POST",
    path: "/2/ganeti-ts/repair-disk-sizes",
    access: WRITE,
    summary: "ganeti-ts extension: correct recorded disk sizes (OP_CLUSTER_REPAIR_DISK_SIZES)",
    query: q,
    opcode: { opId: "OP_CLUSTER_REPAIR_DISK_SIZES", body: "body", static: DRY_RUN },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "ganeti_ts_oob",
    method: "POST",
    path: "/2/ganeti-ts/oob",
    access: WRITE,
    summary: "ganeti-ts extension: out-of-band command on nodes (OP_OOB_COMMAND: power-on/-off/-cycle/-status, health)",
    query: q,
    opcode: { opId: "OP_OOB_COMMAND", body: "body", static: DRY_RUN },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "ganeti_ts_node_volumes",
    method: "POST",
    path: "/2/ganeti-ts/node-volumes",
    access: WRITE,
    summary: "ganeti-ts extension: the volumes of the nodes' volume groups and their instances (OP_NODE_QUERYVOLS, gnt node volumes)",
    query: q,
    opcode: { opId: "OP_NODE_QUERYVOLS", body: "body", static: DRY_RUN },
    response: JobIdResponseSchema,
  }),
];
