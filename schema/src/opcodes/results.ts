// Result schemas of opcodes (Ganeti's OP_RESULT checks), used to validate an
// LU's return value before it is stored as the opcode result.
import { z } from "zod";
import { JsonObjectSchema, NonEmptyStringSchema } from "../common.js";

export const NoneResultSchema = z.null();

/** One entry of a job list: `[true, job_id]` or `[false, "error message"]`. */
export const JobIdListItemSchema = z.tuple([z.boolean(), z.union([z.number().int().nonnegative(), z.string()])]);
/** `{"jobs": [[ok, job_id_or_error], ...]}` */
export const JobIdListOnlySchema = z.strictObject({ jobs: z.array(JobIdListItemSchema) });
export type JobIdListOnly = z.infer<typeof JobIdListOnlySchema>;

/** `null`, or jobs submitted by the LU (cluster modify, group add). */
export const MaybeJobsResultSchema = z.union([z.null(), JobIdListOnlySchema]);

/** `[[param_name, new_value], ...]` change descriptions of *_SET_PARAMS. */
export const ChangesResultSchema = z.array(z.tuple([NonEmptyStringSchema, z.unknown()]));
export type ChangesResult = z.infer<typeof ChangesResultSchema>;

export const InstanceMultiAllocResultSchema = z.strictObject({
  jobs: z.array(JobIdListItemSchema),
  allocatable: z.array(NonEmptyStringSchema),
  failed: z.array(NonEmptyStringSchema),
});
export type InstanceMultiAllocResult = z.infer<typeof InstanceMultiAllocResultSchema>;

/** `[[node, iv_name, device_path | null], ...]` */
export const ActivateDisksResultSchema = z.array(z.tuple([NonEmptyStringSchema, NonEmptyStringSchema, NonEmptyStringSchema.nullable()]));

/** `[finalize_ok, [per_disk_ok, ...]]` */
export const BackupExportResultSchema = z.tuple([z.boolean(), z.array(z.boolean())]);

/** Rows of values in output_fields order. */
export const RowsResultSchema = z.array(z.array(z.unknown()));

export const OpQueryFieldDefSchema = z.object({
  name: z.string(),
  title: z.string(),
  kind: z.string(),
  doc: z.string(),
});
/** `{"fields": [fielddef], "data": [[[status, value], ...], ...]}` */
export const OpQueryResultSchema = z.object({
  fields: z.array(OpQueryFieldDefSchema),
  data: z.array(z.array(z.tuple([z.number().int(), z.unknown()]))),
});
export const OpQueryFieldsResultSchema = z.object({ fields: z.array(OpQueryFieldDefSchema) });

export const NameResultSchema = NonEmptyStringSchema;
export const NameListResultSchema = z.array(NonEmptyStringSchema);
export const DictResultSchema = JsonObjectSchema;
