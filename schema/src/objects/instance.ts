import { z } from "zod";
import { IdUriItemSchema, ParamDictSchema, rapiCommonFields } from "./common.js";

/** `GET /2/instances?bulk=1` items and `GET /2/instances/NAME` (§7.2). */
export const InstanceInfoSchema = z.looseObject({
  name: z.string(),
  admin_state: z.string(),
  os: z.string().nullable(),
  pnode: z.string(),
  snodes: z.array(z.string()),
  disk_template: z.string(),
  "nic.ips": z.array(z.string().nullable()),
  "nic.macs": z.array(z.string()),
  "nic.modes": z.array(z.string()),
  "nic.uuids": z.array(z.string()),
  "nic.names": z.array(z.string().nullable()),
  "nic.links": z.array(z.string()),
  "nic.networks": z.array(z.string().nullable()),
  "nic.networks.names": z.array(z.string().nullable()),
  "nic.bridges": z.array(z.string().nullable()),
  network_port: z.number().int().nullable(),
  "disk.sizes": z.array(z.number()),
  "disk.spindles": z.array(z.number().nullable()),
  disk_usage: z.number(),
  "disk.uuids": z.array(z.string()),
  "disk.names": z.array(z.string().nullable()),
  beparams: ParamDictSchema,
  hvparams: ParamDictSchema,
  oper_state: z.boolean().nullable(),
  oper_ram: z.number().nullable(),
  oper_vcpus: z.number().nullable(),
  status: z.string(),
  custom_hvparams: ParamDictSchema,
  custom_beparams: ParamDictSchema,
  custom_nicparams: z.array(ParamDictSchema),
  ...rapiCommonFields,
});
export type InstanceInfo = z.infer<typeof InstanceInfoSchema>;

/** `GET /2/instances` without bulk. */
export const InstanceListItemSchema = IdUriItemSchema;
export type InstanceListItem = z.infer<typeof InstanceListItemSchema>;

/** `GET /2/instances/NAME/console` (§10.4). */
export const InstanceConsoleSchema = z.looseObject({
  instance: z.string(),
  kind: z.enum(["ssh", "vnc", "spice", "msg"]),
  message: z.string().optional(),
  host: z.string().optional(),
  port: z.number().int().optional(),
  user: z.string().optional(),
  command: z.array(z.string()).optional(),
  display: z.number().int().optional(),
});
export type InstanceConsole = z.infer<typeof InstanceConsoleSchema>;
