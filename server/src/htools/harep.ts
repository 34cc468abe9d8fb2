// harep's decisions (Ganeti's auto-repair tool), pure: the auto-repair
// policy from the cluster's, groups' and instances' tags, each instance's
// repair state from its ganeti:watcher:autorepair:* tags, what is broken and
// which opcodes repair it, and the tags that record a repair.
import type { ClusterData } from "./loader.js";
import type { Opcode } from "./alloc.js";

export const AR_PREFIX = "ganeti:watcher:autorepair:";
export const AR_PENDING = AR_PREFIX + "pending:";
export const AR_RESULT = AR_PREFIX + "result:";
export const AR_SUSPEND = AR_PREFIX + "suspend:";

/** Repair types, in Ganeti's order (a policy allows every type up to its own). */
export const AR_TYPES = ["fix-storage", "migrate", "failover", "reinstall"] as const;
export type ArType = (typeof AR_TYPES)[number];
/** Results, in Ganeti's order (it sorts a repair's tags by result, then time). */
export const AR_RESULTS = ["success", "failure", "enoperm"] as const;
export type ArResult = (typeof AR_RESULTS)[number];

/** Haskell's `show` of a repair type. */
export const AR_TYPE_SHOW: Record<ArType, string> = {
  "fix-storage": "ArFixStorage",
  migrate: "ArMigrate",
  failover: "ArFailover",
  reinstall: "ArReinstall",
};

export type ArPolicy = { kind: "enabled"; max: ArType } | { kind: "suspended"; until: number | null } | { kind: "not-enabled" };

export interface ArData {
  type: ArType;
  uuid: string;
  /** seconds since the epoch */
  time: number;
  jobs: number[];
  result: ArResult | null;
  tag: string;
}

export type ArState =
  | { kind: "healthy"; data: ArData | null }
  | { kind: "failed"; data: ArData }
  | { kind: "pending"; data: ArData }
  | { kind: "needs-repair"; data: ArData };

export const STATE_NAME: Record<ArState["kind"], string> = {
  healthy: "Healthy",
  failed: "Failure",
  pending: "Pending repair",
  "needs-repair": "Needs repair",
};

const typeRank = (t: ArType): number => AR_TYPES.indexOf(t);

/** Ganeti's getArPolicy: null when the tags say nothing about auto-repair. */
export function arPolicyOf(tags: readonly string[], now: number): ArPolicy | null {
  const enabled = tags
    .filter((t) => t.startsWith(AR_PREFIX))
    .map((t) => t.slice(AR_PREFIX.length))
    .filter((t): t is ArType => (AR_TYPES as readonly string[]).includes(t));
  // (Ganeti's chompPrefix also takes the prefix without its final colon: "...:suspend" suspends for ever)
  const suspended = tags.filter((t) => t.startsWith(AR_SUSPEND) || t === AR_SUSPEND.slice(0, -1)).map((t) => t.slice(AR_SUSPEND.length));
  const future = suspended
    .filter((s) => /^\d+$/.test(s))
    .map(Number)
    .filter((ts) => ts > now);
  if (suspended.includes("")) return { kind: "suspended", until: null };
  if (future.length > 0) return { kind: "suspended", until: Math.max(...future) };
  if (enabled.length > 0) return { kind: "enabled", max: enabled.reduce((a, b) => (typeRank(a) <= typeRank(b) ? a : b)) };
  return null;
}

/** Each instance's policy: its own tags, else its primary node's group's, else the cluster's (Ganeti's setArPolicy). */
export function instancePolicies(cd: ClusterData, now: number): ArPolicy[] {
  const cpol = arPolicyOf(cd.tags, now) ?? { kind: "not-enabled" };
  const gpols = cd.groups.map((g) => arPolicyOf(g.tags, now) ?? cpol);
  return cd.instances.map((i) => arPolicyOf(i.allTags, now) ?? gpols[cd.nodes[i.pNode]!.group] ?? cpol);
}

/** Haskell's `show` of a policy (harep prints it for instances it does not repair). */
export function showPolicy(p: ArPolicy): string {
  if (p.kind === "not-enabled") return "ArNotEnabled";
  if (p.kind === "enabled") return `ArEnabled ${AR_TYPE_SHOW[p.max]}`;
  return p.until === null ? "ArSuspended Forever" : `ArSuspended (Until ${p.until})`;
}

/** Ganeti's parseInitTag: null for tags that are not (well-formed) repair records. */
export function parseArTag(tag: string): ArData | null {
  const make = (rtype: string, uuid: string, ts: string, jobs: string, result: ArResult | null): ArData | null => {
    if (!(AR_TYPES as readonly string[]).includes(rtype)) return null;
    if (!/^-?\d+$/.test(ts)) return null;
    const ids = jobs.split("+");
    // (an empty job list, as enoperm records have, does not parse: Ganeti ignores such tags)
    if (!ids.every((j) => /^\d+$/.test(j))) return null;
    return { type: rtype as ArType, uuid, time: Number(ts), jobs: ids.map(Number), result, tag };
  };
  if (tag.startsWith(AR_PENDING)) {
    const f = tag.slice(AR_PENDING.length).split(":");
    return f.length === 4 ? make(f[0]!, f[1]!, f[2]!, f[3]!, null) : null;
  }
  if (tag.startsWith(AR_RESULT)) {
    const f = tag.slice(AR_RESULT.length).split(":");
    if (f.length !== 5 || !(AR_RESULTS as readonly string[]).includes(f[3]!)) return null;
    return make(f[0]!, f[1]!, f[2]!, f[4]!, f[3] as ArResult);
  }
  return null;
}

