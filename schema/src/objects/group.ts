import { z } from "zod";
import { IpolicyInfoSchema, NameUriItemSchema, ParamDictSchema, rapiCommonFields } from "./common.js";

/** `GET /2/groups?bulk=1` items and `GET /2/groups/NAME` (§7.4). */
export const GroupInfoSchema = z.looseObject({
  name: z.string(),
  alloc_policy: z.enum(["preferred", "last_resort", "unallocable"]),
  node_cnt: z.number().int(),
  node_list: z.array(z.string()),
  ipolicy: IpolicyInfoSchema,
  custom_ipolicy: IpolicyInfoSchema,
  diskparams: z.record(z.string(), ParamDictSchema),
  custom_diskparams: z.record(z.string(), ParamDictSchema),
  ndparams: ParamDictSchema,
  custom_ndparams: ParamDictSchema,
  ...rapiCommonFields,
});
export type GroupInfo = z.infer<typeof GroupInfoSchema>;

export const GroupListItemSchema = NameUriItemSchema;
export type GroupListItem = z.infer<typeof GroupListItemSchema>;
