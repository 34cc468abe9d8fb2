// The RAPI v2 server (fastify; the master wiring calls listen()). Request
// processing follows Ganeti's order: path (404) → method (501) →
// authentication/authorization (401/403) → Content-Type and JSON (415/400)
// → handler. Every answer is JSON with `Server: Ganeti 3.0.2`.
import { randomBytes } from "node:crypto";
import http, { type IncomingMessage } from "node:http";
import type { Duplex } from "node:stream";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import { JobIdResponseSchema } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../config/cluster-config.js";
import { QueryEngine } from "../config/query/engine.js";
import { LiveDataCache } from "../config/query/live.js";
import type { JobQueueApi } from "../jobs/queue-api.js";
import { withLogContext } from "../lib/log.js";
import type { RpcRunner } from "../rpc/runner.js";
import { REALM, UsersFile, checkPassword, type RapiUser } from "./auth.js";
import { RawJson, type Handler, type RapiRequest, type RapiServices } from "./context.js";
import { RapiHttpError, errorBody, reasonPhrase as REASONS_PHRASE, translateError } from "./errors.js";
import { clusterHandlers } from "./handlers/cluster.js";
import { jobQueryFilterHandlers } from "./handlers/jobs-query-filters.js";
import { objectHandlers } from "./handlers/objects.js";
import { specialHandlers } from "./handlers/special.js";
import { AnonymousJobBudget } from "./anonymous-jobs.js";
import { opcodeHandler } from "./opcode-handler.js";
import { buildRoutes, matchRoute, type PathRoute } from "./routes.js";

const SERVER_HEADER = "Ganeti 3.0.2";

/** Who requests on the local admin socket act as (root on the master, as Ganeti's CLI over LUXI). */
const LOCAL_ADMIN: RapiUser = { name: "root (local socket)", password: "", options: ["read", "write"] };

interface RapiLogger {
  info(msg: string, meta?: Record<string, unknown>): void;
  error(msg: string, meta?: Record<string, unknown>): void;
}

interface RapiServerDeps {
  config: ClusterConfig;
  queue: JobQueueApi;
  rpc: RpcRunner;
  usersFile: string;
  requireAuthentication?: boolean;
  tls?: { key: string; cert: string } | null;
  logger?: RapiLogger;
  /** Send `Connection: close` on every answer like Ganeti (default false: keep-alive, see docs/rapi.md). */
  connectionClose?: boolean;
  /** Reuse live node data for this long (ms); 0 = share only between concurrent requests. */
  liveCacheMs?: number;
  /** Cap of GET /2/jobs/ID/wait (Ganeti: 10 s). */
  waitTimeoutMs?: number;
  /** Largest request body accepted (bytes; default 1 MiB). */
  maxBodyBytes?: number;
  /** Time allowed to send the request headers (ms; default 10 s). */
  headersTimeoutMs?: number;
  /** Time allowed to send the whole request, body included (ms; default 30 s). */
  requestTimeoutMs?: number;
  /** Unfinished jobs anonymous requests may have caused at once (default 10); more get 503. */
  anonymousJobLimit?: number;
  /** Reload the users file on change (default true). */
  watchUsers?: boolean;
  /**
   * The master's local admin socket: every request acts as a user with
   * read and write rights, without credentials. Only for a listener that
   * the file system protects (a unix socket of mode 0600).
   */
  localAdmin?: boolean;
  nowNs?: () => bigint;
}

export const HANDLERS: Record<string, Handler> = {
  ...clusterHandlers,
  ...objectHandlers,
  ...specialHandlers,
  ...jobQueryFilterHandlers,
};

/**
 * Every method Node's parser accepts except CONNECT (answered on the raw
 * socket): Ganeti routes any method, answering 404 for an unknown path and
 * 501 for a method the path does not support. All are "bodyless" for
 * fastify: bodies are read by the handler itself, after authentication and
 * within the body limit.
 */
const METHODS = http.METHODS.filter((m) => m !== "CONNECT");

/** Request bodies above this are refused with 413 (Ganeti's own bodies are a few KiB; multi-alloc of hundreds of instances fits). */
export const DEFAULT_MAX_BODY_BYTES = 1024 * 1024;
/** Time to receive the request line and headers (Ganeti's read timeout: 10 s). */
export const DEFAULT_HEADERS_TIMEOUT_MS = 10_000;
/** Time to receive a whole request, body included. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;
/** Request line plus headers (Ganeti: 8 KiB start line, 4 KiB headers). */
export const MAX_HEADER_BYTES = 16 * 1024;
/**
 * JSON bodies nested deeper are refused before parsing (RAPI bodies need
 * fewer than ten levels). Opcode parameter dicts have their own, smaller
 * bound, checked with a message naming the parameter.
 */
