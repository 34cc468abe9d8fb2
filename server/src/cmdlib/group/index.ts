// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";
import { LUGroupAdd } from "./add.js";
import { LUGroupAssignNodes } from "./assign-nodes.js";
import { LUGroupRemove } from "./remove.js";
import { LUGroupRename } from "./rename.js";
import { LUGroupSetParams } from "./set-params.js";
import { LUGroupVerifyDisks } from "./verify-disks.js";

export const GROUP_LUS: LuTable = {
  OP_GROUP_ADD: LUGroupAdd,
  OP_GROUP_REMOVE: LUGroupRemove,
  OP_GROUP_RENAME: LUGroupRename,
  OP_GROUP_SET_PARAMS: LUGroupSetParams,
  OP_GROUP_ASSIGN_NODES: LUGroupAssignNodes,
  OP_GROUP_VERIFY_DISKS: LUGroupVerifyDisks,
};
