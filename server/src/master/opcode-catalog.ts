// Submission-time opcode handling for the job queue: fill every default and
// validate with the schemas from schema/ (the job then stores the complete
// opcode, as Ganeti does), and name each opcode's summary field.
import { OPCODES, toGanetiOpcodeDict, validateOpcodeParams, type OpcodeId } from "@ganeti-ts/schema";
import type { OpcodeInput } from "../cmdlib/base.js";
import type { OpcodeCatalog } from "../jobs/queue.js";
import { OpPrereqError } from "../lib/errors.js";

const known = (opId: string): opId is OpcodeId => Object.prototype.hasOwnProperty.call(OPCODES, opId);

export const OPCODE_CATALOG: OpcodeCatalog = {
  prepare(input: OpcodeInput): OpcodeInput {
    const { OP_ID: opId, ...params } = input;
    // Every LU of the registry has a schema; unknown ids (test-only LUs) pass
    // through, and the queue fails the job if no LU implements them.
    if (!known(opId)) return input;
    const res = validateOpcodeParams(opId, params);
    if (!res.ok) throw new OpPrereqError(res.message, "wrong_input");
    // Stored as Ganeti stores it: unset optional parameters left out.
    return toGanetiOpcodeDict(res.op) as OpcodeInput;
  },
  expand(stored: OpcodeInput): OpcodeInput {
    const { OP_ID: opId, ...params } = stored;
    if (!known(opId)) return stored;
    const res = validateOpcodeParams(opId, params);
    if (!res.ok) throw new OpPrereqError(res.message, "wrong_input");
    return res.op as OpcodeInput;
  },
  summaryField: (opId) => (known(opId) ? OPCODES[opId].summaryField : undefined),
};
