// Request bodies of the opcode-backed RAPI endpoints, derived from the
// opcode schemas (one shape, one place): what a client may send is the
// opcode's input (defaults optional) minus OP_ID and the parameters the
// path or the query string supply. Unknown keys stay allowed, so that a
// newer server's options are reachable from an older client; the server
// validates the body against the opcode schema.
import type { z } from "zod";
import type { CommonOpParamsSchema } from "../opcodes/params.js";
import type { OpcodeId, OpcodeInput } from "../opcodes/registry.js";

/** The opcode's input parameters for OP_ID `Id`, without `OP_ID` and the `Static` ones (no extra keys). */
export type OpcodeParams<Id extends OpcodeId, Static extends string = never> = Omit<Extract<OpcodeInput, { OP_ID: Id }>, "OP_ID" | Static>;

/** OpcodeParams plus any other key (a newer server's options). Omit<> of this loses the known keys: omit from OpcodeParams. */
export type OpcodeBody<Id extends OpcodeId, Static extends string = never> = OpcodeParams<Id, Static> & { [key: string]: unknown };

/** Parameters every opcode takes (priority, comment, depends, ...). */
export type OpcodeCommonBody = z.input<typeof CommonOpParamsSchema> & { [key: string]: unknown };
