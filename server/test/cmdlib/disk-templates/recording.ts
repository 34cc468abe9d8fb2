// A recording RPC runner and a bare LU context for the disk strategy tests:
// every call is kept (node, call, arguments) and answered by a handler per
// call name, or null; offline nodes and handler errors fail like the real
// runner (RpcError).
import type { ConfigData, NodeObject, RpcArgs, RpcCallName, RpcResultOf } from "@ganeti-ts/schema";
import type { LuContext } from "../../../src/cmdlib/base.js";
import { ClusterConfig } from "../../../src/config/cluster-config.js";
import { buildInitialConfig, newNodeObject } from "../../../src/config/initial-config.js";
import { RpcError } from "../../../src/lib/errors.js";
import type { RpcOutcome, RpcRunner } from "../../../src/rpc/runner.js";
import { MemoryStore } from "../../../src/store/memory-store.js";

export interface RecordedCall {
  node: string;
  name: RpcCallName;
  args: Record<string, unknown>;
}

type Handler = (node: NodeObject, args: never) => unknown;

export class RecordingRpc implements RpcRunner {
  readonly calls: RecordedCall[] = [];
  private readonly handlers = new Map<string, Handler>();

  on<N extends RpcCallName>(name: N, fn: (node: NodeObject, args: RpcArgs<N>) => RpcResultOf<N> | Promise<RpcResultOf<N>>): this {
    this.handlers.set(name, fn as Handler);
    return this;
  }

  /** The calls of one name, as "node" strings or with their arguments. */
  of(name: RpcCallName): RecordedCall[] {
    return this.calls.filter((c) => c.name === name);
  }

  /** "call@node" for every call, in order. */
  trace(): string[] {
    return this.calls.map((c) => `${c.name}@${c.node}`);
  }

  async call<N extends RpcCallName>(node: NodeObject, name: N, args: RpcArgs<N>): Promise<RpcResultOf<N>> {
    this.calls.push({ node: node.name, name, args: structuredClone(args) as Record<string, unknown> });
    if (node.offline) throw new RpcError(node.name, name, `Node ${node.name} is marked offline`);
    const h = this.handlers.get(name);
    if (!h) return null as RpcResultOf<N>;
    try {
      return (await (h as (n: NodeObject, a: RpcArgs<N>) => unknown)(node, args)) as RpcResultOf<N>;
    } catch (err) {
      throw new RpcError(node.name, name, (err as Error).message, { cause: err });
    }
  }

  async callMany<N extends RpcCallName>(nodes: NodeObject[], name: N, args: RpcArgs<N>): Promise<Map<string, RpcOutcome<RpcResultOf<N>>>> {
    const out = new Map<string, RpcOutcome<RpcResultOf<N>>>();
    for (const n of nodes) {
      try {
        out.set(n.uuid, { ok: true, result: await this.call(n, name, args) });
      } catch (err) {
        out.set(n.uuid, { ok: false, error: (err as Error).message, offline: n.offline });
      }
    }
    return out;
  }
}

export interface Bench {
  cfg: ClusterConfig;
  rpc: RecordingRpc;
  ctx: LuContext;
  log: string[];
  /** Sleeps asked for (ms), none of them taken. */
  sleeps: number[];
  nodes: NodeObject[];
}

/** A config with `n` nodes (node1..), a volume group, and a context whose RPCs are recorded. */
export async function bench(n = 3, data?: (d: ConfigData) => void): Promise<Bench> {
  const cd = buildInitialConfig({
    clusterName: "cluster.example.com",
    master: { name: "node1.example.com", ip: "127.0.0.11", rpcPort: 1811 },
    enabledDiskTemplates: ["drbd", "plain", "file", "sharedfile", "diskless"],
    fileStorageDir: "/srv/ganeti/file-storage",
    sharedFileStorageDir: "/srv/ganeti/shared-file-storage",
    osSearchPath: [],
  });
  cd.cluster.volume_group_name = "xenvg";
  const group = Object.keys(cd.nodegroups)[0]!;
  for (let i = 2; i <= n; i++) {
    const node = newNodeObject({
      name: `node${i}.example.com`,
      ip: `127.0.0.${10 + i}`,
      secondaryIp: `127.0.1.${10 + i}`,
      group,
      rpcAddress: `127.0.0.${10 + i}`,
      rpcPort: 1811,
      masterCandidate: true,
      now: 0,
    });
    cd.nodes[node.uuid] = node;
  }
  data?.(cd);
  const cfg = await ClusterConfig.create(new MemoryStore(), cd);
  const rpc = new RecordingRpc();
  const log: string[] = [];
  const sleeps: number[] = [];
  const ctx: LuContext = {
    config: cfg,
    rpc,
    allocator: undefined as never,
    jobId: 1,
    log: (m) => void log.push(m),
    submitJobs: async () => [],
    held: () => [],
    now: () => 0,
    timestamp: () => [0, 0],
    sleep: async (ms) => void sleeps.push(ms),
  };
  const nodes = ["node1", "node2", "node3"].slice(0, n).map((name) => cfg.nodes().find((x) => x.name === `${name}.example.com`)!);
  return { cfg, rpc, ctx, log, sleeps, nodes };
}
