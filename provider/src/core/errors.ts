// Provider errors. Every class carries a `code` (house rule 2). The dynamic
// provider host turns an error that has `id` and `properties` into
// ErrorResourceInitFailed, so the engine records a partially applied
// create/update instead of forgetting it: PartialFailureError uses that.
import { GanetiError, JobFailedError, JobWaitTimeoutError } from "@ganeti-ts/sdk";

export class ProviderError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Missing or contradictory connection settings. */
export class ConfigurationError extends ProviderError {
  constructor(message: string) {
    super(message, "configuration");
  }
}

/** A change that the update policy does not allow (e.g. needs a reboot). */
export class UpdateNotAllowedError extends ProviderError {
  constructor(message: string) {
    super(message, "update_not_allowed");
  }
}

/** `adopt` was not set but the object already exists, or was set and it does not. */
export class AdoptError extends ProviderError {
  constructor(message: string) {
    super(message, "adopt");
  }
}

/**
 * Part of an operation was applied, then a step failed. `id` and
 * `properties` (the object as read back after the failure) make the engine
 * keep the resource in the state with these outputs; the next refresh/up
 * converges.
 */
export class PartialFailureError extends ProviderError {
  readonly id: string;
  readonly properties: Record<string, unknown>;
  readonly reasons: string[];
  constructor(step: string, id: string, properties: Record<string, unknown>, cause: unknown) {
    const why = describeError(cause);
    super(`${step} failed: ${why}`, errorCode(cause), { cause });
    this.id = id;
    this.properties = properties;
    this.reasons = [`${step}: ${why}`];
  }
}

/** One line describing an SDK error: job id and Ganeti's message where there is one. */
export function describeError(err: unknown): string {
  if (err instanceof JobFailedError) return err.message;
  if (err instanceof JobWaitTimeoutError) {
    return `${err.message} (the job keeps running on the cluster; check it with \`gnt job info ${err.jobId}\`)`;
  }
  if (err instanceof Error) return err.message;
  return String(err);
}

function errorCode(err: unknown): string {
  if (err instanceof GanetiError || err instanceof ProviderError) return err.code;
  return "partial_failure";
}

/** Wrap a failed step with context, keeping the cause (never dropping it). */
export class StepError extends ProviderError {
  constructor(step: string, cause: unknown) {
    super(`${step} failed: ${describeError(cause)}`, errorCode(cause), { cause });
  }
}
