// A client for QEMU's machine protocol (QMP) on a unix socket: greeting,
// qmp_capabilities, then one JSON command per line, answered in order by
// {"return": ...} or {"error": {class, desc}}; asynchronous {"event": ...}
// lines may come in between. QEMU serves one QMP client at a time on a
// socket, so callers keep connections short (connect, a few commands, close)
// as Ganeti's QmpConnection does.
import net from "node:net";
import type { Duplex } from "node:stream";
import { HypervisorError } from "../../lib/errors.js";

export class QmpError extends HypervisorError {
  constructor(
    message: string,
    readonly qmpClass?: string,
    opts?: { cause?: unknown },
  ) {
    super(message, opts);
  }
}

export interface QmpEvent {
  event: string;
  data?: Record<string, unknown>;
  timestamp?: { seconds: number; microseconds: number };
}

interface Pending {
  command: string;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

export class QmpClient {
  private buf = "";
  private readonly pending: Pending[] = [];
  private greeted: ((v: unknown) => void) | null = null;
  private closedErr: Error | null = null;
  readonly events: QmpEvent[] = [];
  private eventWaiters: { name: string; resolve: (e: QmpEvent) => void }[] = [];

  private constructor(
    private readonly sock: Duplex,
    private readonly path: string,
  ) {}

  /** Connect, read the greeting and negotiate capabilities. */
  static async connect(path: string, timeoutMs = 10_000): Promise<QmpClient> {
    const sock = net.createConnection({ path });
    return QmpClient.open(
      sock,
      path,
      timeoutMs,
      () =>
        new Promise<void>((resolve, reject) => {
          sock.once("connect", resolve);
          sock.once("error", reject);
        }),
    );
  }

  /** A QMP session over `stream` (a relay to the socket `path`): greeting and capabilities. */
  static over(stream: Duplex, path: string, timeoutMs = 10_000): Promise<QmpClient> {
    return QmpClient.open(stream, path, timeoutMs, async () => undefined);
  }

  private static async open(sock: Duplex, path: string, timeoutMs: number, connected: () => Promise<void>): Promise<QmpClient> {
    const client = new QmpClient(sock, path);
    const timer = setTimeout(() => sock.destroy(new Error(`timeout after ${timeoutMs} ms`)), timeoutMs);
    try {
      await connected();
      const greeting = new Promise<unknown>((resolve) => (client.greeted = resolve));
      client.attach();
      await Promise.race([greeting, client.closedPromise()]);
      await client.execute("qmp_capabilities");
      clearTimeout(timer);
      return client;
    } catch (err) {
      clearTimeout(timer);
      sock.destroy();
      throw new QmpError(`Can't connect to the QMP socket ${path}: ${(err as Error).message}`, undefined, { cause: err });
    }
  }

  private closeWaiters: ((e: Error) => void)[] = [];
  private closedPromise(): Promise<never> {
    return new Promise<never>((_, reject) => {
      if (this.closedErr) reject(this.closedErr);
      else this.closeWaiters.push(reject);
    });
  }

  private attach(): void {
    this.sock.setEncoding("utf8");
    this.sock.on("data", (chunk: string) => {
      this.buf += chunk;
      let nl: number;
      while ((nl = this.buf.indexOf("\n")) >= 0) {
        const line = this.buf.slice(0, nl).trim();
        this.buf = this.buf.slice(nl + 1);
        if (line) this.onLine(line);
      }
    });
    const onClose = (err?: Error) => {
      if (this.closedErr) return;
      this.closedErr = err ?? new Error("connection closed");
      for (const p of this.pending.splice(0)) {
        p.reject(new QmpError(`QMP command ${p.command} on ${this.path} failed: ${this.closedErr.message}`));
      }
      for (const w of this.closeWaiters.splice(0)) w(this.closedErr);
    };
    this.sock.on("error", onClose);
    this.sock.on("close", () => onClose());
    this.sock.on("end", () => onClose());
  }

  private onLine(line: string): void {
    let msg: Record<string, unknown>;
    try {
      msg = JSON.parse(line) as Record<string, unknown>;
    } catch {
      return; // not QMP: ignore rather than desynchronise
    }
    if ("QMP" in msg) {
      this.greeted?.(msg["QMP"]);
      this.greeted = null;
      return;
    }
    if ("event" in msg) {
      const ev = msg as unknown as QmpEvent;
      this.events.push(ev);
      const keep: typeof this.eventWaiters = [];
      for (const w of this.eventWaiters) {
        if (w.name === ev.event) w.resolve(ev);
        else keep.push(w);
      }
      this.eventWaiters = keep;
      return;
    }
    const p = this.pending.shift();
    if (!p) return;
    if ("error" in msg) {
      const e = (msg["error"] ?? {}) as { class?: string; desc?: string };
      p.reject(new QmpError(`QMP command ${p.command} failed: ${e.desc ?? "unknown error"}`, e.class));
    } else {
      p.resolve(msg["return"]);
    }
  }

  execute(command: string, args?: Record<string, unknown>): Promise<unknown> {
    if (this.closedErr) {
      return Promise.reject(new QmpError(`QMP command ${command} on ${this.path} failed: ${this.closedErr.message}`));
    }
    return new Promise((resolve, reject) => {
      this.pending.push({ command, resolve, reject });
      this.sock.write(JSON.stringify(args ? { execute: command, arguments: args } : { execute: command }) + "\n");
    });
  }

  /** Resolves with the next event of that name (or one already received). */
  waitEvent(name: string, timeoutMs: number): Promise<QmpEvent> {
    const seen = this.events.find((e) => e.event === name);
    if (seen) return Promise.resolve(seen);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.eventWaiters = this.eventWaiters.filter((w) => w.resolve !== done);
        reject(new QmpError(`No ${name} event from ${this.path} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (e: QmpEvent) => {
        clearTimeout(timer);
        resolve(e);
      };
      this.eventWaiters.push({ name, resolve: done });
    });
  }

  close(): void {
    this.sock.destroy();
  }
}

/** Connect, run fn, always close. */
export async function withQmp<T>(path: string, fn: (c: QmpClient) => Promise<T>, timeoutMs = 10_000): Promise<T> {
  const c = await QmpClient.connect(path, timeoutMs);
  try {
    return await fn(c);
  } finally {
    c.close();
  }
}
