// Export (backup) opcodes.
import { z } from "zod";
import { DoubleSchema, ExportModeSchema, IntSchema, NonEmptyStringSchema } from "../common.js";
import { defaultFalse, defaultTrue, defineOpcode, instanceRefShape, optional, optionalNonEmptyString, shutdownTimeout } from "./params.js";

/** Local export: a node name; remote export: a list of per-disk destinations. */
export const ExportTargetSchema = z.union([NonEmptyStringSchema, z.array(z.unknown())]);

export const OpBackupExportSchema = defineOpcode("OP_BACKUP_EXPORT", {
  ...instanceRefShape(),
  compress: z.string().default("none"),
  shutdown_timeout: shutdownTimeout(),
  target_node: ExportTargetSchema,
  target_node_uuid: optionalNonEmptyString(),
  shutdown: defaultTrue(),
  remove_instance: defaultFalse(),
  ignore_remove_failures: defaultFalse(),
  mode: ExportModeSchema.default("local"),
  x509_key_name: optional(z.array(z.unknown())),
  destination_x509_ca: optionalNonEmptyString(),
  zero_free_space: defaultFalse(),
  zeroing_timeout_fixed: optional(IntSchema),
  zeroing_timeout_per_mib: optional(DoubleSchema),
  long_sleep: defaultFalse(),
});
export type OpBackupExport = z.infer<typeof OpBackupExportSchema>;

export const OpBackupPrepareSchema = defineOpcode("OP_BACKUP_PREPARE", {
  ...instanceRefShape(),
  mode: ExportModeSchema,
});
export type OpBackupPrepare = z.infer<typeof OpBackupPrepareSchema>;
