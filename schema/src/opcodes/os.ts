// OS opcodes.
import { z } from "zod";
import { NonEmptyStringSchema } from "../common.js";
import { defaultNameList, defineOpcode } from "./params.js";

export const OpOsDiagnoseSchema = defineOpcode("OP_OS_DIAGNOSE", {
  output_fields: z.array(NonEmptyStringSchema),
  names: defaultNameList(),
});
export type OpOsDiagnose = z.infer<typeof OpOsDiagnoseSchema>;
