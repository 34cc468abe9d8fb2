// The one I/O boundary of the SDK: axios with our own agents, JSON in and out,
// retries for idempotent calls, and translation of failures into the error
// tree. Credentials live only in the Authorization header we build here; no
// axios error (which carries config.headers and config.auth) ever leaves this
// file, so no error, cause chain or log line can contain them.
import axios, { type AxiosInstance, type AxiosResponse } from "axios";
import http from "node:http";
import https from "node:https";
import tls from "node:tls";
import { readFileSync } from "node:fs";
import type { Duplex } from "node:stream";
import { AbortedError, ConnectionError, GanetiError, OutcomeUnknownError, RequestTimeoutError, errorFromResponse } from "./errors.js";
import { DEFAULT_RETRY, RETRYABLE_ERRNO, RETRYABLE_STATUS, abortableSleep, backoffDelay, type RetryOptions } from "./retry.js";
import { buildQuery, type QueryValue } from "./path.js";

export interface TransportOptions {
  /** `https://cluster.example.com:5080` (a path prefix is allowed). */
  baseUrl: string;
  /**
   * Further RAPI URLs of the same cluster (its master candidates): reads and
   * job polling that fail on one (no connection, 502/503) go on at the next;
   * a job submission moves on only when it was certainly not sent.
   */
  baseUrls?: string[];
  username?: string;
  password?: string;
  /** PEM CA bundle (contents) used to verify the server certificate. */
  ca?: string | Buffer;
  /** Path of a PEM CA file (the cluster's `rapi.pem` works: it is self-signed). */
  caFile?: string;
  /**
   * SHA-256 fingerprint of the server certificate (hex, colons optional,
   * `sha256:` prefix allowed). When set, the chain is not checked but the
   * certificate must match exactly; checked before any byte of the request
   * (and so the credentials) is sent.
   */
  fingerprint?: string;
  /** Accept any certificate. Explicit opt-in; never the default. */
  insecure?: boolean;
  /**
   * Send every request over this unix socket instead of TCP (the master's
   * local admin socket; `baseUrl` is then `http://localhost`).
   */
  socketPath?: string;
  /** Check the certificate's host name (default true; the Ganeti cert is issued to the cluster name). */
  verifyHostname?: boolean;
  /** Per-request timeout in ms (default 60 000). */
  timeoutMs?: number;
  /** Retry policy for idempotent requests; `false` disables retries. */
  retry?: Partial<RetryOptions> | false;
  userAgent?: string;
  /** Debug log lines (method, path, status, duration; never headers or bodies). */
  logger?: (line: string) => void;
  /** Injected for tests (house rule 7). */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  random?: () => number;
  now?: () => number;
}

