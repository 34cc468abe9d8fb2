// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";
import { LUInstanceActivateDisks } from "./activate-disks.js";
import { LUInstanceConsole } from "./console.js";
import { LUInstanceCreate } from "./create.js";
import { LUInstanceDeactivateDisks } from "./deactivate-disks.js";
import { LUInstanceFailover } from "./failover.js";
import { LUInstanceGrowDisk } from "./grow-disk.js";
import { LUInstanceMigrate } from "./migrate.js";
import { LUInstanceMultiAlloc } from "./multi-alloc.js";
import { LUInstanceQueryData } from "./query-data.js";
import { LUInstanceReboot } from "./reboot.js";
import { LUInstanceRecreateDisks } from "./recreate-disks.js";
import { LUInstanceReinstall } from "./reinstall.js";
import { LUInstanceRemove } from "./remove.js";
import { LUInstanceRename } from "./rename.js";
import { LUInstanceReplaceDisks } from "./replace-disks.js";
import { LUInstanceSetParams } from "./set-params.js";
import { LUInstanceShutdown } from "./shutdown.js";
import { LUInstanceStartup } from "./startup.js";

export const INSTANCE_LUS: LuTable = {
  OP_INSTANCE_ACTIVATE_DISKS: LUInstanceActivateDisks,
  OP_INSTANCE_CONSOLE: LUInstanceConsole,
  OP_INSTANCE_CREATE: LUInstanceCreate,
  OP_INSTANCE_DEACTIVATE_DISKS: LUInstanceDeactivateDisks,
  OP_INSTANCE_FAILOVER: LUInstanceFailover,
  OP_INSTANCE_GROW_DISK: LUInstanceGrowDisk,
  OP_INSTANCE_MIGRATE: LUInstanceMigrate,
  OP_INSTANCE_MULTI_ALLOC: LUInstanceMultiAlloc,
  OP_INSTANCE_QUERY_DATA: LUInstanceQueryData,
  OP_INSTANCE_REBOOT: LUInstanceReboot,
  OP_INSTANCE_RECREATE_DISKS: LUInstanceRecreateDisks,
  OP_INSTANCE_REINSTALL: LUInstanceReinstall,
  OP_INSTANCE_REMOVE: LUInstanceRemove,
  OP_INSTANCE_RENAME: LUInstanceRename,
  OP_INSTANCE_REPLACE_DISKS: LUInstanceReplaceDisks,
  OP_INSTANCE_SET_PARAMS: LUInstanceSetParams,
  OP_INSTANCE_SHUTDOWN: LUInstanceShutdown,
  OP_INSTANCE_STARTUP: LUInstanceStartup,
};
