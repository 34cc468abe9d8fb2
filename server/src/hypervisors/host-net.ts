// The node's instance networking: bridges, taps and routes, in the daemon's
// own network namespace or in a named one (a node setting). A named
// namespace keeps every device a node creates out of the host's: the
// node daemon itself still listens in its own namespace (the master must
// reach it), while the bridge checks, the taps and the processes that
// open them (qemu) all live in the named one.
import { execFile } from "node:child_process";
import { promises as fs } from "node:fs";
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
    const list = JSON.parse((await this.ip(["-j", "link", "show", "type", "bridge"])) || "[]") as Array<{ ifname: string }>;
    return new Set(list.map((l) => l.ifname));
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
