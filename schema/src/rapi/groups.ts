// /2/groups endpoints.
import { z } from "zod";
import { GroupInfoSchema, GroupListItemSchema } from "../objects/group.js";
import { ANONYMOUS, DRY_RUN, JobIdResponseSchema, Q, WRITE, endpoint, flag, fromPath, tagEndpoints, type Endpoint } from "./define.js";

const G = "/2/groups/{group_name}";

export const GROUP_ENDPOINTS: Endpoint[] = [
  endpoint({
    name: "groups",
    method: "GET",
    path: "/2/groups",
    access: ANONYMOUS,
    summary: "List node groups",
    query: { bulk: Q.bulk, reason: Q.reason },
    handler: "groups.list",
    response: z.union([z.array(GroupListItemSchema), z.array(GroupInfoSchema)]),
  }),
  endpoint({
    name: "groups",
    method: "POST",
    path: "/2/groups",
    access: WRITE,
    summary: "Create a node group",
    query: { "dry-run": Q.dryRun, reason: Q.reason },
    opcode: { opId: "OP_GROUP_ADD", body: "body", static: { ...DRY_RUN }, renames: { name: "group_name" } },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "groups_name",
    method: "GET",
    path: G,
    access: ANONYMOUS,
    summary: "One node group",
    query: { lock: Q.lock, reason: Q.reason },
    handler: "groups.get",
    response: GroupInfoSchema,
  }),
  endpoint({
    name: "groups_name",
    method: "DELETE",
    path: G,
    access: WRITE,
    summary: "Remove a node group",
    query: { "dry-run": Q.dryRun, reason: Q.reason },
    opcode: { opId: "OP_GROUP_REMOVE", body: "ignored", static: { group_name: fromPath("group_name"), ...DRY_RUN } },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "groups_name_modify",
    method: "PUT",
    path: `${G}/modify`,
    access: WRITE,
    summary: "Modify a node group",
    query: { reason: Q.reason },
    opcode: {
      opId: "OP_GROUP_SET_PARAMS",
      body: "body",
      static: { group_name: fromPath("group_name") },
      renames: { custom_ndparams: "ndparams", custom_ipolicy: "ipolicy", custom_diskparams: "diskparams" },
    },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "groups_name_rename",
    method: "PUT",
    path: `${G}/rename`,
    access: WRITE,
    summary: "Rename a node group",
    query: { "dry-run": Q.dryRun, reason: Q.reason },
    opcode: { opId: "OP_GROUP_RENAME", body: "body", static: { group_name: fromPath("group_name"), ...DRY_RUN } },
    response: JobIdResponseSchema,
  }),
  endpoint({
    name: "groups_name_assign_nodes",
    method: "PUT",
    path: `${G}/assign-nodes`,
    access: WRITE,
    summary: "Move nodes into the group",
    query: { force: Q.force, "dry-run": Q.dryRun, reason: Q.reason },
    opcode: {
      opId: "OP_GROUP_ASSIGN_NODES",
      body: "body",
      static: { group_name: fromPath("group_name"), ...DRY_RUN, force: flag("force") },
    },
    response: JobIdResponseSchema,
  }),
  ...tagEndpoints(G, "groups_name_tags", "nodegroup", "group_name"),
];
