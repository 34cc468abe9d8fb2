import { z } from "zod";
import { NameUriItemSchema, rapiCommonFields } from "./common.js";

/** `GET /2/networks?bulk=1` items and `GET /2/networks/NAME` (§7.5). */
export const NetworkInfoSchema = z.looseObject({
  name: z.string(),
  network: z.string(),
  gateway: z.string().nullable(),
  network6: z.string().nullable(),
  gateway6: z.string().nullable(),
  mac_prefix: z.string().nullable(),
  free_count: z.number().int(),
  reserved_count: z.number().int(),
  map: z.string(),
  /** `[group_name, mode, link, vlan]` per connected group. */
  group_list: z.array(z.array(z.string())),
  inst_list: z.array(z.string()),
  external_reservations: z.string(),
  ...rapiCommonFields,
});
export type NetworkInfo = z.infer<typeof NetworkInfoSchema>;

export const NetworkListItemSchema = NameUriItemSchema;
export type NetworkListItem = z.infer<typeof NetworkListItemSchema>;
