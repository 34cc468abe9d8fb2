// NodeGroup: operations table.
import { z } from "zod";
import { AllocPolicySchema, GroupNameSchema, TagSchema, type GroupInfo } from "@ganeti-ts/schema";
import { NotFoundError, type GanetiClient } from "@ganeti-ts/sdk";
import { known, isUnknown, parseInputs, TimeoutsSchema } from "../core/check.js";
import type { CheckFailure, ResourceOperations } from "../core/define-resource.js";
import { compact, normalizeTags, stableEqual, type DiffTable, type FieldChange } from "../core/diff.js";
import { Deadline, runJob } from "../core/jobs.js";
import { timeoutMs, type Timeouts } from "../core/timeouts.js";

const Str = known(z.string().min(1));
const Dict = known(z.record(z.string(), z.unknown()));

export const NodeGroupInputSchema = z
  .object({
    name: known(GroupNameSchema),
    allocPolicy: known(AllocPolicySchema).default("preferred"),
    ipolicy: Dict.optional(),
    ndParams: Dict.optional(),
    diskParams: known(z.record(z.string(), z.record(z.string(), z.unknown()))).optional(),
    nodes: known(z.array(Str)).optional(),
    tags: known(z.array(known(TagSchema))).optional(),
    adopt: z.boolean().optional(),
    timeouts: TimeoutsSchema.optional(),
  })
  .strict();

export interface NodeGroupInputs extends Record<string, unknown> {
  name: string;
  allocPolicy: "preferred" | "last_resort" | "unallocable";
  ipolicy?: Record<string, unknown>;
  ndParams?: Record<string, unknown>;
  diskParams?: Record<string, Record<string, unknown>>;
  /** Nodes this group must contain (assigned on create/update). */
  nodes?: string[];
  tags: string[];
  adopt?: boolean;
  timeouts?: Timeouts;
}

export interface NodeGroupOutputs extends NodeGroupInputs {
  uuid: string;
  /** Every node in the group, managed or not. */
  nodeList: string[];
  ctime: number | null;
  mtime: number | null;
}

export function checkNodeGroup(news: Record<string, unknown>): { inputs: NodeGroupInputs; failures: CheckFailure[] } {
  const { value, failures } = parseInputs(NodeGroupInputSchema, news);
  if (!value) return { inputs: news as NodeGroupInputs, failures };
  const nodes = value.nodes === undefined || isUnknown(value.nodes) ? value.nodes : [...new Set(value.nodes)].sort();
  const tags = isUnknown(value.tags) ? value.tags : normalizeTags(value.tags as string[] | undefined);
  return { inputs: compact({ ...value, nodes, tags }) as unknown as NodeGroupInputs, failures: [] };
}

export const nodeGroupDiffTable: DiffTable = {
  name: { apply: "update" },
  allocPolicy: { apply: "update" },
  ipolicy: { apply: "update" },
  ndParams: { apply: "update" },
  diskParams: { apply: "update" },
  nodes: { apply: "update", optional: true, set: true },
  tags: { apply: "update", set: true },
  timeouts: { apply: "update" },
};

function pick(all: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (k in all) out[k] = all[k];
  return out;
}

export function nodeGroupFromInfo(g: GroupInfo, ref: Partial<NodeGroupInputs>): { inputs: NodeGroupInputs; outputs: NodeGroupOutputs } {
  const diskParams = ref.diskParams
    ? Object.fromEntries(
        Object.entries(ref.diskParams).map(([t, d]) => [t, pick((g.diskparams[t] ?? {}) as Record<string, unknown>, Object.keys(d))]),
      )
    : undefined;
  const inputs = compact({
    name: g.name,
    allocPolicy: g.alloc_policy,
    ipolicy: ref.ipolicy ? (g.custom_ipolicy as Record<string, unknown>) : undefined,
    ndParams: ref.ndParams ? pick(g.ndparams, Object.keys(ref.ndParams)) : undefined,
    diskParams,
    // Only the managed members: one moved away by hand shows up as drift.
    nodes: Array.isArray(ref.nodes) ? ref.nodes.filter((n) => g.node_list.includes(n)).sort() : undefined,
    tags: normalizeTags(g.tags),
    adopt: ref.adopt,
    timeouts: ref.timeouts,
  }) as NodeGroupInputs;
  return { inputs, outputs: { ...inputs, uuid: g.uuid, nodeList: [...g.node_list].sort(), ctime: g.ctime, mtime: g.mtime } };
}

