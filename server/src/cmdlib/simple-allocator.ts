// A small, correct IAllocator until hail replaces it: every request is
// answered in Ganeti's protocol (htools-spec.md §3.2) by choosing, among the
// nodes that pass the checks (online, not drained, vm_capable, allocable
// group, instance policy, memory), the one with the most free memory.
// Placements made within one request (multi-allocate, evacuations) update the
// free memory before the next choice.
import type { Allocator } from "./base.js";

type Json = Record<string, unknown>;

interface NodeView {
  name: string;
  group: string;
  free: number;
  usable: boolean;
}

interface Spec {
  name: string;
  memory: number;
  vcpus: number;
  disk_template: string;
  disks: Array<{ size: number }>;
  nics: Array<{ network?: string | null }>;
  spindle_use: number;
}

const FAIL_ORDER = ["FailMem", "FailDisk", "FailCPU", "FailN1", "FailTags", "FailMig", "FailDiskCount", "FailSpindles", "FailInternal"];

function num(v: unknown, dflt = 0): number {
  return typeof v === "number" && Number.isFinite(v) ? v : dflt;
}

export class SimpleAllocator implements Allocator {
  async run(input: Record<string, unknown>): Promise<Record<string, unknown>> {
    const req = (input["request"] ?? {}) as Json;
    const state = new State(input);
    switch (req["type"]) {
      case "allocate":
        return state.allocate(req);
      case "multi-allocate":
        return state.multiAllocate(req);
      case "relocate":
        return state.relocate(req);
      case "node-evacuate":
        return state.evacuate(req);
      case "change-group":
        return state.changeGroup(req);
      default:
        return fail(`Unknown request type '${String(req["type"])}'`);
    }
  }
}

function fail(reason: string): Json {
  return { success: false, info: `Request failed: ${reason}`, result: [] };
}

function stats(fails: Map<string, number>): string {
  return [...fails.entries()]
    .sort((a, b) => FAIL_ORDER.indexOf(a[0]) - FAIL_ORDER.indexOf(b[0]))
    .map(([k, v]) => `${k}: ${v}`)
    .join(", ");
}

class State {
  readonly nodes: NodeView[];
  readonly groups: Record<string, Json>;
  readonly instances: Record<string, Json>;

