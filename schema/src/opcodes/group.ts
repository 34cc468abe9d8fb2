// Node group opcodes.
import { z } from "zod";
import { AllocPolicySchema, NonEmptyStringSchema } from "../common.js";
import {
  defaultFalse,
  defineOpcode,
  diskState,
  groupDiskParams,
  hvState,
  ipolicy,
  ndparams,
  optional,
  optionalNameList,
} from "./params.js";

const groupParamsShape = () => ({
  alloc_policy: optional(AllocPolicySchema),
  ndparams: ndparams(),
  diskparams: groupDiskParams(),
  hv_state: hvState(),
  disk_state: diskState(),
  ipolicy: ipolicy(),
});

export const OpGroupAddSchema = defineOpcode("OP_GROUP_ADD", {
  group_name: NonEmptyStringSchema,
  ...groupParamsShape(),
});
export type OpGroupAdd = z.infer<typeof OpGroupAddSchema>;

export const OpGroupAssignNodesSchema = defineOpcode("OP_GROUP_ASSIGN_NODES", {
  group_name: NonEmptyStringSchema,
  force: defaultFalse(),
  nodes: z.array(NonEmptyStringSchema),
  node_uuids: optionalNameList(),
});
export type OpGroupAssignNodes = z.infer<typeof OpGroupAssignNodesSchema>;

export const OpGroupRemoveSchema = defineOpcode("OP_GROUP_REMOVE", {
  group_name: NonEmptyStringSchema,
});
export type OpGroupRemove = z.infer<typeof OpGroupRemoveSchema>;

export const OpGroupRenameSchema = defineOpcode("OP_GROUP_RENAME", {
  group_name: NonEmptyStringSchema,
  new_name: NonEmptyStringSchema,
});
export type OpGroupRename = z.infer<typeof OpGroupRenameSchema>;

export const OpGroupSetParamsSchema = defineOpcode("OP_GROUP_SET_PARAMS", {
  group_name: NonEmptyStringSchema,
  ...groupParamsShape(),
});
export type OpGroupSetParams = z.infer<typeof OpGroupSetParamsSchema>;
