// Building blocks shared by the RAPI response object schemas. Objects are
// loose: Ganeti adds keys between versions (e.g. `modify_ssh_setup` in
// /2/info) and clients must keep working, so unknown keys are kept, while the
// keys we know are type-checked.
import { z } from "zod";

/** Unix seconds with fraction (`ctime`, `mtime`); Ganeti sends ints too. */
export const RapiTimestampSchema = z.number();
/** Free-form parameter dict (hvparams, beparams, ndparams, ...). */
export const ParamDictSchema = z.record(z.string(), z.unknown());
export const TagListSchema = z.array(z.string());

/** Keys every config object carries on the wire. */
export const rapiCommonFields = {
  ctime: RapiTimestampSchema.nullable(),
  mtime: RapiTimestampSchema.nullable(),
  uuid: z.string(),
  serial_no: z.number().int(),
  tags: TagListSchema,
};

/** Index entries (`GET /2/instances` without bulk). */
export const IdUriItemSchema = z.looseObject({ id: z.string(), uri: z.string() });
export type IdUriItem = z.infer<typeof IdUriItemSchema>;
export const NameUriItemSchema = z.looseObject({ name: z.string(), uri: z.string() });
export type NameUriItem = z.infer<typeof NameUriItemSchema>;

/** `[seconds, microseconds]` as used by job timestamps and log entries. */
export const SecUsecSchema = z.tuple([z.number().int(), z.number().int()]);
export type SecUsec = z.infer<typeof SecUsecSchema>;

/** An ISPEC dict inside an ipolicy (`memory-size`, `cpu-count`, ...). */
export const IspecInfoSchema = z.looseObject({
  "memory-size": z.number().optional(),
  "cpu-count": z.number().optional(),
  "disk-count": z.number().optional(),
  "disk-size": z.number().optional(),
  "nic-count": z.number().optional(),
  "spindle-use": z.number().optional(),
});
export const IpolicyInfoSchema = z.looseObject({
  minmax: z.array(z.looseObject({ min: IspecInfoSchema, max: IspecInfoSchema })).optional(),
  std: IspecInfoSchema.optional(),
  "disk-templates": z.array(z.string()).optional(),
  "vcpu-ratio": z.number().optional(),
  "spindle-ratio": z.number().optional(),
});
export type IpolicyInfo = z.infer<typeof IpolicyInfoSchema>;
