// Out-of-band management (Ganeti's OpOobCommand): run the node's
// `oob_program` (an IPMI wrapper or the like) on the master with a command
// and the node name, and read its JSON answer.
import { z } from "zod";
import { IntSchema, NonEmptyStringSchema } from "../common.js";
import { defaultFalse, defineOpcode, optional } from "./params.js";

export const OOB_COMMANDS = ["health", "power-cycle", "power-off", "power-on", "power-status"] as const;
export const OobCommandSchema = z.enum(OOB_COMMANDS);
export type OobCommand = z.infer<typeof OobCommandSchema>;
/** Health item states an OOB program may report. */
export const OOB_STATUSES = ["CRITICAL", "OK", "UNKNOWN", "WARNING"] as const;

export const OpOobCommandSchema = defineOpcode("OP_OOB_COMMAND", {
  node_names: z.array(NonEmptyStringSchema).default(() => []),
  node_uuids: optional(z.array(NonEmptyStringSchema)),
  command: OobCommandSchema,
  timeout: IntSchema.default(60),
  ignore_status: defaultFalse(),
  power_delay: z.number().default(2.0),
});
export type OpOobCommand = z.infer<typeof OpOobCommandSchema>;

/** Query result status codes (Ganeti's RS_*): normal, unknown, no data, unavailable, offline. */
export const RS = { NORMAL: 0, UNKNOWN: 1, NODATA: 2, UNAVAIL: 3, OFFLINE: 4 } as const;

/** Per node: `[[RS_NORMAL, node name], [status, payload]]`. */
export const OobCommandResultSchema = z.array(z.array(z.tuple([z.number().int(), z.unknown()])));
export type OobCommandResult = z.infer<typeof OobCommandResultSchema>;
