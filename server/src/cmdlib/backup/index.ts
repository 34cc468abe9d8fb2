// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";
import { LUBackupExport } from "./export.js";
import { LUBackupPrepare } from "./prepare.js";

export const BACKUP_LUS: LuTable = {
  OP_BACKUP_EXPORT: LUBackupExport,
  OP_BACKUP_PREPARE: LUBackupPrepare,
};
