// Live node data for queries: one node_info and one all_instances_info RPC
// per node and request (never per instance). Offline nodes are not
// contacted; unreachable nodes yield "no data" (rendered as null).
import { diskTemplateInfo, type ConfigData, type HvInstanceInfo, type NodeInfoResult, type NodeObject } from "@ganeti-ts/schema";
import type { RpcRunner } from "../../rpc/runner.js";

export type NodeLive =
  | { status: "ok"; info: NodeInfoResult | null; instances: Record<string, HvInstanceInfo> | null }
  | { status: "offline" }
  | { status: "error"; error: string };

export interface LiveData {
  nodes: Map<string, NodeLive>; // by node uuid
  /** instance name → node uuids where the hypervisor reports it. */
  runningOn: Map<string, Array<{ node: string; info: HvInstanceInfo }>>;
}

export interface LiveNeeds {
  nodeInfo: boolean;
  instances: boolean;
}

/**
 * Storage units asked of every node: the first enabled template's that has
 * one (the node's dtotal/dfree), and with a volume group its spindles unit
 * (lvm-pv: spfree/sptotal), as Ganeti's getStorageUnitsOfNode.
 */
function defaultStorageUnits(data: ConfigData): Array<{ type: string; name: string }> {
  const c = data.cluster;
  const spindles = c.volume_group_name ? [{ type: "lvm-pv", name: c.volume_group_name }] : [];
  for (const t of c.enabled_disk_templates) {
    const st = diskTemplateInfo(t)?.storageType;
    if (st === "file") return [{ type: "file", name: c.file_storage_dir }, ...spindles];
    if (st === "sharedfile") return [{ type: "sharedfile", name: c.shared_file_storage_dir }, ...spindles];
    if (st === "lvm-vg" && c.volume_group_name) return [{ type: "lvm-vg", name: c.volume_group_name }, ...spindles];
  }
  return spindles;
}

export async function collectLive(rpc: RpcRunner, data: ConfigData, needs: LiveNeeds): Promise<LiveData> {
  const nodes = Object.values(data.nodes);
  const hv = data.cluster.enabled_hypervisors[0] ?? "fake";
  const [infos, insts] = await Promise.all([
    needs.nodeInfo
      ? rpc.callMany(nodes, "node_info", {
          storage_units: defaultStorageUnits(data),
          hypervisor: hv,
          hvparams: data.cluster.hvparams[hv] ?? {},
        })
      : Promise.resolve(null),
    needs.instances
      ? rpc.callMany(
          nodes.filter((n) => n.vm_capable),
          "all_instances_info",
          { hypervisors: data.cluster.enabled_hypervisors },
        )
      : Promise.resolve(null),
  ]);
  const out: LiveData = { nodes: new Map(), runningOn: new Map() };
  for (const n of nodes) out.nodes.set(n.uuid, nodeLive(n, infos?.get(n.uuid), insts?.get(n.uuid)));
  for (const [uuid, live] of out.nodes) {
    if (live.status !== "ok" || !live.instances) continue;
    for (const [name, info] of Object.entries(live.instances)) {
      let list = out.runningOn.get(name);
      if (!list) out.runningOn.set(name, (list = []));
      list.push({ node: uuid, info });
    }
  }
  return out;
}

type Outcome<T> = { ok: true; result: T } | { ok: false; error: string; offline: boolean } | undefined;

function nodeLive(n: NodeObject, info: Outcome<NodeInfoResult>, insts: Outcome<Record<string, HvInstanceInfo>>): NodeLive {
  if (n.offline) return { status: "offline" };
  for (const o of [info, insts]) {
    if (o && !o.ok) return o.offline ? { status: "offline" } : { status: "error", error: o.error };
  }
  return {
    status: "ok",
    info: info && info.ok ? info.result : null,
    instances: insts && insts.ok ? insts.result : null,
  };
}

/**
 * Short-lived cache of live data: concurrent requests share one RPC round,
 * and a result is reused for `ttlMs` (0 = only while in flight). A config
 * change (serial_no) invalidates it.
 */
export class LiveDataCache {
  private entry: { key: string; at: number; needs: LiveNeeds; data: Promise<LiveData> } | null = null;
  constructor(
    private readonly rpc: RpcRunner,
    private readonly ttlMs = 0,
    private readonly now: () => number = () => Date.now(),
  ) {}

  get(data: ConfigData, needs: LiveNeeds): Promise<LiveData> {
    // Always fetch both when caching so one entry serves every query.
    const full = { nodeInfo: true, instances: true };
    const key = `${data.serial_no}`;
    const e = this.entry;
    const covers = e && (e.needs.nodeInfo || !needs.nodeInfo) && (e.needs.instances || !needs.instances);
    if (e && covers && e.key === key && (e.at === -1 || this.now() - e.at <= this.ttlMs)) return e.data;
    if (this.ttlMs <= 0) {
      const p = collectLive(this.rpc, data, needs);
      const ent = { key, at: -1, needs, data: p };
      this.entry = ent;
      void p
        .finally(() => {
          if (this.entry === ent) this.entry = null;
        })
        .catch(() => undefined);
      return p;
    }
    const p = collectLive(this.rpc, data, full);
    const ent = { key, at: this.now(), needs: full, data: p };
    this.entry = ent;
    p.catch(() => {
      if (this.entry === ent) this.entry = null;
    });
    return p;
  }
}