function paramDelta(o: Record<string, unknown> | undefined, n: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(n ?? {})) if (!stableEqual(o?.[k], v)) out[k] = v;
  for (const k of Object.keys(o ?? {})) if (!(k in (n ?? {}))) out[k] = "default";
  return out;
}

async function updateGroup(
  c: GanetiClient,
  olds: NodeGroupOutputs,
  news: NodeGroupInputs,
  changes: FieldChange[],
  ms: number,
): Promise<void> {
  const dl = new Deadline(ms);
  const changed = new Set(changes.map((ch) => ch.field));
  let name = olds.name;
  if (changed.has("name") && news.name !== olds.name) {
    await runJob(`renaming group to ${news.name}`, c.groups.rename(name, news.name), dl);
    name = news.name;
  }
  const modify: Record<string, unknown> = {};
  if (changed.has("allocPolicy")) modify.alloc_policy = news.allocPolicy;
  if (changed.has("ipolicy")) modify.ipolicy = news.ipolicy ?? {};
  if (changed.has("ndParams")) modify.ndparams = paramDelta(olds.ndParams, news.ndParams);
  if (changed.has("diskParams")) modify.diskparams = news.diskParams ?? {};
  if (Object.keys(modify).length) await runJob(`modifying group ${name}`, c.groups.modify(name, modify), dl);
  if (changed.has("nodes") && news.nodes) {
    const missing = news.nodes.filter((n) => !(olds.nodes ?? []).includes(n));
    if (missing.length) await runJob(`assigning ${missing.join(", ")}`, c.groups.assignNodes(name, missing), dl);
  }
  if (changed.has("tags")) {
    const add = news.tags.filter((t) => !olds.tags.includes(t));
    const remove = olds.tags.filter((t) => !news.tags.includes(t));
    if (add.length) await runJob("adding tags", c.tags.add("nodegroup", name, add), dl);
    if (remove.length) await runJob("removing tags", c.tags.remove("nodegroup", name, remove), dl);
  }
}

export const nodeGroupOperations: ResourceOperations<NodeGroupInputs, NodeGroupOutputs> = {
  kind: "NodeGroup",
  check: checkNodeGroup,
  diffTable: nodeGroupDiffTable,
  nameOf: (i) => i.name,
  async exists(c, name) {
    try {
      await c.groups.get(name);
      return true;
    } catch (err) {
      if (err instanceof NotFoundError) return false;
      throw err;
    }
  },
  async create(c, i, ms) {
    const dl = new Deadline(ms);
    await runJob(
      `creating group ${i.name}`,
      c.groups.create(
        compact({ group_name: i.name, alloc_policy: i.allocPolicy, ipolicy: i.ipolicy, ndparams: i.ndParams, diskparams: i.diskParams }),
      ),
      dl,
    );
    if (i.tags.length) await runJob("adding tags", c.tags.add("nodegroup", i.name, i.tags), dl);
    if (i.nodes?.length) await runJob(`assigning ${i.nodes.join(", ")}`, c.groups.assignNodes(i.name, i.nodes), dl);
  },
  async read(c, name, ref) {
    try {
      return nodeGroupFromInfo(await c.groups.get(name), ref);
    } catch (err) {
      if (err instanceof NotFoundError) return null;
      throw err;
    }
  },
  update: updateGroup,
  async delete(c, props, ms) {
    await runJob(`removing group ${props.name}`, c.groups.remove(props.name), new Deadline(ms));
  },
  timeoutMs: (i, op) => timeoutMs(i.timeouts, op),
};
