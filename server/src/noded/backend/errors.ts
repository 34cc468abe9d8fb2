// Errors raised by the node backend itself (Ganeti's RPCFail): the message is
// what the master sees in {"ok": false, "error"}.
import { GanetiError } from "../../lib/errors.js";

/** A node-side operation failed; `cause` holds the lower-level error. */
export class NodeBackendError extends GanetiError {
  override readonly errorClass = "OpExecError";
  readonly code = "environment_error" as const;
}

/** The call's arguments do not match the call table. */
export class RpcArgsError extends GanetiError {
  override readonly errorClass = "OpExecError";
  readonly code = "wrong_input" as const;
}

/** No such call in the call table. */
export class UnknownRpcCallError extends GanetiError {
  override readonly errorClass = "OpExecError";
  readonly code = "wrong_input" as const;
}

export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
