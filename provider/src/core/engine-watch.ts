// Pulumi's dynamic-provider host (@pulumi/pulumi/cmd/dynamic-provider) serves
// gRPC until the engine ends it, and never checks on the engine itself: when
// the engine goes away without ending its plugins (the CLI killed, crashed,
// or exiting before its plugin host closes), the host serves forever,
// reparented to init, with our provider loaded in it. So the runtime, once
// loaded in such a host, watches the engine: it ends the process when the
// process is reparented (the plugin's launcher execs node, so the parent is
// the engine) or when the engine's address, the host's first argument,
// refuses connections on two checks in a row. The timer never keeps the
// process alive by itself.
import net from "node:net";

export interface EngineWatchDeps {
  ppid(): number;
  /** Does something still accept connections at host:port? (only a refusal counts as gone) */
  probe(host: string, port: number): Promise<boolean>;
  exit(reason: string): void;
  every(ms: number, fn: () => void): { stop(): void };
}

export function probeTcp(host: string, port: number, timeoutMs = 5000): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (up: boolean) => {
      s.destroy();
      resolve(up);
    };
    s.setTimeout(timeoutMs, () => done(true)); // slow is not gone
    s.once("connect", () => done(true));
    s.once("error", (err: NodeJS.ErrnoException) => done(err.code !== "ECONNREFUSED"));
  });
}

export const processDeps: EngineWatchDeps = {
  ppid: () => process.ppid,
  probe: (host, port) => probeTcp(host, port),
  exit: (reason) => {
    process.stderr.write(`ganeti-ts provider: ${reason}; exiting\n`);
    process.exit(0);
  },
  every: (ms, fn) => {
    const t = setInterval(fn, ms);
    t.unref();
    return { stop: () => clearInterval(t) };
  },
};

/** `host:port` of the engine when this process is Pulumi's dynamic-provider host, else undefined. */
export function engineAddressOf(argv: readonly string[]): { host: string; port: number } | undefined {
  const script = argv[1] ?? "";
  if (!/[\\/]@pulumi[\\/]pulumi[\\/]cmd[\\/]dynamic-provider([\\/](index\.js)?)?$/.test(script)) return undefined;
  const m = /^(.+):(\d+)$/.exec(argv[2] ?? "");
  if (!m) return undefined;
  return { host: m[1]!.replace(/^\[(.*)\]$/, "$1"), port: Number(m[2]) };
}

/** Watch the engine at `address`; calls deps.exit once it is gone. */
export function watchEngine(
  address: { host: string; port: number },
  deps: EngineWatchDeps = processDeps,
  intervalMs = 2000,
): { stop(): void } {
  const parent = deps.ppid();
  let refusals = 0;
  let busy = false;
  let stopped = false;
  const timer = deps.every(intervalMs, () => {
    if (busy || stopped) return;
    if (deps.ppid() !== parent) {
      stopped = true;
      timer.stop();
      deps.exit(`the Pulumi engine (pid ${parent}) is gone`);
      return;
    }
    busy = true;
    void deps.probe(address.host, address.port).then((up) => {
      busy = false;
      refusals = up ? 0 : refusals + 1;
      if (refusals >= 2 && !stopped) {
        stopped = true;
        timer.stop();
        deps.exit(`the Pulumi engine at ${address.host}:${address.port} is gone`);
      }
    });
  });
  return {
    stop: () => {
      stopped = true;
      timer.stop();
    },
  };
}
