// A throwaway network namespace holding bridges, for test clusters and the
// demo: node daemons given its name (the node setting "netns") find their
// bridges there and create their taps there, so nothing touches the host's
// network. Names carry a random suffix (several clusters run at once); the
// namespace is removed by dispose() and, as a last resort, at process exit.
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promisify } from "node:util";

const run = promisify(execFile);

const live = new Set<string>();
let exitHook = false;

function removeAllSync(): void {
  for (const ns of live) {
    try {
      execFileSync("ip", ["netns", "del", ns], { stdio: "ignore" });
    } catch {
      // already gone
    }
  }
  live.clear();
}

export interface ScratchNetns {
  readonly name: string;
  /** Add a Linux bridge (up) in the namespace. */
  addBridge(name: string): Promise<void>;
  /** Delete a device from the namespace. */
  delLink(name: string): Promise<void>;
  /** Run `ip` inside the namespace. */
  ip(args: string[]): Promise<string>;
  dispose(): Promise<void>;
}

/** Create `gts-<prefix>-<random>` with loopback up and the given bridges. */
export async function createScratchNetns(opts: { prefix?: string; bridges?: string[] } = {}): Promise<ScratchNetns> {
  const name = `gts-${opts.prefix ?? "t"}-${randomBytes(4).toString("hex")}`;
  await run("ip", ["netns", "add", name]);
  live.add(name);
  if (!exitHook) {
    exitHook = true;
    process.once("exit", removeAllSync);
  }
  const ip = async (args: string[]): Promise<string> => (await run("ip", ["-n", name, ...args])).stdout;
  const ns: ScratchNetns = {
    name,
    ip,
    async addBridge(br) {
      await ip(["link", "add", br, "type", "bridge"]);
      await ip(["link", "set", br, "up"]);
    },
    async delLink(dev) {
      await ip(["link", "del", dev]);
    },
    async dispose() {
      if (!live.has(name)) return;
      live.delete(name);
      await run("ip", ["netns", "del", name]).catch(() => undefined);
    },
  };
  try {
    await ip(["link", "set", "lo", "up"]);
    for (const br of opts.bridges ?? []) await ns.addBridge(br);
  } catch (err) {
    await ns.dispose();
    throw err;
  }
  return ns;
}
