// Server-side error classes, after Ganeti's errors.py. Each carries the Ganeti
// class name it is reported as in a job's opresult, and the arguments Ganeti
// encodes (message, then the ECODE where Ganeti gives one).
import type { Ecode, EncodedJobError } from "@ganeti-ts/schema";

export class GanetiError extends Error {
  /** Class name used in encoded job errors ("OpPrereqError", ...). */
  readonly errorClass: string = "GenericError";
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
  /** Arguments as Ganeti serialises them in a job's opresult. */
  encodeArgs(): unknown[] {
    return [this.message];
  }
  encode(): EncodedJobError {
    return [this.errorClass, this.encodeArgs()];
  }
}

/** A prerequisite does not hold: the opcode fails before changing anything. */
export class OpPrereqError extends GanetiError {
  override readonly errorClass = "OpPrereqError";
  constructor(
    message: string,
    /** Ganeti omits the ecode in a few messages; keep that faithful. */
    readonly code: Ecode | null = null,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
  override encodeArgs(): unknown[] {
    return this.code === null ? [this.message] : [this.message, this.code];
  }
}

/** Execution failed after prerequisites held. */
export class OpExecError extends GanetiError {
  override readonly errorClass = "OpExecError";
  readonly code = "internal_error" as const;
}

/** Parameter type validation failed inside the job (e.g. "lots" as a size). */
export class TypeEnforcementError extends GanetiError {
  override readonly errorClass = "TypeEnforcementError";
  readonly code = "wrong_input" as const;
}

export class TagError extends GanetiError {
  override readonly errorClass = "TagError";
  readonly code = "wrong_input" as const;
}

export class HypervisorError extends GanetiError {
  override readonly errorClass = "HypervisorError";
  readonly code = "internal_error" as const;
}

export class BlockDeviceError extends GanetiError {
  override readonly errorClass = "BlockDeviceError";
  readonly code = "environment_error" as const;
}

export class ConfigurationError extends GanetiError {
  override readonly errorClass = "ConfigurationError";
  readonly code = "internal_error" as const;
}

/** A node daemon call failed (transport error or the node reported failure). */
export class RpcError extends GanetiError {
  override readonly errorClass = "OpExecError";
  readonly code = "internal_error" as const;
  constructor(
    readonly node: string,
    readonly call: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** The job was canceled while this opcode waited (locks, dependencies). */
export class JobCanceledError extends GanetiError {
  override readonly errorClass = "JobCanceled";
  readonly code = "wrong_state" as const;
}

/** Job queue refuses submissions (full or drained): RAPI answers 503. */
export class JobQueueError extends GanetiError {
  override readonly errorClass = "JobQueueError";
  readonly code = "temp_insufficient_resources" as const;
}

/** Any other error becomes Ganeti's generic OpExecError in a job. */
export function encodeError(err: unknown): EncodedJobError {
  if (err instanceof GanetiError) return err.encode();
  const message = err instanceof Error ? err.message : String(err);
  return ["OpExecError", [message]];
}
