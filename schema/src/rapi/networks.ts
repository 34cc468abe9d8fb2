// /2/networks endpoints.
import { z } from "zod";
import { NetworkInfoSchema, NetworkListItemSchema } from "../objects/network.js";
import { ANONYMOUS, DRY_RUN, JobIdResponseSchema, Q, WRITE, endpoint, fromPath, tagEndpoints, type Endpoint } from "./define.js";

const NET = "/2/networks/{network_name}";
const netStatic = () => ({ network_name: fromPath("network_name"), ...DRY_RUN });

export const NETWORK_ENDPOINTS: Endpoint[] = [
  endpoint({
    name: "networks",
    method: "GET",
    path: "/2/networks",
    access: ANONYMOUS,
    summary: "List networks",
    query: { bulk: Q.bulk, reason: Q.reason },
    handler: "networks.list",
    response: z.union([z.array(NetworkListItemSchema), z.array(NetworkInfoSchema)]),
  }),
  endpoint({
    name: "networks",
    method: "POST",
    path: "/2/networks",
    access: WRITE,
    summary: "Create a network",
    query: { "dry-run": Q.dryRun, reason: Q.reason },
    opcode: { opId: "OP_NETWORK_ADD", body: "body", static: { ...DRY_RUN }, renames: { name: "network_name" } },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "networks_name",
    method: "GET",
    path: NET,
    access: ANONYMOUS,
    summary: "One network",
    query: { lock: Q.lock, reason: Q.reason },
    handler: "networks.get",
    response: NetworkInfoSchema,
  }),
  endpoint({
    name: "networks_name",
    method: "DELETE",
    path: NET,
    access: WRITE,
    summary: "Remove a network",
    query: { "dry-run": Q.dryRun, reason: Q.reason },
    opcode: { opId: "OP_NETWORK_REMOVE", body: "body", static: netStatic() },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "networks_name_modify",
    method: "PUT",
    path: `${NET}/modify`,
    access: WRITE,
    summary: "Modify a network",
    query: { reason: Q.reason },
    opcode: { opId: "OP_NETWORK_SET_PARAMS", body: "body", static: { network_name: fromPath("network_name") } },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "networks_name_connect",
    method: "PUT",
    path: `${NET}/connect`,
    access: WRITE,
    summary: "Connect the network to a group",
    query: { "dry-run": Q.dryRun, reason: Q.reason },
    opcode: { opId: "OP_NETWORK_CONNECT", body: "body", static: netStatic() },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "networks_name_disconnect",
    method: "PUT",
    path: `${NET}/disconnect`,
    access: WRITE,
    summary: "Disconnect the network from a group",
    query: { "dry-run": Q.dryRun, reason: Q.reason },
    opcode: { opId: "OP_NETWORK_DISCONNECT", body: "body", static: netStatic() },
    response: JobIdResponseSchema,
  }),
  ...tagEndpoints(NET, "networks_name_tags", "network", "network_name"),
];
