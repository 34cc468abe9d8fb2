// The master's local control socket (Ganeti's LUXI, simplified): newline-
// delimited JSON requests {"method", "args"} on a unix socket in the data
// directory, answered with {"success": true, "result"} or {"success": false,
// "error": {"class", "message", "code"}}. File permissions (0600) are the
// authentication, as for Ganeti's master socket. Used by `gnt node add` and
// `gnt node remove`, which have no RAPI resource.
import { chmod, rm } from "node:fs/promises";
import net from "node:net";
import type { OpcodeInput } from "../cmdlib/base.js";
import type { JobQueue } from "../jobs/queue.js";
import { GanetiError } from "../lib/errors.js";

interface ControlRequest {
  method: string;
  args: unknown[];
}

/** The master's watcher, for `gnt watcher` and `gnt cluster watcher pause|continue|info`. */
export interface WatcherControl {
  run(): Promise<string[]>;
  setPause(until: number | null): Promise<number | null>;
  pausedUntil(): Promise<number | null>;
}

export interface ControlExtras {
  /** Methods answered by every master daemon, active or standby (master failover, getmaster). */
  methods?: Record<string, (args: unknown[]) => Promise<unknown>>;
  /** More methods, answered only by the active master (a standby answers NotMasterError, naming it). */
  activeMethods?: Record<string, (args: unknown[]) => Promise<unknown>>;
  /** Why there is no queue here (a standby master): the error job methods answer. */
  notMaster?: () => { message: string; master: unknown };
  /** The active master's watcher (null in standby). */
  watcher?: () => WatcherControl | null;
}

/** `queue`: the queue, or a function giving it while this daemon is the active master (null in standby). */
export async function startControlSocket(
  path: string,
  queueOf: JobQueue | (() => JobQueue | null),
  extras: ControlExtras = {},
): Promise<{ close(): Promise<void> }> {
  await rm(path, { force: true });
  const server = net.createServer((sock) => {
    let buf = "";
    sock.setEncoding("utf8");
    sock.on("data", (chunk: string) => {
      buf += chunk;
      let nl: number;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void handle(line).then((reply) => sock.write(`${JSON.stringify(reply)}\n`));
      }
    });
    sock.on("error", () => sock.destroy());
  });

  async function handle(line: string): Promise<unknown> {
    try {
      const req = JSON.parse(line) as ControlRequest;
      const args = Array.isArray(req.args) ? req.args : [];
      const extra = extras.methods?.[req.method];
      if (extra) return ok(await extra(args));
      const queue = typeof queueOf === "function" ? queueOf() : queueOf;
      if (!queue) {
        const nm = extras.notMaster?.() ?? { message: "This daemon is not the master", master: null };
        return { success: false, error: { class: "NotMasterError", message: nm.message, code: null, master: nm.master } };
      }
      const activeExtra = extras.activeMethods?.[req.method];
      if (activeExtra) return ok(await activeExtra(args));
      const watcher = extras.watcher?.() ?? null;
      switch (req.method) {
        case "SubmitJob":
          return ok(await queue.submit(args[0] as OpcodeInput[]));
        case "SubmitManyJobs":
          return ok(await queue.submitMany(args[0] as OpcodeInput[][]));
        case "QueryJob": {
          const job = await queue.getJob(Number(args[0]));
          return ok(job ? queue.jobFields(job, (args[1] as string[]) ?? ["id", "status", "opresult"]) : null);
        }
        case "WaitForJobChange":
          return ok(
            await queue.waitForChange(
              Number(args[0]),
              args[1] as string[],
              (args[2] as unknown[] | null) ?? null,
              (args[3] as number | null) ?? null,
              Math.min(Number(args[4] ?? 10), 60) * 1000,
            ),
          );
        case "CancelJob":
          return ok(await queue.cancel(Number(args[0])));
        case "ArchiveJob":
          return ok(await queue.archive(Number(args[0])));
        case "AutoArchiveJobs":
          return ok(await queue.archiveOld(Number(args[0])));
        case "RunWatcher":
          if (!watcher) break;
          return ok(await watcher.run());
        case "SetWatcherPause":
          if (!watcher) break;
          return ok(await watcher.setPause(typeof args[0] === "number" ? args[0] : null));
        case "QueryWatcherPause":
          if (!watcher) break;
          return ok(await watcher.pausedUntil());
        case "SetDrainFlag":
          queue.setDrained(Boolean(args[0]));
          return ok(true);
        default:
      }
      return { success: false, error: { class: "ProtocolError", message: `Unknown method '${req.method}'` } };
    } catch (err) {
      if (err instanceof GanetiError) {
        const code = (err as GanetiError & { code?: unknown }).code ?? null;
        return { success: false, error: { class: err.errorClass, message: err.message, code } };
      }
      return { success: false, error: { class: "ProtocolError", message: err instanceof Error ? err.message : String(err) } };
    }
  }

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(path, () => resolve());
  });
  await chmod(path, 0o600);
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        void rm(path, { force: true });
      }),
  };
}

function ok(result: unknown) {
  return { success: true, result };
}

/** Client side, for the CLI: one request, one answer. */
export function controlCall(path: string, method: string, args: unknown[], timeoutMs = 120_000): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const sock = net.createConnection(path);
    let buf = "";
    const timer = setTimeout(() => {
      sock.destroy();
      reject(new Error(`master control socket ${path}: no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    sock.setEncoding("utf8");
    sock.on("connect", () => sock.write(`${JSON.stringify({ method, args })}\n`));
    sock.on("data", (c: string) => {
      buf += c;
      const nl = buf.indexOf("\n");
      if (nl < 0) return;
      clearTimeout(timer);
      sock.end();
      const reply = JSON.parse(buf.slice(0, nl)) as {
        success: boolean;
        result?: unknown;
        error?: { class: string; message: string; code?: string; master?: unknown };
      };
      if (reply.success) resolve(reply.result);
      else
        reject(
          Object.assign(new Error(reply.error?.message ?? "control call failed"), {
            errorClass: reply.error?.class,
            code: reply.error?.code,
            master: reply.error?.master,
          }),
        );
    });
    sock.on("error", (err) => {
      clearTimeout(timer);
      reject(new Error(`cannot reach the master daemon at ${path}: ${err.message}`, { cause: err }));
    });
  });
}
