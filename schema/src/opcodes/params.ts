// Parameters shared by opcodes (Ganeti's OpParams), and the opcode builder.
// Field order matters: Ganeti validates an opcode's own parameters in
// definition order, then the common ones (dry_run … reason), and reports
// the first one that fails. validate.ts walks the shapes in that order.
import { z } from "zod";
import {
  DependsSchema,
  DiskParamsSchema,
  DiskStateSchema,
  HvStateSchema,
  InstanceNameSchema,
  MigrationModeSchema,
  IpolicyParamsSchema,
  JsonObjectSchema,
  NdParamsSchema,
  NonEmptyStringSchema,
  NonNegativeIntSchema,
  ReasonTrailSchema,
  SubmitPrioritySchema,
} from "../common.js";

// ---------------------------------------------------------------- field builders

/** bool with default false (Ganeti defaultFalse). */
export const defaultFalse = () => z.boolean().default(false);
/** bool with default true (Ganeti defaultTrue). */
export const defaultTrue = () => z.boolean().default(true);
/** null | bool, default null. */
export const optionalBool = () => z.boolean().nullable().default(null);
/** null | non-empty string, default null. */
export const optionalNonEmptyString = () => NonEmptyStringSchema.nullable().default(null);
/** null | string (empty allowed), default null. */
export const optionalString = () => z.string().nullable().default(null);
/** null | JSON object, default null. */
export const optionalDict = () => JsonObjectSchema.nullable().default(null);
/** JSON object, default {}. */
export const defaultDict = () => JsonObjectSchema.default(() => ({}));
/** list of non-empty strings, default []. */
export const defaultNameList = () => z.array(NonEmptyStringSchema).default(() => []);
/** null | list of non-empty strings, default null. */
export const optionalNameList = () => z.array(NonEmptyStringSchema).nullable().default(null);
/** Makes a schema nullable with default null. */
export const optional = <T extends z.ZodType>(s: T) => s.nullable().default(null);

// ---------------------------------------------------------------- common parameters (every opcode)

export const CommonOpParamsShape = {
  dry_run: optionalBool(),
  debug_level: optional(NonNegativeIntSchema),
  priority: SubmitPrioritySchema.default(0),
  depends: optional(DependsSchema),
  comment: optionalString(),
  reason: ReasonTrailSchema.nullable().default(() => []),
};
export const CommonOpParamsSchema = z.strictObject(CommonOpParamsShape);
export type CommonOpParams = z.infer<typeof CommonOpParamsSchema>;
export const COMMON_OP_PARAM_NAMES = Object.keys(CommonOpParamsShape) as (keyof typeof CommonOpParamsShape)[];

// ---------------------------------------------------------------- frequently shared fields

/** instance_name + instance_uuid, as on every single-instance opcode. */
export const instanceRefShape = () => ({
  instance_name: InstanceNameSchema,
  instance_uuid: optionalNonEmptyString(),
});

/** node_name + node_uuid. */
export const nodeRefShape = () => ({
  node_name: NonEmptyStringSchema,
  node_uuid: optionalNonEmptyString(),
});

/** How a migration runs, shared by instance and node migrate (Ganeti's order). */
export const migrationShape = () => ({
  mode: optional(MigrationModeSchema),
  live: optionalBool(),
  target_node: optionalNonEmptyString(),
  target_node_uuid: optionalNonEmptyString(),
  allow_runtime_changes: defaultTrue(),
  ignore_ipolicy: defaultFalse(),
});

/** Seconds to wait for a clean shutdown (NonNegative Int, default 120). */
export const shutdownTimeout = () => NonNegativeIntSchema.default(120);

/** hv_state / disk_state overrides. */
export const hvState = () => optional(HvStateSchema);
export const diskState = () => optional(DiskStateSchema);
export const ndparams = () => optional(NdParamsSchema);
export const ipolicy = () => optional(IpolicyParamsSchema);
export const groupDiskParams = () => optional(DiskParamsSchema);

// ---------------------------------------------------------------- builder

/**
 * Builds an opcode schema: `OP_ID` literal, the opcode's own parameters (in
 * Ganeti's order), then the common parameters. Strict: unknown keys fail.
 */
export function defineOpcode<Id extends string, S extends z.ZodRawShape>(opId: Id, shape: S) {
  return z.strictObject({ OP_ID: z.literal(opId), ...shape, ...CommonOpParamsShape });
}
