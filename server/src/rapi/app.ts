// The RAPI v2 server (fastify; the master wiring calls listen()). Request
// processing follows Ganeti's order: path (404) → method (501) →
// authentication/authorization (401/403) → Content-Type and JSON (415/400)
// → handler. Every answer is JSON with `Server: Ganeti 3.0.2`.
import Fastify, { type FastifyInstance, type FastifyRequest } from "fastify";
import type { ClusterConfig } from "../config/cluster-config.js";
import { QueryEngine } from "../config/query/engine.js";
import { LiveDataCache } from "../config/query/live.js";
import type { JobQueueApi } from "../jobs/queue-api.js";
import type { RpcRunner } from "../rpc/runner.js";
import { REALM, UsersFile, checkPassword, type RapiUser } from "./auth.js";
import { RawJson, type Handler, type RapiRequest, type RapiServices } from "./context.js";
import { RapiHttpError, errorBody, translateError } from "./errors.js";
import { clusterHandlers } from "./handlers/cluster.js";
import { jobQueryFilterHandlers } from "./handlers/jobs-query-filters.js";
import { objectHandlers } from "./handlers/objects.js";
import { specialHandlers } from "./handlers/special.js";
import { opcodeHandler } from "./opcode-handler.js";
import { buildRoutes, matchRoute } from "./routes.js";

const SERVER_HEADER = "Ganeti 3.0.2";

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
  /** Reload the users file on change (default true). */
  watchUsers?: boolean;
  nowNs?: () => bigint;
}

export const HANDLERS: Record<string, Handler> = {
  ...clusterHandlers,
  ...objectHandlers,
  ...specialHandlers,
  ...jobQueryFilterHandlers,
};

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"];

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

function readRaw(req: FastifyRequest): Promise<Buffer> {
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body);
  if (typeof req.body === "string") return Promise.resolve(Buffer.from(req.body));
  const raw = req.raw;
  if (raw.readableEnded || raw.complete && raw.readableLength === 0 && raw.listenerCount("data") > 0) return Promise.resolve(Buffer.alloc(0));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    raw.on("data", (c: Buffer) => chunks.push(c));
    raw.on("end", () => resolve(Buffer.concat(chunks)));
    raw.on("error", reject);
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
  const routes = buildRoutes();
  const app = Fastify({
    logger: false,
    ...(deps.tls ? { https: { key: deps.tls.key, cert: deps.tls.cert } } : {}),
    bodyLimit: 64 * 1024 * 1024,
  }) as unknown as FastifyInstance;
  app.addHook("onClose", async () => users.close());
  // Bodies are read raw: Ganeti checks the Content-Type only after routing and authentication.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser("*", { parseAs: "buffer" }, (_req, body, done) => done(null, body));

  const send = (reply: import("fastify").FastifyReply, status: number, payload: unknown, headers: Record<string, string> = {}) => {
    reply.code(status).header("Server", SERVER_HEADER).header("Content-Type", "application/json");
    if (deps.connectionClose) reply.header("Connection", "close");
    for (const [k, v] of Object.entries(headers)) reply.header(k, v);
    return reply.send(payload instanceof RawJson ? payload.bytes : Buffer.from(JSON.stringify(payload)));
  };
  const fail = (reply: import("fastify").FastifyReply, err: unknown) => {
    const t = translateError(err);
    if (t.status >= 500) deps.logger?.error("rapi request failed", { status: t.status, message: t.message });
    return send(reply, t.status, errorBody(t.status, t.message), t.headers);
  };

  app.route({
    method: METHODS,
    url: "*",
    handler: async (request, reply) => {
      try {
        const url = request.raw.url ?? "/";
        const q = url.indexOf("?");
        const path = q >= 0 ? url.slice(0, q) : url;
        const match = matchRoute(routes, path);
        if (!match) throw new RapiHttpError(404);
        const method = request.method.toUpperCase();
        const endpoint = match.route.methods.get(method);
        if (!endpoint) throw new RapiHttpError(501, `Method ${method} is unsupported for path ${path}`);

        // Authentication (rapi-reference §2.2).
        const access = endpoint.access as readonly string[];
        const authHeader = request.headers.authorization;
        let user: RapiUser | null = null;
        if (deps.requireAuthentication || access.length > 0 || authHeader !== undefined) {
          const unauthorized = new RapiHttpError(401, undefined, { "WWW-Authenticate": `Basic realm="${REALM}"` });
          const creds = authHeader ? decodeBasic(authHeader) : null;
          if (!creds) throw unauthorized;
          const u = users.get(creds.user);
          if (!u || !checkPassword(u, creds.password)) throw unauthorized;
          if (access.length > 0 && !u.options.some((o) => access.includes(o))) throw new RapiHttpError(403);
          user = u;
        }

        // Body: only JSON; empty means null.
        const raw = await readRaw(request);
        let body: unknown = null;
        if (raw.length > 0) {
          const ct = (request.headers["content-type"] ?? "application/octet-stream").trim().toLowerCase();
          if (ct !== "application/json") throw new RapiHttpError(415);
          try {
            body = JSON.parse(raw.toString("utf8"));
          } catch {
            throw new RapiHttpError(400, "Unable to parse JSON data");
          }
        }

        const abort = new AbortController();
        request.raw.once("close", () => {
          if (!reply.raw.writableEnded) abort.abort();
        });
        const rreq: RapiRequest = {
          endpoint, method, path, params: match.params, query: parseQuery(q >= 0 ? url.slice(q + 1) : ""), body, user, signal: abort.signal,
        };
        const handler = endpoint.opcode ? opcodeHandler : HANDLERS[endpoint.handler ?? ""];
        if (!handler) throw new Error(`no handler ${endpoint.handler ?? "?"} for ${method} ${endpoint.path}`);
        const result = await handler(rreq, svc);
        return send(reply, 200, result ?? null);
      } catch (err) {
        return fail(reply, err);
      }
    },
  });
  return app;
}