/** The tag of a record (Ganeti's updateTag). */
export function arTag(d: Omit<ArData, "tag">): string {
  const ini = [d.type, d.uuid, String(d.time)];
  const end = [d.jobs.join("+")];
  return d.result === null ? AR_PENDING + [...ini, ...end].join(":") : AR_RESULT + [...ini, d.result, ...end].join(":");
}

export interface InstanceRepair {
  name: string;
  state: ArState;
  /** tags to remove at the next commit */
  remove: string[];
}

const resultRank = (r: ArResult | null): number => (r === null ? -1 : AR_RESULTS.indexOf(r));
const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The tag of the record the state holds, prepended to the tags to remove (Ganeti's delCurTag). */
export function withCurrentTagRemoved(ir: InstanceRepair): string[] {
  return ir.state.data ? [ir.state.data.tag, ...ir.remove] : ir.remove;
}

/**
 * An instance's state from its repair tags (Ganeti's setInitialState): the
 * records grouped by repair id, oldest repair first; the earliest failure
 * wins, a second pending repair is an error, else the newest repair counts.
 */
export function initialState(name: string, tags: readonly string[]): InstanceRepair {
  const data = tags.map(parseArTag).filter((d): d is ArData => d !== null);
  const sorted = [...data].sort((a, b) => cmpStr(a.uuid, b.uuid));
  const groups: ArData[][] = [];
  for (const d of sorted) {
    const last = groups[groups.length - 1];
    if (last && last[0]!.uuid === d.uuid) last.push(d);
    else groups.push([d]);
  }
  const minTime = (g: ArData[]): number => Math.min(...g.map((d) => d.time));
  groups.sort((a, b) => minTime(a) - minTime(b));
  let ir: InstanceRepair = { name, state: { kind: "healthy", data: null }, remove: [] };
  for (const g of groups) {
    const byKey = [...g].sort((a, b) => resultRank(a.result) - resultRank(b.result) || a.time - b.time);
    const nd = byKey[byKey.length - 1]!;
    const ns: ArState =
      nd.result === "success" || nd.result === "enoperm"
        ? { kind: "healthy", data: nd }
        : nd.result === "failure"
          ? { kind: "failed", data: nd }
          : { kind: "pending", data: nd };
    const cur = ir.state;
    if (cur.kind === "failed") continue;
    if (cur.kind === "healthy") ir = { name, state: ns, remove: withCurrentTagRemoved(ir) };
    else if (cur.kind === "pending")
      throw new Error(
        `An unfinished repair was found in instance ${name}: found tag ${JSON.stringify(nd.tag)}, but older pending tag ${JSON.stringify(cur.data.tag)}exists.`,
      );
    else throw new Error("programming error: ArNeedsRepair found as an initial state");
  }
  return ir;
}

/** What is broken with an instance and the opcodes of its repair (Ganeti's detectBroken: DRBD and plain only). */
export function detectBroken(cd: ClusterData, idx: number): { type: ArType; ops: Opcode[] } | null {
  const inst = cd.instances[idx]!;
  const name = inst.name;
  const offPri = cd.nodes[inst.pNode]!.offline;
  const offSec = (): boolean => inst.sNode >= 0 && cd.nodes[inst.sNode]!.offline;
  const reinstall = (): { type: ArType; ops: Opcode[] } => ({
    type: "reinstall",
    ops: [
      { OP_ID: "OP_INSTANCE_RECREATE_DISKS", instance_name: name, disks: [], nodes: [], iallocator: "hail" },
      { OP_ID: "OP_INSTANCE_REINSTALL", instance_name: name, force_variant: false },
    ],
  });
  if (inst.diskTemplate === "drbd") {
    if (offPri && offSec()) return reinstall();
    if (offPri)
      return {
        type: "failover",
        ops: [
          {
            OP_ID: "OP_INSTANCE_FAILOVER",
            instance_name: name,
            shutdown_timeout: 120,
            ignore_consistency: false,
            ignore_ipolicy: false,
            cleanup: false,
          },
        ],
      };
    if (offSec())
      return {
        type: "fix-storage",
        ops: [
          {
            OP_ID: "OP_INSTANCE_REPLACE_DISKS",
            instance_name: name,
            mode: "replace_new_secondary",
            disks: [],
            iallocator: "hail",
            early_release: false,
            ignore_ipolicy: false,
          },
        ],
      };
    return null;
  }
  if (inst.diskTemplate === "plain" && offPri) return reinstall();
  return null;
}

/** Whether a policy allowing repairs up to `max` allows one of type `t`. */
export function typeAllowed(t: ArType, max: ArType): boolean {
  return typeRank(t) <= typeRank(max);
}
