// One-line error messages and exit codes for gnt.
//   0 success; 1 the cluster refused or the job failed; 2 usage or local
//   configuration error; 3 cannot reach or trust the server.
import {
  ConnectionError,
  GanetiError,
  JobCanceledError,
  JobFailedError,
  JobWaitTimeoutError,
  RapiError,
  RequestTimeoutError,
  ResponseValidationError,
} from "@ganeti-ts/sdk";

export const EXIT = { OK: 0, FAILED: 1, USAGE: 2, CONNECTION: 3 } as const;

export class CliError extends Error {
  readonly code: string;
  constructor(
    message: string,
    readonly exitCode: number = EXIT.USAGE,
  ) {
    super(message);
    this.name = "CliError";
    this.code = exitCode === EXIT.USAGE ? "usage" : "cli_error";
  }
}

/** Ends gnt with an exit code after the command printed everything itself (Ganeti's non-zero returns). */
export class ExitStatus extends Error {
  constructor(readonly exitCode: number) {
    super(`exit status ${exitCode}`);
    this.name = "ExitStatus";
  }
}

export function describeError(err: unknown): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: err.message, exitCode: err.exitCode };
  if (err instanceof JobFailedError) {
    return {
      line: `Job ${err.jobId} failed: ${err.errorClass}: ${err.errorMessage}${err.ecode ? ` (${err.ecode})` : ""}`,
      exitCode: EXIT.FAILED,
    };
  }
  if (err instanceof JobCanceledError) return { line: `Job ${err.jobId} was canceled`, exitCode: EXIT.FAILED };
  if (err instanceof JobWaitTimeoutError) {
    return { line: `${err.message} (it is still running; see "gnt job info ${err.jobId}")`, exitCode: EXIT.FAILED };
  }
  if (err instanceof RapiError) {
    return { line: `${err.status} ${err.rapiMessage} (${err.method} ${err.path})`, exitCode: EXIT.FAILED };
  }
  if (err instanceof ConnectionError || err instanceof RequestTimeoutError) {
    return { line: `Cannot talk to the RAPI: ${err.message}`, exitCode: EXIT.CONNECTION };
  }
  if (err instanceof ResponseValidationError) return { line: err.message, exitCode: EXIT.FAILED };
  if (err instanceof GanetiError) return { line: err.message, exitCode: EXIT.FAILED };
  if (err instanceof Error) return { line: err.message, exitCode: EXIT.FAILED };
  return { line: String(err), exitCode: EXIT.FAILED };
}
