// One-line error messages and exit codes for gnt, worded like Ganeti's
// gnt-* tools ("Instance 'x' not known") and saying what to do when the
// connection fails.
//   0 success; 1 the cluster refused or the job failed; 2 usage or local
//   configuration error; 3 cannot reach or trust the server.
import {
  AuthError,
  ConnectionError,
  GanetiError,
  JobCanceledError,
  JobFailedError,
  JobNotFoundError,
  JobWaitTimeoutError,
  NotFoundError,
  PermissionError,
  RapiError,
  RequestTimeoutError,
  ResponseValidationError,
  decodeJobError,
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

/** Where gnt was talking to when the error happened: the advice depends on it. */
export interface ErrorContext {
  url?: string;
  ca?: string;
  /** The master's local admin socket, when gnt used it instead of the RAPI. */
  socket?: string;
}

/** A job's error result (`["OpPrereqError", ["msg", "ecode"]]`) as Ganeti's CLI words it, never as a tuple. */
export function formatJobError(result: unknown): string {
  const { errorClass, message, ecode } = decodeJobError(result);
  return `${errorClass}: ${message}${ecode ? ` (${ecode})` : ""}`;
}

/** Ganeti's "not known" wording for an object the RAPI has no resource for. */
const NOT_FOUND: Record<string, (name: string) => string> = {
  instances: (n) => `Instance '${n}' not known`,
  nodes: (n) => `Node '${n}' not known`,
  groups: (n) => `Node group '${n}' not found`,
  networks: (n) => `Network '${n}' not found`,
  jobs: (n) => `Job ID ${n} not found`,
  filters: (n) => `Filter rule '${n}' not found`,
};

/**
 * Ganeti's RAPI passes some errors on as Python's str() of the exception
 * arguments, "('Instance name x not found', 'unknown_entity')": the message
 * and its ECODE, never shown as a tuple.
 */
export function untuple(message: string): { text: string; ecode: string | null } {
  const m = /^\((['"])(.*)\1, (['"])([a-z_]+)\3\)$/s.exec(message.trim());
  if (m) return { text: m[2]!.replace(/\\'/g, "'"), ecode: m[4]! };
  const one = /^\((['"])(.*)\1,?\)$/s.exec(message.trim());
  return one ? { text: one[2]!.replace(/\\'/g, "'"), ecode: null } : { text: message, ecode: null };
}

function notFound(err: RapiError): string {
  const m = /^\/2\/(instances|nodes|groups|networks|jobs|filters)\/([^/?]+)/.exec(err.path);
  if (m) return NOT_FOUND[m[1]!]!(decodeURIComponent(m[2]!));
  return `${err.method} ${err.path}: no such resource on this server (404 ${err.rapiMessage})`;
}

const CERT_CODES = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|UNABLE_TO_GET_ISSUER|HOSTNAME|ALTNAME/i;

function connectionLine(err: GanetiError, c: ErrorContext): string {
  const where = c.socket ? `the master's local socket ${c.socket}` : `the RAPI at ${c.url ?? "?"}`;
  const code = err.code.toUpperCase();
  const url = c.url ? new URL(c.url) : null;
  if (c.socket) {
    if (code === "EACCES" || code === "EPERM") {
      return `It seems you don't have permissions to connect to ${where} (only root, its owner, may).\nPlease retry as root, or give RAPI credentials (--user/--password or GANETI_RAPI_USER/GANETI_RAPI_PASSWORD).`;
    }
    return `Cannot communicate with the master daemon through ${where}.\nIs the process running and listening for connections? (${err.message})`;
  }
  if (code === "ECONNREFUSED") {
    return (
      `Cannot communicate with the master daemon at ${c.url ?? "?"}: connection refused.\n` +
      `Is the process running and listening for connections? If it listens elsewhere, name it with --url or GANETI_RAPI_URL ` +
      `(on the master, "rapiUrl" in DATA_DIR/master.runtime.json).`
    );
  }
  if (code === "ENOTFOUND" || code === "EAI_AGAIN") {
    return `Cannot resolve the host name of ${where}: check --url or GANETI_RAPI_URL.`;
  }
  if (url?.protocol === "http:" && (code === "ECONNRESET" || /socket hang up/i.test(err.message))) {
    const https = c.url!.replace(/^http:/, "https:");
    return `The server at ${c.url} closed the connection on a plain HTTP request: it probably speaks HTTPS (the RAPI's default). Use ${https}.`;
  }
  if (url?.protocol === "https:" && (code === "EPROTO" || /wrong version number|packet length too long/i.test(err.message))) {
    const http = c.url!.replace(/^https:/, "http:");
    return `The server at ${c.url} does not speak HTTPS (a cluster created with --no-ssl serves plain HTTP). Use ${http}.`;
  }
  if (code === "CERT_PIN_MISMATCH") {
    return `The certificate of ${where} does not match the pinned fingerprint (--fingerprint / GANETI_RAPI_FINGERPRINT): check the fingerprint of the cluster's rapi.pem.`;
  }
  if (CERT_CODES.test(code)) {
    const why = (err.cause as Error | undefined)?.message ?? code;
    const fix =
      `give the cluster's own certificate with --ca DATA_DIR/rapi.pem (GANETI_RAPI_CA), ` +
      `or pin it with --fingerprint (openssl x509 -in rapi.pem -noout -fingerprint -sha256)`;
    if (c.ca) return `The certificate of ${where} is not signed by the CA file ${c.ca} (${why}): ${fix}.`;
    return `The certificate of ${where} cannot be verified (${why}); the cluster's certificate is self-signed: ${fix}.`;
  }
  return `Cannot talk to ${where}: ${err.message}`;
}

export function describeError(err: unknown, c: ErrorContext = {}): { line: string; exitCode: number } {
  if (err instanceof CliError) return { line: err.message, exitCode: err.exitCode };
  if (err instanceof JobFailedError) {
    return {
      line: `Job ${err.jobId} failed: ${err.errorClass}: ${err.errorMessage}${err.ecode ? ` (${err.ecode})` : ""}`,
      exitCode: EXIT.FAILED,
    };
  }
  if (err instanceof JobCanceledError) return { line: `Job ${err.jobId} was canceled`, exitCode: EXIT.FAILED };
  if (err instanceof JobNotFoundError) return { line: `Job ID ${err.jobId} not found`, exitCode: EXIT.FAILED };
  if (err instanceof JobWaitTimeoutError) {
    return { line: `${err.message} (it is still running; see "gnt job info ${err.jobId}")`, exitCode: EXIT.FAILED };
  }
  if (err instanceof NotFoundError) return { line: notFound(err), exitCode: EXIT.FAILED };
  if (err instanceof PermissionError) {
    return {
      line: `Permission denied (403) for ${err.method} ${err.path}: the RAPI user lacks the "write" option in the cluster's RAPI users file.`,
      exitCode: EXIT.FAILED,
    };
  }
  if (err instanceof AuthError) {
    return {
      line:
        `Authentication failed (401) for ${err.method} ${err.path}: give a RAPI user and password ` +
        `(--user/--password, GANETI_RAPI_USER/GANETI_RAPI_PASSWORD or the config file); on the master, root needs none.`,
      exitCode: EXIT.FAILED,
    };
  }
  if (err instanceof RapiError) {
    const { text, ecode } = untuple(err.rapiMessage && err.rapiMessage !== String(err.status) ? err.rapiMessage : err.explain);
    if (ecode) return { line: `${text} (${ecode})`, exitCode: EXIT.FAILED };
    return { line: `${text} (${err.status} for ${err.method} ${err.path})`, exitCode: EXIT.FAILED };
  }
  if (err instanceof RequestTimeoutError) {
    return {
      line: `Timeout while talking to the master daemon at ${c.socket ?? c.url ?? "?"}. Jobs might have been submitted and will continue to run; see "gnt job list". (${err.message})`,
      exitCode: EXIT.CONNECTION,
    };
  }
  if (err instanceof ConnectionError) return { line: connectionLine(err, c), exitCode: EXIT.CONNECTION };
  if (err instanceof ResponseValidationError) return { line: err.message, exitCode: EXIT.FAILED };
  if (err instanceof GanetiError) return { line: err.message, exitCode: EXIT.FAILED };
  const errno = err as NodeJS.ErrnoException;
  if (errno?.code === "ENOENT" && c.ca && errno.path === c.ca) {
    return { line: `The CA file ${c.ca} does not exist (--ca / GANETI_RAPI_CA): give the cluster's rapi.pem.`, exitCode: EXIT.USAGE };
  }
  if (err instanceof Error) return { line: err.message, exitCode: EXIT.FAILED };
  return { line: String(err), exitCode: EXIT.FAILED };
}
