// The daemons' logs: one per daemon, structured (pino), JSON lines by default
// or plain text (GANETI_LOG_FORMAT=text), level from GANETI_LOG_LEVEL. Under
// systemd (JOURNAL_STREAM or INVOCATION_ID set) the log goes to stdout, which
// the journal keeps; otherwise to a file opened for append (copytruncate-safe)
// and reopened on SIGHUP, so logrotate can move it away. GANETI_LOG_TARGET
// (stdout | file) overrides the detection. See docs/operations.md, Logs.
import { AsyncLocalStorage } from "node:async_hooks";
import { mkdirSync } from "node:fs";
import path from "node:path";
import pino, { type Logger } from "pino";

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown> & { level?: LogLevel };
/**
 * How components log: a message and its fields (`jobId`, `reqId`, ...);
 * `fields.level` picks the level (default info). A plain `(line) => void`
 * fits where one is expected.
 */
export type LogFn = (msg: string, fields?: LogFields) => void;

export const LOG_LEVELS: readonly LogLevel[] = ["debug", "info", "warn", "error"];

const context = new AsyncLocalStorage<Record<string, unknown>>();

/**
 * Run `fn` with `fields` added to every line logged meanwhile (and by what
 * it starts), e.g. the RAPI request id while a request is handled.
 */
export function withLogContext<T>(fields: Record<string, unknown>, fn: () => T): T {
  return context.run({ ...context.getStore(), ...fields }, fn);
}

/** Run `fn` without the caller's log context (work that outlives the request, such as a job). */
export function withoutLogContext<T>(fn: () => T): T {
  return context.exit(fn);
}

export interface DaemonLog {
  logger: Logger;
  log: LogFn;
  target: "stdout" | "file";
  format: "json" | "text";
  /** Reopen the file (what SIGHUP does); no-op on stdout. */
  reopen(): void;
  /** Flush and close (stdout is left open). */
  close(): Promise<void>;
}

export interface DaemonLogOptions {
  /** "master" or "noded": the `daemon` field of every line. */
  daemon: string;
  /** The log file when not under systemd. */
  file: string;
  env?: NodeJS.ProcessEnv;
  /** Stdout replacement (tests). */
  stdout?: { write(s: string): unknown };
  /** Reopen on SIGHUP (default true for the file target). */
  handleSighup?: boolean;
}

export function logTarget(env: NodeJS.ProcessEnv): "stdout" | "file" {
  const forced = env["GANETI_LOG_TARGET"];
  if (forced === "stdout" || forced === "file") return forced;
  return env["JOURNAL_STREAM"] || env["INVOCATION_ID"] ? "stdout" : "file";
}

/** One text line from one pino JSON line: `TIME LEVEL daemon: msg key=value ...`. */
export function textLine(json: string): string {
  let o: Record<string, unknown>;
  try {
    o = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const { time, level, daemon, msg, pid: _pid, ...rest } = o;
  const name = typeof level === "number" ? (pino.levels.labels[level] ?? String(level)) : String(level);
  const t = typeof time === "number" ? new Date(time).toISOString() : String(time);
  const kv = Object.entries(rest)
    .map(([k, v]) => `${k}=${typeof v === "string" && !/[\s"=]/.test(v) ? v : JSON.stringify(v)}`)
    .join(" ");
  return `${t} ${name.toUpperCase().padEnd(5)} ${String(daemon)}: ${String(msg ?? "")}${kv ? " " + kv : ""}\n`;
}

export function createDaemonLog(o: DaemonLogOptions): DaemonLog {
  const env = o.env ?? process.env;
  const target = logTarget(env);
  const format = env["GANETI_LOG_FORMAT"] === "text" ? "text" : "json";
  const levelEnv = env["GANETI_LOG_LEVEL"];
  const level = levelEnv && (LOG_LEVELS as readonly string[]).includes(levelEnv) ? levelEnv : "info";
  let file: ReturnType<typeof pino.destination> | null = null;
  let out: { write(s: string): unknown };
  if (target === "file") {
    mkdirSync(path.dirname(o.file), { recursive: true });
    // Synchronous appends: a line is on disk when the call returns, even if the daemon dies next.
    file = pino.destination({ dest: o.file, sync: true, append: true, mkdir: true });
    // A broken log must not take the daemon down; say it on stderr.
    file.on("error", (err: Error) => process.stderr.write(`${o.daemon}: log file ${o.file}: ${err.message}\n`));
    out = file;
  } else {
    out = o.stdout ?? process.stdout;
  }
  const sink = format === "text" ? { write: (s: string) => out.write(textLine(s)) } : out;
  const logger = pino({ level, base: { daemon: o.daemon, pid: process.pid }, timestamp: pino.stdTimeFunctions.isoTime }, sink);
  const log: LogFn = (msg, fields = {}) => {
    const { level: lv = "info", ...rest } = fields;
    const ctx = context.getStore();
    logger[lv](ctx ? { ...ctx, ...rest } : rest, msg);
  };
  const reopen = () => file?.reopen();
  const onHup = () => {
    reopen();
    log("log file reopened (SIGHUP)");
  };
  const hup = file !== null && o.handleSighup !== false;
  if (hup) process.on("SIGHUP", onHup);
  return {
    logger,
    log,
    target,
    format,
    reopen,
    async close() {
      if (hup) process.off("SIGHUP", onHup);
      if (file) {
        const f = file;
        file = null;
        f.flushSync();
        await new Promise<void>((resolve) => {
          f.once("close", () => resolve());
          f.end();
        });
      }
    },
  };
}
