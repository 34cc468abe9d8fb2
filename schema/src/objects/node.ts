import { z } from "zod";
import { IdUriItemSchema, ParamDictSchema, rapiCommonFields } from "./common.js";

/** `GET /2/nodes?bulk=1` items and `GET /2/nodes/NAME` (§7.3). */
export const NodeInfoSchema = z.looseObject({
  name: z.string(),
  offline: z.boolean(),
  master_candidate: z.boolean(),
  drained: z.boolean(),
  master_capable: z.boolean(),
  vm_capable: z.boolean(),
  role: z.enum(["M", "C", "R", "D", "O"]),
  dtotal: z.number().nullable(),
  dfree: z.number().nullable(),
  sptotal: z.number().nullable(),
  spfree: z.number().nullable(),
  mtotal: z.number().nullable(),
  mnode: z.number().nullable(),
  mfree: z.number().nullable(),
  ctotal: z.number().nullable(),
  cnos: z.number().nullable(),
  cnodes: z.number().nullable(),
  csockets: z.number().nullable(),
  pinst_cnt: z.number().int(),
  sinst_cnt: z.number().int(),
  pinst_list: z.array(z.string()),
  sinst_list: z.array(z.string()),
  pip: z.string(),
  sip: z.string(),
  ndparams: ParamDictSchema,
  "group.uuid": z.string(),
  /** Only on the single-node GET (alias of `sip`). */
  secondary_ip: z.string().optional(),
  ...rapiCommonFields,
});
export type NodeInfo = z.infer<typeof NodeInfoSchema>;

export const NodeListItemSchema = IdUriItemSchema;
export type NodeListItem = z.infer<typeof NodeListItemSchema>;

/** `GET /2/nodes/NAME/role` (long form, unlike the one-letter `role` field). */
export const NodeRoleSchema = z.enum(["master", "master-candidate", "regular", "drained", "offline"]);
export type NodeRole = z.infer<typeof NodeRoleSchema>;
