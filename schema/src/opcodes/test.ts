// Test opcodes (Ganeti's OpTestDelay): handy for job-queue tests.
import { z } from "zod";
import { DoubleSchema, NonNegativeIntSchema } from "../common.js";
import { defaultFalse, defaultNameList, defaultTrue, defineOpcode, optionalNameList } from "./params.js";

export const OpTestDelaySchema = defineOpcode("OP_TEST_DELAY", {
  /** seconds (float) */
  duration: DoubleSchema,
  on_master: defaultTrue(),
  on_nodes: defaultNameList(),
  on_node_uuids: optionalNameList(),
  repeat: NonNegativeIntSchema.default(0),
  interruptible: defaultFalse(),
  no_locks: defaultTrue(),
});
export type OpTestDelay = z.infer<typeof OpTestDelaySchema>;