export const MAX_BODY_JSON_DEPTH = 100;

/** parse_qs semantics: repeated keys → list, blank values dropped, + and %xx decoded. */
function parseQuery(qs: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(qs)) {
    if (v === "") continue;
    const list = out.get(k);
    if (list) list.push(v);
    else out.set(k, [v]);
  }
  return out;
}

/** True when a JSON text nests arrays/objects deeper than `max` (a linear scan, no recursion). */
export function jsonTextDepthExceeds(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > max) return true;
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return false;
}

function requestHasBody(raw: IncomingMessage): boolean {
  const len = raw.headers["content-length"];
  return raw.headers["transfer-encoding"] !== undefined || (len !== undefined && len !== "0");
}

/** Read the request body, refusing more than `limit` bytes (without reading them). */
function readBody(raw: IncomingMessage, limit: number): Promise<Buffer> {
  const tooLarge = () => new RapiHttpError(413, `Request body larger than ${limit} bytes`);
  const declared = raw.headers["content-length"];
  if (declared !== undefined && Number(declared) > limit) return Promise.reject(tooLarge());
  if (raw.readableEnded) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const cleanup = () => {
      raw.off("data", onData);
      raw.off("end", onEnd);
      raw.off("error", onError);
      raw.off("close", onClose);
    };
    const onData = (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        cleanup();
        raw.pause();
        reject(tooLarge());
        return;
      }
      chunks.push(c);
    };
    const onEnd = () => {
      cleanup();
      resolve(Buffer.concat(chunks));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new RapiHttpError(400, "Connection closed while reading the request body"));
    };
    raw.on("data", onData);
    raw.on("end", onEnd);
    raw.on("error", onError);
    raw.on("close", onClose);
  });
}

function decodeBasic(header: string): { user: string; password: string } | null {
  const m = /^Basic\s+(\S+)\s*$/i.exec(header);
  if (!m) return null;
  const text = Buffer.from(m[1] ?? "", "base64").toString("utf8");
  const i = text.indexOf(":");
  if (i < 0) return null;
  return { user: text.slice(0, i), password: text.slice(i + 1) };
}

/** A complete HTTP/1.1 error answer in Ganeti's shape, for the raw socket (parser errors, CONNECT). */
export function rawErrorResponse(status: number, message?: string): string {
  const body = JSON.stringify(errorBody(status, message ?? REASONS_PHRASE(status)));
  return (
    `HTTP/1.1 ${status} ${REASONS_PHRASE(status)}\r\nServer: ${SERVER_HEADER}\r\nContent-Type: application/json\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * The answer to a request Node's HTTP parser (or its timers) refused before
 * fastify saw it. A well-formed request line with a method token Node does
 * not know is answered as Ganeti answers any method: 404 for an unknown
 * path, else 501.
 */
export function clientErrorAnswer(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, routes: PathRoute[]): string {
  switch (err.code) {
    case "HPE_HEADER_OVERFLOW":
      return rawErrorResponse(431);
    case "ERR_HTTP_REQUEST_TIMEOUT":
      return rawErrorResponse(408);
    case "HPE_INVALID_METHOD": {
      const first = (err.rawPacket ?? Buffer.alloc(0)).toString("latin1").split("\r\n", 1)[0] ?? "";
      const m = /^([!#$%&'*+.^_`|~0-9A-Za-z-]+) (\/\S*) HTTP\/\d\.\d$/.exec(first);
      if (!m) return rawErrorResponse(400);
      const path = m[2]!.split("?", 1)[0]!;
      return matchRoute(routes, path) ? rawErrorResponse(501, `Method ${m[1]!} is unsupported for path ${path}`) : rawErrorResponse(404);
    }
    default:
      return rawErrorResponse(400);
  }
}

