// Waiting for SDK jobs within one operation's deadline; a failed step
// becomes a StepError naming the step (the job id and Ganeti's message come
// from the SDK's JobFailedError / JobWaitTimeoutError).
import type { JobHandle } from "@ganeti-ts/sdk";
import { JobWaitTimeoutError } from "@ganeti-ts/sdk";
import { StepError } from "./errors.js";

export class Deadline {
  private readonly end: number;
  constructor(
    readonly totalMs: number,
    private readonly now: () => number = Date.now,
  ) {
    this.end = now() + totalMs;
  }
  remaining(): number {
    return Math.max(1, this.end - this.now());
  }
}

/** Submit (already done by the caller) and wait for one job. */
export async function runJob<R>(step: string, handle: JobHandle<R>, deadline: Deadline): Promise<R> {
  try {
    return await handle.wait({ timeoutMs: deadline.remaining() });
  } catch (err) {
    throw new StepError(step, err);
  }
}

export function isTimeout(err: unknown): boolean {
  return err instanceof JobWaitTimeoutError || (err instanceof StepError && err.cause instanceof JobWaitTimeoutError);
}
