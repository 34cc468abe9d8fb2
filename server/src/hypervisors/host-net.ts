// The node's instance networking: bridges, taps and routes, in the daemon's
// own network namespace or in a named one (a node setting). A named
// namespace keeps every device a node creates out of the host's: the
// node daemon itself still listens in its own namespace (the master must
// reach it), while the bridge checks, the taps and the processes that
// open them (qemu) all live in the named one.
import { execFile, spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { promises as fs } from "node:fs";
import type { Socket } from "node:net";
import { promisify } from "node:util";
import { HypervisorError } from "../lib/errors.js";

const run = promisify(execFile);

/**
 * Bridge listings per namespace ("" for the daemon's own): one read in
 * flight, and one queued behind it that every caller arriving meanwhile
 * shares. Each answer still comes from a read that started after the call
 * (never a stale one), but concurrent instance starts cost one `ip` spawn
 * instead of one each.
 */
const bridgeReads = new Map<string, { inFlight: Promise<Set<string>> | null; queued: Promise<Set<string>> | null }>();

/** How long an idle batch helper lives: while it runs it pins its namespace. */
const BATCH_IDLE_MS = 1000;
/** A batch helper that has not answered by then is replaced. */
const BATCH_TIMEOUT_MS = 10_000;

/**
 * A long-lived `ip -n NS -j -batch -` in one named namespace: each command
 * written to it is answered with one line of JSON, without a fork per
 * command (a fork of a large daemon costs in proportion to its memory). It
 * exits after a second without work, so that a namespace deleted meanwhile
 * is not kept alive by it, and on the first error (a command that fails ends
 * ip's batch mode); callers then fall back to a one-shot `ip`.
 */
class IpBatch {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly waiting: Array<{ resolve: (line: string) => void; reject: (e: Error) => void }> = [];
  private out = "";
  private errText = "";
  private idle: NodeJS.Timeout | null = null;
  private deadline: NodeJS.Timeout | null = null;
  dead = false;

  constructor(
    readonly netns: string,
    /** Identity of the namespace it runs in (device and inode of /run/netns/NAME). */
    readonly nsId: string,
  ) {
    this.child = spawn("ip", ["-n", netns, "-j", "-batch", "-"], { stdio: ["pipe", "pipe", "pipe"] });
    this.child.stdout.setEncoding("utf8");
    this.child.stdout.on("data", (chunk: string) => {
      this.out += chunk;
      for (let nl = this.out.indexOf("\n"); nl >= 0; nl = this.out.indexOf("\n")) {
        const line = this.out.slice(0, nl);
        this.out = this.out.slice(nl + 1);
        this.waiting.shift()?.resolve(line);
      }
      this.settle();
    });
    this.child.stderr.setEncoding("utf8");
    this.child.stderr.on("data", (chunk: string) => (this.errText += chunk));
    this.child.stdin.on("error", () => undefined); // EPIPE after an exit: reported by the exit handler
    this.child.on("error", (err) => this.fail(err));
    this.child.on("exit", (code, signal) => this.fail(new Error(`ip -batch exited (${code ?? signal}): ${this.errText.trim()}`)));
    this.settle();
  }

  query(command: string): Promise<string> {
    if (this.dead) return Promise.reject(new Error("ip -batch is gone"));
    return new Promise<string>((resolve, reject) => {
      this.waiting.push({ resolve, reject });
      this.child.stdin.write(`${command}\n`);
      this.settle();
    });
  }

  /** Keep the event loop alive only while answers are awaited; exit when idle. */
  private settle(): void {
    if (this.dead) return;
    const busy = this.waiting.length > 0;
    // The pipes are sockets (the stream types do not say so).
    for (const s of [this.child.stdin, this.child.stdout, this.child.stderr] as unknown as Socket[]) {
      if (busy) s.ref();
      else s.unref();
    }
    if (busy) {
      this.child.ref();
      if (this.idle) clearTimeout(this.idle);
      this.idle = null;
      if (this.deadline) clearTimeout(this.deadline);
      this.deadline = setTimeout(() => this.fail(new Error(`ip -batch did not answer within ${BATCH_TIMEOUT_MS} ms`)), BATCH_TIMEOUT_MS);
    } else {
      this.child.unref();
      if (this.deadline) clearTimeout(this.deadline);
      this.deadline = null;
      this.idle ??= setTimeout(() => this.fail(new Error("idle")), BATCH_IDLE_MS).unref();
    }
  }

  private fail(err: Error): void {
    if (this.dead) return;
    this.dead = true;
    if (this.idle) clearTimeout(this.idle);
    if (this.deadline) clearTimeout(this.deadline);
    if (batches.get(this.netns) === this) batches.delete(this.netns);
    this.child.stdin.end();
    if (this.child.exitCode === null && this.child.signalCode === null) this.child.kill();
    for (const w of this.waiting.splice(0)) w.reject(err);
  }

  close(): void {
    this.fail(new Error("closed"));
  }
}

/** The batch helper of each named namespace. */
const batches = new Map<string, IpBatch>();

/** Device and inode of a named namespace (null: there is none by that name). */
async function namespaceId(netns: string): Promise<string | null> {
  try {
    const st = await fs.stat(`/run/netns/${netns}`);
    return `${st.dev}:${st.ino}`;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/** Interface names the kernel accepts (IFNAMSIZ - 1, no '/', no blanks). */
export function isValidIfName(name: string): boolean {
  return /^[A-Za-z0-9_.:-]{1,15}$/.test(name) && name !== "." && name !== "..";
}

export class HostNetwork {
  constructor(readonly netns: string | null) {
    if (netns !== null && !/^[A-Za-z0-9_.-]{1,64}$/.test(netns)) throw new HypervisorError(`Invalid network namespace name '${netns}'`);
  }

  /** Run `ip` in the node's namespace; resolves with its stdout. */
  async ip(args: string[]): Promise<string> {
    const argv = this.netns ? ["-n", this.netns, ...args] : args;
    try {
      const { stdout } = await run("ip", argv, { maxBuffer: 4 << 20 });
      return stdout;
    } catch (err) {
      const e = err as { stderr?: string; message: string };
      throw new HypervisorError(`ip ${argv.join(" ")} failed: ${(e.stderr ?? "").trim() || e.message}`, { cause: err });
    }
  }

  /** argv that runs `argv` inside the node's namespace. */
  wrap(argv: string[]): string[] {
    return this.netns ? ["ip", "netns", "exec", this.netns, ...argv] : argv;
  }

  /** Names of the bridges that exist (Ganeti's utils.BridgeExists for each). */
  bridges(): Promise<ReadonlySet<string>> {
    const key = this.netns ?? "";
    let r = bridgeReads.get(key);
    if (!r) bridgeReads.set(key, (r = { inFlight: null, queued: null }));
    const reads = r;
    const start = (): Promise<Set<string>> => {
      const p: Promise<Set<string>> = this.readBridges().finally(() => {
        if (reads.inFlight === p) reads.inFlight = null;
      });
      reads.inFlight = p;
      return p;
    };
    if (reads.queued) return reads.queued;
    if (!reads.inFlight) return start();
    reads.queued = reads.inFlight
      .then(
        () => undefined,
        () => undefined,
      )
      .then(() => {
        reads.queued = null;
        return start();
      });
    return reads.queued;
  }

  private async readBridges(): Promise<Set<string>> {
    if (!this.netns) {
      // Ganeti's test: /sys/class/net/<name>/bridge is a directory.
      const out = new Set<string>();
      let names: string[] = [];
      try {
        names = await fs.readdir("/sys/class/net");
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
      }
      for (const n of names) {
        const st = await fs.stat(`/sys/class/net/${n}/bridge`).catch(() => null);
        if (st?.isDirectory()) out.add(n);
      }
      return out;
    }
    const parse = (text: string) => new Set((JSON.parse(text || "[]") as Array<{ ifname: string }>).map((l) => l.ifname));
    const id = await namespaceId(this.netns);
    if (id !== null) {
      let batch = batches.get(this.netns);
      // A namespace deleted and created again under the same name is a new one: so is its helper.
      if (batch && batch.nsId !== id) batch.close();
      batch = batches.get(this.netns);
      if (!batch) batches.set(this.netns, (batch = new IpBatch(this.netns, id)));
      const line = await batch.query("link show type bridge").catch(() => null);
      // A helper that failed (and is gone now) is replaced by a one-shot `ip`, whose error is the one reported.
      if (line !== null) return parse(line);
    }
    return parse(await this.ip(["-j", "link", "show", "type", "bridge"]));
  }

  /** The bridges of `names` that do not exist, in order, without duplicates. */
  async missingBridges(names: string[]): Promise<string[]> {
    if (!names.length) return [];
    const have = await this.bridges();
    return [...new Set(names)].filter((n) => !have.has(n));
  }

  async linkExists(name: string): Promise<boolean> {
    try {
      await this.ip(["link", "show", "dev", name]);
      return true;
    } catch {
      return false;
    }
  }
}
