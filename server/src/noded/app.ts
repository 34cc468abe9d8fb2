// The node daemon's HTTP handler: POST /<call> with a JSON body → the
// backend → {"ok": true, "result"} or {"ok": false, "error"}. Kept apart from
// main.ts (TLS, listening, pid file) so it can be driven without sockets.
import type { IncomingMessage, ServerResponse } from "node:http";
import { RPC_CALLS } from "@ganeti-ts/schema";
import type { NodeBackend } from "./backend/node-backend.js";
import { isRpcCallName } from "./backend/node-backend.js";

const MAX_BODY_BYTES = 64 * 1024 * 1024;
const LONG_CALL_SECONDS = 300;

/** lib/log.ts's LogFn (a plain `(line) => void` fits too). */
interface RequestLog {
  (line: string, fields?: Record<string, unknown>): void;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const data = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(data) });
  res.end(data);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new Error(`Request body larger than ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}

export function createNodeRequestHandler(
  backend: NodeBackend,
  log: RequestLog,
  clock: () => number = Date.now,
): (req: IncomingMessage, res: ServerResponse) => void {
  return (req, res) => {
    const started = clock();
    const name = (req.url ?? "/").replace(/^\/+/, "").split("?")[0] ?? "";
    const finish = (status: number, body: { ok: boolean; error?: string; result?: unknown }) => {
      send(res, status, body);
      const what = body.ok ? "ok" : `error: ${body.error}`;
      log(`${req.method} /${name} ${status} ${clock() - started}ms ${what}`, { call: name, status, ms: clock() - started });
    };
    if (req.method !== "POST") {
      finish(405, { ok: false, error: `Method ${req.method} not allowed; use POST /<call>` });
      req.resume();
      return;
    }
    if (!isRpcCallName(name)) {
      finish(404, { ok: false, error: `Unknown RPC call '${name}'` });
      req.resume();
      return;
    }
    // Long calls (OS installs, migrations, test_delay) are logged when they
    // begin too, so an operator can see what a busy node is doing.
    if (RPC_CALLS[name].timeout >= LONG_CALL_SECONDS) log(`${req.method} /${name} begin`, { call: name });
    void (async () => {
      let args: unknown;
      try {
        const text = await readBody(req);
        args = text.trim() === "" ? {} : JSON.parse(text);
      } catch (err) {
        finish(400, { ok: false, error: `Bad request body: ${(err as Error).message}` });
        return;
      }
      try {
        const result = await backend.handle(name, args);
        finish(200, { ok: true, result: result === undefined ? null : result });
      } catch (err) {
        finish(200, { ok: false, error: err instanceof Error ? err.message : String(err) });
      }
    })().catch((err: unknown) => {
      // Only reachable if writing the response itself failed (socket gone).
      log(`${req.method} /${name} failed to answer: ${(err as Error).message}`, { level: "error", call: name });
    });
  };
}
