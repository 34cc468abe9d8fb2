// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";
import { LUNodeAdd } from "./add.js";
import { LUNodeEvacuate } from "./evacuate.js";
import { LUNodeMigrate } from "./migrate.js";
import { LUNodeModifyStorage } from "./modify-storage.js";
import { LUNodePowercycle } from "./powercycle.js";
import { LUNodeQueryStorage } from "./query-storage.js";
import { LUNodeQueryvols } from "./query-vols.js";
import { LUNodeRemove } from "./remove.js";
import { LURepairNodeStorage } from "./repair-storage.js";
import { LUNodeSetParams } from "./set-params.js";
import { LUOobCommand } from "./oob.js";

export const NODE_LUS: LuTable = {
  OP_NODE_ADD: LUNodeAdd,
  OP_NODE_REMOVE: LUNodeRemove,
  OP_NODE_SET_PARAMS: LUNodeSetParams,
  OP_NODE_POWERCYCLE: LUNodePowercycle,
  OP_NODE_EVACUATE: LUNodeEvacuate,
  OP_NODE_MIGRATE: LUNodeMigrate,
  OP_NODE_QUERY_STORAGE: LUNodeQueryStorage,
  OP_NODE_QUERYVOLS: LUNodeQueryvols,
  OP_NODE_MODIFY_STORAGE: LUNodeModifyStorage,
  OP_REPAIR_NODE_STORAGE: LURepairNodeStorage,
  OP_OOB_COMMAND: LUOobCommand,
};
