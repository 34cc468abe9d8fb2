// Network opcodes.
import { z } from "zod";
import {
  IPv4AddressSchema,
  IPv4NetworkSchema,
  IPv6AddressSchema,
  IPv6NetworkSchema,
  NicModeSchema,
  NonEmptyStringSchema,
} from "../common.js";
import { defaultFalse, defaultNameList, defaultTrue, defineOpcode, optional, optionalNonEmptyString } from "./params.js";

export const OpNetworkAddSchema = defineOpcode("OP_NETWORK_ADD", {
  network_name: NonEmptyStringSchema,
  network: IPv4NetworkSchema,
  gateway: optional(IPv4AddressSchema),
  network6: optional(IPv6NetworkSchema),
  gateway6: optional(IPv6AddressSchema),
  mac_prefix: optionalNonEmptyString(),
  add_reserved_ips: optional(z.array(IPv4AddressSchema)),
  conflicts_check: defaultTrue(),
  tags: defaultNameList(),
});
export type OpNetworkAdd = z.infer<typeof OpNetworkAddSchema>;

export const OpNetworkConnectSchema = defineOpcode("OP_NETWORK_CONNECT", {
  group_name: NonEmptyStringSchema,
  network_name: NonEmptyStringSchema,
  network_mode: NicModeSchema,
  network_link: NonEmptyStringSchema,
  network_vlan: z.string().default(""),
  conflicts_check: defaultTrue(),
});
export type OpNetworkConnect = z.infer<typeof OpNetworkConnectSchema>;

export const OpNetworkDisconnectSchema = defineOpcode("OP_NETWORK_DISCONNECT", {
  group_name: NonEmptyStringSchema,
  network_name: NonEmptyStringSchema,
});
export type OpNetworkDisconnect = z.infer<typeof OpNetworkDisconnectSchema>;

export const OpNetworkRemoveSchema = defineOpcode("OP_NETWORK_REMOVE", {
  network_name: NonEmptyStringSchema,
  force: defaultFalse(),
});
export type OpNetworkRemove = z.infer<typeof OpNetworkRemoveSchema>;

export const OpNetworkSetParamsSchema = defineOpcode("OP_NETWORK_SET_PARAMS", {
  network_name: NonEmptyStringSchema,
  gateway: optional(IPv4AddressSchema),
  network6: optional(IPv6NetworkSchema),
  gateway6: optional(IPv6AddressSchema),
  mac_prefix: optionalNonEmptyString(),
  add_reserved_ips: optional(z.array(IPv4AddressSchema)),
  remove_reserved_ips: optional(z.array(IPv4AddressSchema)),
});
export type OpNetworkSetParams = z.infer<typeof OpNetworkSetParamsSchema>;
