// The SDK's error tree. Only this file turns HTTP responses and job results
// into error classes (house rule 2). Every error carries a `code`; nothing
// here ever holds credentials (transport.ts strips them before we see an
// error, and we never keep axios errors as causes).
import type { JobInfo } from "@ganeti-ts/schema";

export class GanetiError extends Error {
  readonly code: string;
  constructor(message: string, code: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Undo the HTML escaping Ganeti applies to error messages (`&#x27;` → `'`). */
export function unescapeHtml(s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]+|#\d+|quot|amp|lt|gt|apos);/g, (_m, ent: string) => {
    switch (ent) {
      case "quot":
        return '"';
      case "amp":
        return "&";
      case "lt":
        return "<";
      case "gt":
        return ">";
      case "apos":
        return "'";
      default:
        return String.fromCodePoint(ent[1] === "x" ? parseInt(ent.slice(2), 16) : parseInt(ent.slice(1), 10));
    }
  });
}

const STATUS_CODES: Record<number, string> = {
  400: "bad_request",
  401: "unauthorized",
  403: "forbidden",
  404: "not_found",
  409: "conflict",
  415: "unsupported_media_type",
  500: "internal_server_error",
  501: "not_implemented",
  502: "bad_gateway",
  503: "service_unavailable",
  504: "gateway_timeout",
};

/** A non-200 answer from the RAPI: `{code, message, explain}`. */
export class RapiError extends GanetiError {
  readonly status: number;
  /** Ganeti's long standard text for the status. */
  readonly explain: string;
  /** The server's message, HTML escaping undone. */
  readonly rapiMessage: string;
  readonly method: string;
  readonly path: string;
  constructor(init: { status: number; message: string; explain: string; method: string; path: string }) {
    super(
      `${init.method} ${init.path}: ${init.status} ${init.message}${init.explain ? `: ${init.explain}` : ""}`,
      STATUS_CODES[init.status] ?? `http_${init.status}`,
    );
    this.status = init.status;
    this.explain = init.explain;
    this.rapiMessage = init.message;
    this.method = init.method;
    this.path = init.path;
  }
}
export class BadRequestError extends RapiError {}
/** 401: no, wrong or unknown credentials. */
export class AuthError extends RapiError {}
/** 403: authenticated, but the user lacks the `read`/`write` option. */
export class PermissionError extends AuthError {}
export class NotFoundError extends RapiError {}
export class ConflictError extends RapiError {}
export class UnsupportedMediaTypeError extends RapiError {}
export class InternalServerError extends RapiError {}
export class NotImplementedError extends RapiError {}
/** 502: Ganeti's master daemon is unreachable, or a query filter is malformed. */
export class BadGatewayError extends RapiError {}
/** 503: job queue full or drained, or console unavailable. */
export class ServiceUnavailableError extends RapiError {}
export class GatewayTimeoutError extends RapiError {}

const BY_STATUS: Record<number, typeof RapiError> = {
  400: BadRequestError,
  401: AuthError,
  403: PermissionError,
  404: NotFoundError,
  409: ConflictError,
  415: UnsupportedMediaTypeError,
  500: InternalServerError,
  501: NotImplementedError,
  502: BadGatewayError,
  503: ServiceUnavailableError,
  504: GatewayTimeoutError,
};