export interface SendOptions {
  method: "GET" | "PUT" | "POST" | "DELETE";
  path: string;
  query?: Record<string, QueryValue>;
  /** JSON body; `undefined` sends no body. */
  body?: unknown;
  /** Safe to repeat (default: GET). Job-submitting calls pass false. */
  idempotent?: boolean;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export function normalizeFingerprint(fp: string): string {
  const hex = fp
    .trim()
    .replace(/^sha256[:/]/i, "")
    .replace(/[:\s]/g, "")
    .toUpperCase();
  if (!/^[0-9A-F]{64}$/.test(hex)) throw new GanetiError("fingerprint must be 64 hex digits (SHA-256)", "invalid_option");
  return hex;
}

/** An https.Agent that verifies the peer against a pinned SHA-256 fingerprint before handing out the socket. */
class PinnedAgent extends https.Agent {
  constructor(
    private readonly pin: string,
    opts: https.AgentOptions,
  ) {
    super({ ...opts, rejectUnauthorized: false });
  }
  override createConnection(options: tls.ConnectionOptions, cb: (err: Error | null, s?: Duplex) => void): undefined {
    const socket = tls.connect({ ...options, rejectUnauthorized: false });
    const onError = (err: Error) => cb(err);
    socket.once("error", onError);
    socket.once("secureConnect", () => {
      socket.removeListener("error", onError);
      const got = (socket.getPeerCertificate().fingerprint256 ?? "").replace(/:/g, "").toUpperCase();
      if (got !== this.pin) {
        const err = Object.assign(new Error(`server certificate fingerprint ${got || "(none)"} does not match the pinned one`), {
          code: "CERT_PIN_MISMATCH",
        });
        socket.destroy();
        cb(err);
        return;
      }
      cb(null, socket);
    });
    return undefined;
  }
}

function buildHttpsAgent(o: TransportOptions): https.Agent {
  const base: https.AgentOptions = { keepAlive: true };
  if (o.fingerprint) return new PinnedAgent(normalizeFingerprint(o.fingerprint), base);
  if (o.insecure) return new https.Agent({ ...base, rejectUnauthorized: false });
  const ca = o.ca ?? (o.caFile ? readFileSync(o.caFile) : undefined);
  return new https.Agent({
    ...base,
    ...(ca ? { ca } : {}),
    ...(o.verifyHostname === false ? { checkServerIdentity: () => undefined } : {}),
  });
}

/** Connection errors raised before any byte of the request left: safe to send elsewhere. */
const NOT_SENT_ERRNO = new Set(["ECONNREFUSED", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN"]);
/** Connection lost once the request may have been received. */
const MAYBE_SENT_ERRNO = new Set(["ECONNRESET", "EPIPE", "ECONNABORTED", "UND_ERR_SOCKET"]);

const TLS_HINT = " (the Ganeti cluster certificate is self-signed: pass a CA file, a pinned SHA-256 fingerprint, or insecure)";

export class Transport {
  private readonly http: AxiosInstance;
  private readonly bases: string[];
  /** Index in `bases` of the URL that answered last. */
  private current = 0;
  private readonly authHeader: string | undefined;
  private readonly retry: RetryOptions;
  readonly sleep: (ms: number, signal?: AbortSignal) => Promise<void>;
  readonly random: () => number;
  readonly now: () => number;
  private readonly timeoutMs: number;
  private readonly logger: ((line: string) => void) | undefined;
  private readonly agents: { http: http.Agent; https: https.Agent };
  private readonly socketPath: string | undefined;

  constructor(opts: TransportOptions) {
    this.bases = [...new Set([opts.baseUrl, ...(opts.baseUrls ?? [])])].map((u) => {
      const url = new URL(u);
      if (url.username || url.password) {
        throw new GanetiError("Put credentials in username/password, not in the URL", "invalid_option");
      }
      if (url.protocol !== "http:" && url.protocol !== "https:") {
        throw new GanetiError(`Unsupported URL scheme ${url.protocol}`, "invalid_option");
      }
      return url.toString().replace(/\/+$/, "");
    });
    this.authHeader =
      opts.username !== undefined ? `Basic ${Buffer.from(`${opts.username}:${opts.password ?? ""}`).toString("base64")}` : undefined;
    this.retry = opts.retry === false ? { ...DEFAULT_RETRY, retries: 0 } : { ...DEFAULT_RETRY, ...opts.retry };
    this.sleep = opts.sleep ?? abortableSleep;
    this.random = opts.random ?? Math.random;
    this.now = opts.now ?? Date.now;
    this.timeoutMs = opts.timeoutMs ?? 60_000;
    this.logger = opts.logger;
    this.socketPath = opts.socketPath;
    this.agents = { http: new http.Agent({ keepAlive: true }), https: buildHttpsAgent(opts) };
    this.http = axios.create({
      httpAgent: this.agents.http,
      httpsAgent: this.agents.https,
      responseType: "text",
      transformResponse: [(d: unknown) => d],
      transformRequest: [(d: unknown) => d],
      validateStatus: () => true,
      maxRedirects: 0,
      proxy: false,
      transitional: { clarifyTimeoutError: true },
      headers: {
        Accept: "application/json",
        "User-Agent": opts.userAgent ?? "ganeti-ts-sdk",
      },
    });
  }

  /** Send one request; resolve with the parsed JSON body of a 200 answer. */
  async send(o: SendOptions): Promise<unknown> {
    const idempotent = o.idempotent ?? o.method === "GET";
    const shown = `${o.method} ${o.path}`;
    const n = this.bases.length;
    // With several URLs, a read gets at least one try at each.
    const maxAttempts = idempotent ? Math.max(this.retry.retries + 1, this.retry.retries > 0 ? n : 1) : 1;
    let unsentTries = 0;
    for (let attempt = 0; ; attempt++) {
      const url = this.bases[this.current]! + o.path + buildQuery(o.query);
      if (o.signal?.aborted) throw new AbortedError(undefined, { cause: safeReason(o.signal.reason) });
      const started = this.now();
      let res: AxiosResponse<string>;
      try {
        const headers: Record<string, string> = {};
        if (this.authHeader) headers.Authorization = this.authHeader;
        if (o.body !== undefined) headers["Content-Type"] = "application/json";
        res = await this.http.request<string>({
          method: o.method,
          url,
          headers,
          data: o.body === undefined ? undefined : JSON.stringify(o.body),
          timeout: o.timeoutMs ?? this.timeoutMs,
          ...(this.socketPath ? { socketPath: this.socketPath } : {}),
          ...(o.signal ? { signal: o.signal } : {}),
        });
      } catch (raw) {
        const err = translateNetworkError(raw, shown, idempotent, o.signal);
        this.log(`${shown} -> ${err.code} (${this.now() - started} ms)`);
        if (attempt + 1 < maxAttempts && RETRYABLE_ERRNO.has(err.code.toUpperCase())) {
          this.rotate();
          await this.backoff(attempt, o.signal);
          continue;
        }
        // Not even connected: nothing was submitted, the next master may take it.
        if (!idempotent && n > 1 && NOT_SENT_ERRNO.has(err.code.toUpperCase()) && ++unsentTries < n) {
          this.rotate();
          continue;
        }
        if (!idempotent && MAYBE_SENT_ERRNO.has(err.code.toUpperCase())) {
          throw new OutcomeUnknownError(
            `${err.message}: the master failed before acknowledging; the job may or may not have been submitted (look for it before submitting again)`,
            err.code,
            { cause: err.cause },
          );
        }
        throw err;
      }
      this.log(`${shown} -> ${res.status} (${this.now() - started} ms)`);
      const body = parseBody(res.data);
      if (res.status === 200) return body;
      const err = errorFromResponse(res.status, body, o.method, o.path);
      if (attempt + 1 < maxAttempts && RETRYABLE_STATUS.has(res.status)) {
        this.rotate();
        await this.backoff(attempt, o.signal);
        continue;
      }
      throw err;
    }
  }

  /** The next URL (when there are several): a failover moved the master. */
  private rotate(): void {
    this.current = (this.current + 1) % this.bases.length;
  }

  close(): void {
    this.agents.http.destroy();
    this.agents.https.destroy();
  }

  private async backoff(attempt: number, signal?: AbortSignal): Promise<void> {
    try {
      await this.sleep(backoffDelay(attempt, this.retry, this.random), signal);
    } catch (reason) {
      throw new AbortedError(undefined, { cause: safeReason(reason) });
    }
  }

  private log(line: string): void {
    this.logger?.(line);
  }
}

function parseBody(text: unknown): unknown {
  if (typeof text !== "string") return text ?? null;
  if (text.trim() === "") return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** Keep only what is safe from an abort reason (it may be any object). */
function safeReason(reason: unknown): Error | undefined {
  if (reason instanceof GanetiError) return reason;
  if (reason instanceof Error) return Object.assign(new Error(reason.message), { name: reason.name });
  return undefined;
}

/** Turn an axios/network error into our error without keeping the axios object. */
function translateNetworkError(raw: unknown, shown: string, idempotent: boolean, signal?: AbortSignal): GanetiError {
  const e = raw as { code?: string; message?: string; cause?: { code?: string; message?: string } };
  if (signal?.aborted || e.code === "ERR_CANCELED") {
    return new AbortedError(`${shown}: aborted`, { cause: safeReason(signal?.reason) });
  }
  const code = e.code ?? e.cause?.code ?? "ECONNECTION";
  const message = String(e.message ?? e.cause?.message ?? "connection failed");
  // A plain Error with only message and code: no config, no headers.
  const cause = Object.assign(new Error(message), { code });
  if (code === "ETIMEDOUT" || code === "ECONNABORTED") {
    return new RequestTimeoutError(
      `${shown}: request timed out${idempotent ? "" : " (the job may or may not have been submitted)"}`,
      "ETIMEDOUT",
      { cause },
    );
  }
  const tlsProblem = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ERR_TLS|HOSTNAME|ALTNAME/i.test(code);
  return new ConnectionError(`${shown}: ${message}${tlsProblem && code !== "CERT_PIN_MISMATCH" ? TLS_HINT : ""}`, code, {
    cause,
  });
}
