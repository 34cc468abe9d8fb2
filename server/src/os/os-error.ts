import { GanetiError } from "../lib/errors.js";

/** An OS definition is missing/invalid or one of its scripts failed. */
export class OsError extends GanetiError {
  override readonly errorClass = "OpExecError";
  readonly code = "environment_error" as const;
}