const REASON: Record<number, string> = {
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  409: "Conflict",
  415: "Unsupported Media Type",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

/** Build the error for a non-200 response. Tolerates non-Ganeti bodies (proxies). */
export function errorFromResponse(status: number, body: unknown, method: string, path: string): RapiError {
  let message = REASON[status] ?? `HTTP ${status}`;
  let explain = "";
  if (body && typeof body === "object" && !Array.isArray(body)) {
    const b = body as Record<string, unknown>;
    if (typeof b.message === "string") message = unescapeHtml(b.message);
    if (typeof b.explain === "string") explain = unescapeHtml(b.explain);
  } else if (typeof body === "string" && body.trim() !== "") {
    message = body.trim().slice(0, 500);
  }
  const Cls = BY_STATUS[status] ?? RapiError;
  return new Cls({ status, message, explain, method, path });
}

/** The connection failed (refused, reset, DNS, TLS, certificate pin mismatch). */
export class ConnectionError extends GanetiError {}
/**
 * A job-submitting request reached a master that then failed before
 * answering (connection reset, closed): the job may or may not exist. Never
 * resubmitted automatically; look for it (job list) before submitting again.
 */
export class OutcomeUnknownError extends ConnectionError {}
/** The HTTP request timed out (`timeoutMs` of the client). */
export class RequestTimeoutError extends GanetiError {}
/** The caller's AbortSignal fired. */
export class AbortedError extends GanetiError {
  constructor(message = "The operation was aborted", options?: { cause?: unknown }) {
    super(message, "aborted", options);
  }
}

/** A response did not match its schema; `path` says where (e.g. `[0].status`). */
export class ResponseValidationError extends GanetiError {
  readonly path: string;
  readonly issues: readonly { path: string; message: string }[];
  readonly endpoint: string;
  constructor(endpoint: string, issues: { path: string; message: string }[]) {
    const first = issues[0];
    super(
      `Invalid response from ${endpoint}: ${first ? `${first.path || "(root)"}: ${first.message}` : "unknown"}` +
        (issues.length > 1 ? ` (+${issues.length - 1} more)` : ""),
      "invalid_response",
    );
    this.endpoint = endpoint;
    this.issues = issues;
    this.path = first?.path ?? "";
  }
}

/** Details of the failing opcode, parsed from `opresult`. */
export interface JobFailure {
  jobId: number;
  /** Index of the first opcode with status `error`. */
  opIndex: number;
  /** Its `OP_ID`, e.g. `OP_INSTANCE_STARTUP`. */
  opId: string | null;
  /** Ganeti error class, e.g. `OpPrereqError`. */
  errorClass: string;
  /** ECODE (`unknown_entity`, `wrong_state`, ...) when Ganeti gave one. */
  ecode: string | null;
  /** Ganeti's message (not HTML-escaped inside job results). */
  errorMessage: string;
}

/** A job ended with status `error`. `code` is the ECODE or `job_failed`. */
export class JobFailedError extends GanetiError implements JobFailure {
  readonly jobId: number;
  readonly opIndex: number;
  readonly opId: string | null;
  readonly errorClass: string;
  readonly ecode: string | null;
  readonly errorMessage: string;
  readonly job: JobInfo | undefined;
  constructor(f: JobFailure, job?: JobInfo) {
    super(
      `Job ${f.jobId} failed${f.opId ? ` in ${f.opId}` : ""} (opcode ${f.opIndex}): ${f.errorClass}: ${f.errorMessage}` +
        (f.ecode ? ` [${f.ecode}]` : ""),
      f.ecode ?? "job_failed",
    );
    this.jobId = f.jobId;
    this.opIndex = f.opIndex;
    this.opId = f.opId;
    this.errorClass = f.errorClass;
    this.ecode = f.ecode;
    this.errorMessage = f.errorMessage;
    this.job = job;
  }
}

export class JobCanceledError extends GanetiError {
  readonly jobId: number;
  constructor(jobId: number) {
    super(`Job ${jobId} was canceled`, "job_canceled");
    this.jobId = jobId;
  }
}

/** The job is unknown to the server (3.0 answers every field null). */
export class JobNotFoundError extends GanetiError {
  readonly jobId: number;
  constructor(jobId: number) {
    super(`Job ${jobId} not found`, "job_not_found");
    this.jobId = jobId;
  }
}

/** `wait({ timeoutMs })` elapsed before the job finished (the job keeps running). */
export class JobWaitTimeoutError extends GanetiError {
  readonly jobId: number;
  constructor(jobId: number, timeoutMs: number) {
    super(`Timed out after ${timeoutMs} ms waiting for job ${jobId}`, "job_wait_timeout");
    this.jobId = jobId;
  }
}

/**
 * Parse an encoded job error (`["OpPrereqError", ["msg", "ecode"]]`) into
 * class, message and ecode. Unknown shapes become a generic failure.
 */
export function decodeJobError(result: unknown): { errorClass: string; message: string; ecode: string | null } {
  if (Array.isArray(result) && typeof result[0] === "string") {
    const args = result[1];
    if (Array.isArray(args)) {
      const msg = args[0];
      const ecode = typeof args[1] === "string" ? args[1] : null;
      return { errorClass: result[0], message: typeof msg === "string" ? msg : JSON.stringify(msg ?? null), ecode };
    }
    return { errorClass: result[0], message: typeof args === "string" ? args : JSON.stringify(args ?? null), ecode: null };
  }
  return { errorClass: "JobError", message: typeof result === "string" ? result : JSON.stringify(result ?? null), ecode: null };
}

/** Build a JobFailedError from a finished job whose status is `error`. */
export function jobFailedFromJob(job: JobInfo): JobFailedError {
  const statuses = job.opstatus ?? [];
  let idx = statuses.findIndex((s) => s === "error");
  if (idx < 0) idx = 0;
  const { errorClass, message, ecode } = decodeJobError(job.opresult?.[idx]);
  const op = job.ops?.[idx];
  return new JobFailedError({ jobId: job.id, opIndex: idx, opId: op?.OP_ID ?? null, errorClass, ecode, errorMessage: message }, job);
}
