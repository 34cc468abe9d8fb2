// Running etcd members ourselves (`gnt cluster init --store etcd` without
// endpoints, and the tests): command line, start, health, stop.
import { spawn, type ChildProcess } from "node:child_process";
import { mkdir, open } from "node:fs/promises";
import net from "node:net";
import path from "node:path";

export interface EtcdMemberSpec {
  name: string;
  host: string;
  clientPort: number;
  peerPort: number;
}

export function clientUrl(m: EtcdMemberSpec): string {
  return `http://${m.host}:${m.clientPort}`;
}
export function peerUrl(m: EtcdMemberSpec): string {
  return `http://${m.host}:${m.peerPort}`;
}

/** etcd's command line for member `me` of `cluster`. */
export function etcdArgs(
  me: EtcdMemberSpec,
  cluster: EtcdMemberSpec[],
  o: { dataDir: string; state: "new" | "existing"; token: string },
): string[] {
  return [
    `--name=${me.name}`,
    `--data-dir=${o.dataDir}`,
    `--listen-client-urls=${clientUrl(me)}`,
    `--advertise-client-urls=${clientUrl(me)}`,
    `--listen-peer-urls=${peerUrl(me)}`,
    `--initial-advertise-peer-urls=${peerUrl(me)}`,
    `--initial-cluster=${cluster.map((m) => `${m.name}=${peerUrl(m)}`).join(",")}`,
    `--initial-cluster-state=${o.state}`,
    `--initial-cluster-token=${o.token}`,
    // A whole config in one transaction at init; many small objects per job.
    "--max-txn-ops=10000",
    "--max-request-bytes=33554432",
    // Job updates make revisions fast: keep only recent history.
    "--auto-compaction-mode=periodic",
    "--auto-compaction-retention=10m",
    "--log-level=warn",
  ];
}

/** A port free on `host` right now (etcd needs to know its ports before it starts). */
export async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once("error", reject);
    srv.listen(0, host, () => {
      const a = srv.address();
      const port = typeof a === "object" && a ? a.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export interface EtcdMember {
  spec: EtcdMemberSpec;
  child: ChildProcess;
  url: string;
  /** Stop it (SIGTERM, or SIGKILL when asked) and wait for the exit. */
  stop(signal?: NodeJS.Signals): Promise<void>;
}

export async function startEtcdMember(
  me: EtcdMemberSpec,
  cluster: EtcdMemberSpec[],
  o: { dataDir: string; state: "new" | "existing"; token: string; logFile?: string; binary?: string; detached?: boolean },
): Promise<EtcdMember> {
  await mkdir(o.dataDir, { recursive: true, mode: 0o700 });
  const logFile = o.logFile ?? path.join(path.dirname(o.dataDir), `${me.name}.etcd.log`);
  const log = await open(logFile, "a", 0o600);
  const child = spawn(o.binary ?? "etcd", etcdArgs(me, cluster, o), { stdio: ["ignore", log.fd, log.fd], detached: o.detached ?? false });
  await log.close();
  if (o.detached) child.unref();
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  return {
    spec: me,
    child,
    url: clientUrl(me),
    async stop(signal: NodeJS.Signals = "SIGTERM") {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      await exited;
    },
  };
}

/** Resolve once the member at `url` answers healthy (it has a leader), or throw after `timeoutMs`. */
export async function waitEtcdHealthy(url: string, timeoutMs = 60_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  let last = "";
  while (Date.now() < until) {
    try {
      const r = await fetch(`${url}/health`, { signal: AbortSignal.timeout(2000) });
      const body = (await r.json()) as { health?: string };
      if (body.health === "true") return;
      last = JSON.stringify(body);
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`etcd at ${url} not healthy after ${timeoutMs} ms: ${last}`);
}

/** Specs for `n` members on the given loopback hosts with free ports. */
export async function localEtcdSpecs(hosts: string[], namePrefix = "etcd"): Promise<EtcdMemberSpec[]> {
  const out: EtcdMemberSpec[] = [];
  for (const [i, host] of hosts.entries()) {
    out.push({ name: `${namePrefix}${i + 1}`, host, clientPort: await freePort(host), peerPort: await freePort(host) });
  }
  return out;
}