  constructor(input: Json) {
    this.groups = (input["nodegroups"] ?? {}) as Record<string, Json>;
    this.instances = (input["instances"] ?? {}) as Record<string, Json>;
    const nodes = (input["nodes"] ?? {}) as Record<string, Json>;
    this.nodes = Object.entries(nodes)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, n]) => ({
        name,
        group: String(n["group"] ?? ""),
        free: num(n["free_memory"]),
        usable: n["offline"] !== true && n["drained"] !== true && n["vm_capable"] !== false,
      }));
  }

  private groupName(uuid: string): string {
    return String(this.groups[uuid]?.["name"] ?? uuid);
  }
  private groupUuid(name: string): string | undefined {
    return Object.entries(this.groups).find(([u, g]) => g["name"] === name || u === name)?.[0];
  }

  /** hail's instMatchesPolicy, reduced to the checks that matter here. */
  private policyFailure(spec: Spec, groupUuid: string): string | null {
    const pol = (this.groups[groupUuid]?.["ipolicy"] ?? {}) as Json;
    const templates = pol["disk-templates"];
    if (Array.isArray(templates) && !templates.includes(spec.disk_template)) return "FailDisk";
    const minmax = Array.isArray(pol["minmax"]) ? (pol["minmax"] as Array<{ min: Json; max: Json }>) : [];
    if (minmax.length === 0) return null;
    let last: string | null = null;
    for (const { min, max } of minmax) {
      const within = (key: string, v: number) => v >= num(min[key], -Infinity) && v <= num(max[key], Infinity);
      if (!within("memory-size", spec.memory)) last = "FailMem";
      else if (spec.disks.some((d) => !within("disk-size", d.size))) last = "FailDisk";
      else if (!within("cpu-count", spec.vcpus)) last = "FailCPU";
      else if (spec.disk_template !== "diskless" && !within("disk-count", spec.disks.length)) last = "FailDiskCount";
      else return null;
    }
    return last;
  }

  /** Best node of a group for a new primary, or the failure counts. */
  private place(spec: Spec, groupUuid: string, exclude: Set<string>, checkPolicy: boolean, usesMemory: boolean) {
    const fails = new Map<string, number>();
    let best: NodeView | null = null;
    const groupNets = (this.groups[groupUuid]?.["networks"] ?? []) as string[];
    for (const n of this.nodes) {
      if (n.group !== groupUuid || !n.usable || exclude.has(n.name)) continue;
      let why: string | null = checkPolicy ? this.policyFailure(spec, groupUuid) : null;
      if (!why && spec.nics.some((nic) => nic.network && !groupNets.includes(nic.network))) why = "FailInternal";
      if (!why && usesMemory && n.free - spec.memory <= 0) why = "FailMem";
      if (why) fails.set(why, (fails.get(why) ?? 0) + 1);
      else if (!best || n.free > best.free) best = n;
    }
    return { best, fails };
  }

  private spec(r: Json): Spec {
    return {
      name: String(r["name"]),
      memory: num(r["memory"]),
      vcpus: num(r["vcpus"], 1),
      disk_template: String(r["disk_template"] ?? "diskless"),
      disks: Array.isArray(r["disks"]) ? (r["disks"] as Json[]).map((d) => ({ size: num(d["size"]) })) : [],
      nics: Array.isArray(r["nics"]) ? (r["nics"] as Json[]).map((n) => ({ network: (n["network"] as string) ?? null })) : [],
      spindle_use: num(r["spindle_use"], 1),
    };
  }

  private candidateGroups(groupName: unknown): string[] | null {
    if (typeof groupName === "string" && groupName) {
      const u = this.groupUuid(groupName);
      return u ? [u] : null;
    }
    const order = { preferred: 0, last_resort: 1, unallocable: 2 } as Record<string, number>;
    return Object.keys(this.groups)
      .filter((u) => this.groups[u]?.["alloc_policy"] !== "unallocable")
      .sort((a, b) => (order[String(this.groups[a]?.["alloc_policy"])] ?? 0) - (order[String(this.groups[b]?.["alloc_policy"])] ?? 0));
  }

  /** One allocation; updates free memory on success. */
  private allocOne(r: Json, groupName: unknown): { nodes: string[] } | { error: string } {
    const spec = this.spec(r);
    if (num(r["required_nodes"], 1) !== 1) return { error: "Only single-node allocations are supported by this allocator" };
    const groups = this.candidateGroups(groupName);
    if (!groups) return { error: `Unknown group '${String(groupName)}'` };
    const descs: string[] = [];
    for (const g of groups) {
      const { best, fails } = this.place(spec, g, new Set(), true, true);
      const policy = String(this.groups[g]?.["alloc_policy"] ?? "preferred");
      if (best) {
        best.free -= spec.memory;
        return { nodes: [best.name] };
      }
      descs.push(`Group ${this.groupName(g)} (${policy}): No valid allocation solutions, failure reasons: ${stats(fails)}`);
    }
    return { error: descs.length ? descs.join(", ") : "No valid allocation solutions" };
  }

  allocate(req: Json): Json {
    const out = this.allocOne(req, req["group_name"]);
    if ("error" in out) return fail(out.error);
    return { success: true, info: `Request successful: Selected node(s) ${out.nodes.join("/")}`, result: out.nodes };
  }

  multiAllocate(req: Json): Json {
    const list = Array.isArray(req["instances"]) ? (req["instances"] as Json[]) : [];
    const ok: Array<[string, string[]]> = [];
    const failed: string[] = [];
    for (const r of list) {
      const out = this.allocOne(r, req["group_name"] ?? r["group_name"]);
      if ("error" in out) failed.push(String(r["name"]));
      else ok.push([String(r["name"]), out.nodes]);
    }
    return {
      success: true,
      info: `${failed.length} instances failed to allocate and ${ok.length} were allocated successfully`,
      result: [ok, failed],
    };
  }

  private instSpec(name: string): (Spec & { nodes: string[]; up: boolean }) | null {
    const i = this.instances[name];
    if (!i) return null;
    return { ...this.spec({ ...i, name }), nodes: (i["nodes"] as string[]) ?? [], up: i["admin_state"] === "up" };
  }

  /** Move a shared-storage instance off `from` to the best node of its group. */
  private moveShared(name: string, exclude: Set<string>, groups?: string[]): { node: NodeView } | { error: string } {
    const inst = this.instSpec(name);
    if (!inst) return { error: `Instance ${name} not found` };
    if (!["diskless", "sharedfile", "blockdev", "rbd", "ext", "gluster"].includes(inst.disk_template))
      return { error: `Instances of type ${inst.disk_template} cannot be relocated` };
    const pnode = this.nodes.find((n) => n.name === inst.nodes[0]);
    const targetGroups = groups ?? (pnode ? [pnode.group] : []);
    const ex = new Set([...exclude, ...inst.nodes]);
    let best: NodeView | null = null;
    const fails = new Map<string, number>();
    for (const g of targetGroups) {
      const { best: b, fails: f } = this.place(inst, g, ex, false, inst.up);
      for (const [k, v] of f) fails.set(k, (fails.get(k) ?? 0) + v);
      if (b && (!best || b.free > best.free)) best = b;
    }
    if (!best) return { error: `Can't find any good node: ${stats(fails)}` };
    if (inst.up) {
      best.free -= inst.memory;
      if (pnode) pnode.free += inst.memory;
    }
    return { node: best };
  }

  relocate(req: Json): Json {
    const name = String(req["name"]);
    const from = new Set((req["relocate_from"] as string[]) ?? []);
    const inst = this.instSpec(name);
    if (!inst) return fail(`Instance ${name} not found`);
    if (inst.disk_template === "drbd") return fail("DRBD relocation is not supported by this allocator");
    if (!inst.nodes[0] || !from.has(inst.nodes[0])) return fail("Can't relocate from a node that is not the primary");
    const out = this.moveShared(name, from);
    if ("error" in out) return fail(out.error);
    return { success: true, info: "Request successful: success", result: [out.node.name] };
  }

  private migrateJob(name: string, target: string): Json[] {
    return [
      {
        OP_ID: "OP_INSTANCE_MIGRATE",
        instance_name: name,
        target_node: target,
        allow_runtime_changes: false,
        ignore_ipolicy: false,
        cleanup: false,
        allow_failover: true,
      },
    ];
  }

  evacuate(req: Json): Json {
    const names = (req["instances"] as string[]) ?? [];
    const mode = String(req["evac_mode"] ?? "all");
    const evacuated = new Set<string>();
    for (const n of names) {
      const i = this.instSpec(n);
      if (!i) continue;
      if (mode !== "secondary-only" && i.nodes[0]) evacuated.add(i.nodes[0]);
      if (mode !== "primary-only") for (const s of i.nodes.slice(1)) evacuated.add(s);
    }
    const moved: Array<[string, string, string[]]> = [];
    const failed: Array<[string, string]> = [];
    const jobs: Json[][] = [];
    for (const n of names) {
      const inst = this.instSpec(n);
      if (!inst) {
        failed.push([n, `Instance ${n} not found`]);
        continue;
      }
      if (mode === "secondary-only") {
        failed.push([n, `Instances of type ${inst.disk_template} have no secondary node`]);
        continue;
      }
      const out = this.moveShared(n, evacuated);
      if ("error" in out) failed.push([n, out.error]);
      else {
        moved.push([n, this.groupName(out.node.group), [out.node.name]]);
        jobs.push(this.migrateJob(n, out.node.name));
      }
    }
    return {
      success: true,
      info: `${failed.length} instances failed to move and ${moved.length} were moved successfully`,
      result: [moved, failed, jobs],
    };
  }

  changeGroup(req: Json): Json {
    const names = (req["instances"] as string[]) ?? [];
    const requested = Array.isArray(req["target_groups"]) && (req["target_groups"] as string[]).length
      ? (req["target_groups"] as string[]).map((g) => this.groupUuid(g) ?? g)
      : Object.keys(this.groups);
    const moved: Array<[string, string, string[]]> = [];
    const failed: Array<[string, string]> = [];
    const jobs: Json[][] = [];
    for (const n of names) {
      const inst = this.instSpec(n);
      const cur = inst ? this.nodes.find((x) => x.name === inst.nodes[0])?.group : undefined;
      const targets = requested.filter((g) => g !== cur && this.groups[g]?.["alloc_policy"] !== "unallocable");
      const out = this.moveShared(n, new Set(), targets);
      if ("error" in out) failed.push([n, out.error]);
      else {
        moved.push([n, this.groupName(out.node.group), [out.node.name]]);
        jobs.push(this.migrateJob(n, out.node.name));
      }
    }
    return {
      success: true,
      info: `${failed.length} instances failed to move and ${moved.length} were moved successfully`,
      result: [moved, failed, jobs],
    };
  }
}