export async function buildRapiServer(deps: RapiServerDeps): Promise<FastifyInstance> {
  const users = new UsersFile(deps.usersFile, (err) => deps.logger?.error("users file", { err: String(err) }));
  await users.load();
  if (deps.watchUsers !== false) users.watch();
  const live = new LiveDataCache(deps.rpc, deps.liveCacheMs ?? 0);
  const svc: RapiServices = {
    config: deps.config,
    queue: deps.queue,
    rpc: deps.rpc,
    engine: new QueryEngine({ config: deps.config, live, jobs: deps.queue }),
    nowNs: deps.nowNs ?? (() => BigInt(Date.now()) * 1_000_000n),
    waitTimeoutMs: deps.waitTimeoutMs ?? 10_000,
  };
  // Anonymous requests see the queue through a budget of unfinished jobs.
  const anonymousSvc: RapiServices = { ...svc, queue: new AnonymousJobBudget(deps.queue, deps.anonymousJobLimit).queueView() };
  const routes = buildRoutes();
  const maxBody = deps.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const requestTimeout = deps.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
  const headersTimeout = Math.min(deps.headersTimeoutMs ?? DEFAULT_HEADERS_TIMEOUT_MS, requestTimeout);
  // Node checks the request timers at this interval: often enough for the timeouts to mean something.
  const serverOptions = {
    maxHeaderSize: MAX_HEADER_BYTES,
    requestTimeout,
    headersTimeout,
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 2))),
  };
  /** What the access-log line of a request adds: its user and the job it submitted. */
  const seen = new WeakMap<FastifyRequest, { user?: string; jobId?: number; endpoint?: string }>();
  const app = Fastify({
    logger: false,
    // A request id on every log line about the request (random: unique across restarts).
    genReqId: () => randomBytes(6).toString("hex"),
    ...(deps.tls ? { https: { key: deps.tls.key, cert: deps.tls.cert, ...serverOptions } } : { http: serverOptions }),
    requestTimeout,
    bodyLimit: maxBody,
    // Below the routes (bad percent escapes in the path...): Ganeti's path patterns would not match.
    frameworkErrors: (err, _req, reply) => {
      const status = (err as { code?: string }).code === "FST_ERR_BAD_URL" ? 404 : 400;
      return send(reply, status, errorBody(status, REASONS_PHRASE(status)), { Connection: "close" });
    },
    // Node's HTTP parser refused the request (NUL in a header, oversized headers, timeouts...).
    clientErrorHandler: (err: NodeJS.ErrnoException, socket: Duplex) => {
      if (err.code === "ECONNRESET" || socket.destroyed) return;
      const inFlight = (socket as Duplex & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
      if (socket.writable && !inFlight?.headersSent) socket.end(clientErrorAnswer(err, routes));
      else socket.destroy();
    },
  }) as unknown as FastifyInstance;
  // Node drops CONNECT without a listener: answer it as Ganeti answers any method (404 or 501).
  app.server.on("connect", (req: IncomingMessage, socket: Duplex) => {
    socket.on("error", () => socket.destroy());
    const url = req.url ?? "";
    const q = url.indexOf("?");
    const path = q >= 0 ? url.slice(0, q) : url;
    const match = path.startsWith("/") ? matchRoute(routes, path) : null;
    socket.end(match ? rawErrorResponse(501, `Method CONNECT is unsupported for path ${path}`) : rawErrorResponse(404));
  });
  for (const m of METHODS) {
    if (app.supportedMethods.includes(m)) app.addHttpMethod(m, { hasBody: false, overrideExisting: true });
    else app.addHttpMethod(m, { hasBody: false });
  }
  app.addHook("onClose", async () => users.close());
  // One access line per request (never the query string or body: they may carry secrets).
  app.addHook("onResponse", async (request, reply) => {
    const extra = seen.get(request) ?? {};
    const url = request.raw.url ?? "/";
    const q = url.indexOf("?");
    deps.logger?.info(`${request.method} ${q >= 0 ? url.slice(0, q) : url} ${reply.statusCode}`, {
      reqId: request.id,
      method: request.method,
      path: q >= 0 ? url.slice(0, q) : url,
      status: reply.statusCode,
      ms: Math.round(reply.elapsedTime),
      ...(extra.endpoint ? { endpoint: extra.endpoint } : {}),
      ...(extra.user ? { user: extra.user } : {}),
      ...(extra.jobId !== undefined ? { jobId: extra.jobId } : {}),
      remote: request.ip,
    });
  });
  app.removeAllContentTypeParsers();

  const send = (reply: FastifyReply, status: number, payload: unknown, headers: Record<string, string> = {}) => {
    reply.code(status).header("Server", SERVER_HEADER).header("Content-Type", "application/json");
    if (deps.connectionClose) reply.header("Connection", "close");
    for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    return reply.send(payload instanceof RawJson ? payload.bytes : Buffer.from(JSON.stringify(payload)));
  };
  const fail = (reply: FastifyReply, err: unknown, headers: Record<string, string> = {}) => {
    const t = translateError(err);
    if (t.status >= 500) deps.logger?.error("rapi request failed", { reqId: reply.request.id, status: t.status, message: t.message });
    return send(reply, t.status, errorBody(t.status, t.message), { ...t.headers, ...headers });
  };
  app.setNotFoundHandler((_request, reply) => fail(reply, new RapiHttpError(404)));
  app.setErrorHandler((err, _request, reply) => {
    const code = (err as { statusCode?: unknown }).statusCode;
    const status = typeof code === "number" && code >= 400 && code < 600 ? code : 500;
    return fail(reply, new RapiHttpError(status, status >= 500 ? undefined : REASONS_PHRASE(status)), { Connection: "close" });
  });

  app.route({
    method: METHODS,
    url: "*",
    handler: async (request, reply) => {
      // An answer given before the body was read closes the connection: the rest is never read.
      let unreadBody = requestHasBody(request.raw);
      try {
        const url = request.raw.url ?? "/";
        const q = url.indexOf("?");
        const path = q >= 0 ? url.slice(0, q) : url;
        const match = matchRoute(routes, path);
        if (!match) throw new RapiHttpError(404);
        const method = request.method.toUpperCase();
        const endpoint = match.route.methods.get(method);
        if (!endpoint) throw new RapiHttpError(501, `Method ${method} is unsupported for path ${path}`);

        // Authentication (as Ganeti's RAPI), before a byte of the body is read.
        const access = endpoint.access as readonly string[];
        const authHeader = request.headers.authorization;
        let user: RapiUser | null = deps.localAdmin ? LOCAL_ADMIN : null;
        if (!deps.localAdmin && (deps.requireAuthentication || access.length > 0 || authHeader !== undefined)) {
          const unauthorized = new RapiHttpError(401, undefined, { "WWW-Authenticate": `Basic realm="${REALM}"` });
          const creds = authHeader ? decodeBasic(authHeader) : null;
          if (!creds) throw unauthorized;
          const u = users.get(creds.user);
          if (!u || !checkPassword(u, creds.password)) throw unauthorized;
          if (access.length > 0 && !u.options.some((o) => access.includes(o))) throw new RapiHttpError(403);
          user = u;
          seen.set(request, { user: u.name });
        }

        // Body: only JSON; empty means null.
        const raw = await readBody(request.raw, maxBody);
        unreadBody = false;
        let body: unknown = null;
        if (raw.length > 0) {
          const ct = (request.headers["content-type"] ?? "application/octet-stream").trim().toLowerCase();
          if (ct !== "application/json") throw new RapiHttpError(415);
          const text = raw.toString("utf8");
          if (jsonTextDepthExceeds(text, MAX_BODY_JSON_DEPTH)) throw new RapiHttpError(400, "Unable to parse JSON data");
          try {
            body = JSON.parse(text);
          } catch {
            throw new RapiHttpError(400, "Unable to parse JSON data");
          }
        }

        const abort = new AbortController();
        request.raw.once("close", () => {
          if (!reply.raw.writableEnded) abort.abort();
        });
        const rreq: RapiRequest = {
          endpoint,
          method,
          path,
          params: match.params,
          query: parseQuery(q >= 0 ? url.slice(q + 1) : ""),
          body,
          user,
          signal: abort.signal,
        };
        const handler = endpoint.opcode ? opcodeHandler : HANDLERS[endpoint.handler ?? ""];
        if (!handler) throw new Error(`no handler ${endpoint.handler ?? "?"} for ${method} ${endpoint.path}`);
        // Lines logged while the handler runs (a job submitted, ...) carry the request id.
        const result = await withLogContext({ reqId: request.id }, () => handler(rreq, user ? svc : anonymousSvc));
        if (endpoint.response === JobIdResponseSchema && typeof result === "number")
          seen.set(request, { ...seen.get(request), endpoint: endpoint.name, jobId: result });
        return send(reply, 200, result ?? null);
      } catch (err) {
        return fail(reply, err, unreadBody ? { Connection: "close" } : {});
      }
    },
  });
  return app;
}
