// Post-processing common to every backend (Ganeti's Loader.mergeData and
// updateMissing): tags, aliases, node/instance cross links, memory stats.
import type { Group, Instance, IPolicy, DynUtil } from "./types.js";
import { HtoolsError, defIPolicy, zeroUtil } from "./types.js";
import { NO_TAGS, NO_TAG_SET, notOffline, usesLocalStorage, usesMemory } from "./instance.js";
import {
  Node,
  buildPeers,
  setPri,
  setSec,
  setPolicy,
  missingMem,
  unallocatedMem,
  setMdsk,
  setMcpu,
  dsrdLocScore,
  locExclPairs,
} from "./node.js";

/** A cluster snapshot: the input of every htools algorithm. */
export interface ClusterData {
  groups: Group[];
  nodes: Node[];
  instances: Instance[];
  tags: string[];
  ipolicy: IPolicy;
}

export interface LoadOptions {
  /** --exclusion-tags values (a ':' is appended to each). */
  exclusionTags?: string[];
  selectInstances?: string[];
  excludeInstances?: string[];
  /** Per-instance utilisation (-U file). */
  util?: Array<[string, DynUtil]>;
  ignoreDynu?: boolean;
  /** Reserved node memory override when the hypervisor is kvm. */
  staticKvmNodeMemory?: number;
  /** "reference" attaches instances with setPri/setSec even when attachPlain applies (tests) */
  engine?: "auto" | "reference";
}

const EX_TAGS_PREFIX = "htools:iextags:";
const DESIRED_LOC_PREFIX = "htools:desiredlocation:";
const NLOCATION_PREFIX = "htools:nlocation:";
const MIGRATION_PREFIX = "htools:migration:";
const ALLOW_MIGRATION_PREFIX = "htools:allowmigration:";

function chompPrefixes(prefix: string, tags: string[]): string[] {
  return tags
    .filter((t) => t.startsWith(prefix))
    .map((t) => t.slice(prefix.length))
    .filter((t) => t.length > 0);
}

function longestDomain(names: string[]): string {
  if (names.length === 0) return "";
  const [x, ...xs] = names as [string, ...string[]];
  let best = "";
  // Ganeti takes the shortest dot-suffix of the first name that all others share... via foldr over tails:
  // the result is the first (longest) matching suffix in tails order.
  for (let i = 0; i < x.length; i++) {
    if (x[i] !== ".") continue;
    const suffix = x.slice(i);
    if (xs.every((n) => n.endsWith(suffix))) {
      best = suffix;
      break;
    }
  }
  return best;
}

/**
 * longestDomain of the node names followed by the instance names, without
 * building that list: the first name's dot-suffixes, longest first, until
 * one ends every name.  (Usually the first name has no dot, or the first
 * suffix tried fits every name.)
 */
function clusterDomain(nl: readonly Node[], il: readonly Instance[]): string {
  const x = nl.length > 0 ? nl[0]!.name : il.length > 0 ? il[0]!.name : null;
  if (x === null) return "";
  for (let i = x.indexOf("."); i >= 0; i = x.indexOf(".", i + 1)) {
    const suffix = x.slice(i);
    let all = true;
    for (let k = 1; all && k < nl.length; k++) all = nl[k]!.name.endsWith(suffix);
    for (let k = nl.length > 0 ? 0 : 1; all && k < il.length; k++) all = il[k]!.name.endsWith(suffix);
    if (all) return suffix;
  }
  return "";
}

function stripSuffix(name: string, suffix: string): string {
  return suffix && name.endsWith(suffix) ? name.slice(0, name.length - suffix.length) : name;
}

/** The node tags "P:…" for the cluster's prefixes P (prefixes given with their ':'). */
function tagsWithPrefixes(prefixes: readonly string[], ntags: readonly string[]): Set<string> {
  const r = new Set<string>();
  for (const p of prefixes) for (const t of ntags) if (t.startsWith(p)) r.add(t);
  return r;
}

/** The cluster tags' location and migration prefixes, computed once for all nodes. */
function nodeTagRules(ctags: string[]): { loc: string[]; mig: string[]; allow: Array<[string, string]> } {
  const allow: Array<[string, string]> = [];
  for (const t of ctags) {
    if (!t.startsWith(ALLOW_MIGRATION_PREFIX)) continue;
    const rest = t.slice(ALLOW_MIGRATION_PREFIX.length);
    const k = rest.indexOf("::");
    if (k < 0) continue;
    allow.push([rest.slice(0, k), rest.slice(k + 2)]);
  }
  const colon = (p: string): string => p + ":";
  return { loc: chompPrefixes(NLOCATION_PREFIX, ctags).map(colon), mig: chompPrefixes(MIGRATION_PREFIX, ctags).map(colon), allow };
}

function getRecvMigRestrictions(rules: ReturnType<typeof nodeTagRules>, ntags: string[]): Set<string> {
  const r = tagsWithPrefixes(rules.mig, ntags);
  if (rules.allow.length === 0) return r;
  const mig = new Set(r);
  for (const [a, b] of rules.allow) if (mig.has(b)) r.add(a);
  return r;
}

export function instanceGroupOk(nodes: Node[], i: Instance): boolean {
  const p = nodes[i.pNode]!;
  const s = i.sNode < 0 ? p : nodes[i.sNode]!;
  return p.group === s.group;
}

/** What mergeData computes once from the cluster tags and options before it reads the instances. */
interface MergeRules {
  exTags: string[];
  dsrd: string[];
  rules: ReturnType<typeof nodeTagRules>;
  /** each node's location tags as a list (by position in the node list): the location score without a Set iterator per instance */
  loc: string[][];
}

function mergeRules(nl: readonly Node[], ctags: string[], exclusionTags: readonly string[]): MergeRules {
  const rules = nodeTagRules(ctags);
  const loc: string[][] = [];
  for (let k = 0; k < nl.length; k++) {
    const n = nl[k]!;
    n.locationTags = tagsWithPrefixes(rules.loc, n.nTags);
    loc.push(n.locationTags.size === 0 ? NO_LOC : [...n.locationTags]);
  }
  return {
    exTags: [...exclusionTags.map((t) => t + ":"), ...chompPrefixes(EX_TAGS_PREFIX, ctags)],
    dsrd: chompPrefixes(DESIRED_LOC_PREFIX, ctags),
    rules,
    loc,
  };
}
const NO_LOC: string[] = [];

/**
 * mergeData's own work on one instance (all but the alias and the
 * selection): its exclusion and desired-location tags, its location score,
 * and not movable across groups.  True if it is forthcoming (attachPlain
 * then does not apply).
 */
function mergeInstance(m: MergeRules, nl: readonly Node[], i: Instance): boolean {
  const tags = i.allTags;
  // (untagged instances, the usual case: the same empty values without the filtering)
  if (tags.length === 0) {
    i.dsrdLocTags = NO_TAG_SET;
    i.exclTags = NO_TAGS;
  } else {
    // (the same tags in the same order; none: the shared empty values, as
    // for an untagged instance; no desired-location prefix, the usual case:
    // no Set per tagged instance)
    i.dsrdLocTags = m.dsrd.length === 0 ? NO_TAG_SET : withPrefixSet(tags, m.dsrd);
    i.exclTags = m.exTags.length === 0 ? NO_TAGS : withPrefix(tags, m.exTags);
  }
  const p = nl[i.pNode]!;
  const s = i.sNode >= 0 ? nl[i.sNode] : undefined;
  if (!s) i.locationScore = 0;
  else {
    // |p's location tags ∩ s's|
    const pl = m.loc[i.pNode]!;
    let c = 0;
    if (pl.length > 0) {
      const st = s.locationTags;
      for (let j = 0; j < pl.length; j++) if (st.has(pl[j]!)) c++;
    }
    i.locationScore = c;
  }
  // instanceGroupOk: the node groups never change while loading
  if (p.group !== (s ?? p).group) i.movable = false;
  return i.forthcoming;
}

/** The tags that start with one of the prefixes, in order (NO_TAGS if none). */
function withPrefix(tags: readonly string[], prefixes: readonly string[]): readonly string[] {
  let r: string[] | null = null;
  for (let k = 0; k < tags.length; k++) {
    const t = tags[k]!;
    for (let j = 0; j < prefixes.length; j++)
      if (t.startsWith(prefixes[j]!)) {
        (r ??= []).push(t);
        break;
      }
  }
  return r ?? NO_TAGS;
}

/** withPrefix as a set (NO_TAG_SET if none). */
function withPrefixSet(tags: readonly string[], prefixes: readonly string[]): ReadonlySet<string> {
  const l = withPrefix(tags, prefixes);
  return l.length === 0 ? NO_TAG_SET : new Set(l);
}

/** mergeData's work on the nodes once the instances are attached. */
function mergeNodes(cd: ClusterData, suffix: string, rules: MergeRules["rules"]): void {
  const nl = cd.nodes;
  const il = cd.instances;
  for (let k = 0; k < nl.length; k++) {
    const n = nl[k]!;
    buildPeers(n, il);
    n.alias = stripSuffix(n.name, suffix);
    const g = cd.groups[n.group];
    if (g) setPolicy(n, g.ipolicy);
    n.migTags = tagsWithPrefixes(rules.mig, n.nTags);
    n.rmigTags = getRecvMigRestrictions(rules, n.nTags);
  }
}

/** Ganeti's mergeData: returns the fixed-up cluster (the input is consumed). */
export function mergeData(cd: ClusterData, opts: LoadOptions = {}): ClusterData {
  const il = cd.instances;
  const nl = cd.nodes;
  if (opts.ignoreDynu) for (const i of il) i.util = zeroUtil();
  else if (opts.util) {
    const byName = new Map(il.map((i) => [i.name, i] as const));
    for (const [name, u] of opts.util) {
      const i = byName.get(name);
      if (i) i.util = u;
    }
  }
  const sel = opts.selectInstances ?? [];
  const ex = opts.excludeInstances ?? [];
  const instNames = sel.length + ex.length > 0 ? new Set(il.map((i) => i.name)) : new Set<string>();
  const unknown = [...sel, ...ex].filter((n) => !instNames.has(n));
  if (unknown.length > 0) throw new HtoolsError(`Unknown instance(s): ${JSON.stringify(unknown)}`, "EUNKNOWNINST");
  const suffix = clusterDomain(nl, il);
  const m = mergeRules(nl, cd.tags, opts.exclusionTags ?? []);
  // plain: no forthcoming instance; then setPri/setSec reduce to what
  // attachPlain does
  let plain = true;
  // (indexed loops and one pass: this runs once per load, mostly before V8 optimises it)
  const pick = sel.length + ex.length > 0;
  for (let k = 0; k < il.length; k++) {
    const i = il[k]!;
    if (pick && (ex.includes(i.name) || !(sel.length === 0 || sel.includes(i.name)))) i.movable = false;
    i.alias = stripSuffix(i.name, suffix);
    if (mergeInstance(m, nl, i)) plain = false;
  }
  if (opts.engine !== "reference" && plain) attachPlain(nl, il);
  else
    for (const i of il) {
      setPri(nl[i.pNode]!, i);
      if (i.sNode >= 0) setSec(nl[i.sNode]!, i);
    }
  mergeNodes(cd, suffix, m.rules);
  return cd;
}

/**
 * mergeData without options (hail's) fed one instance at a time, as the
 * request is read: each instance is merged and attached to its nodes while
 * it is new (one pass over the instances instead of three, and no second
 * visit to 10,000 objects).  Give it the nodes (indexed, with their tags)
 * and the cluster tags, then every instance in order (its idx, pNode and
 * sNode set); `add` returns false for a forthcoming instance, after which
 * the nodes are half attached and the caller must load the cluster the
 * ordinary way (mergeData) from fresh nodes.  `finish` gives what
 * mergeData(cd) would have: loader-stream.test.ts compares the two.
 */
export class StreamMerge {
  private readonly m: MergeRules;
  private readonly a: Attach;
  constructor(
    private readonly nl: Node[],
    private readonly tags: string[],
  ) {
    this.m = mergeRules(nl, tags, []);
    this.a = attachBegin(nl);
  }

  add(i: Instance): boolean {
    if (mergeInstance(this.m, this.nl, i)) return false;
    attachOne(this.a, this.nl, i);
    return true;
  }

  finish(groups: Group[], il: Instance[]): ClusterData {
    const nl = this.nl;
    const suffix = clusterDomain(nl, il);
    if (suffix !== "") for (let k = 0; k < il.length; k++) il[k]!.alias = stripSuffix(il[k]!.name, suffix);
    attachEnd(this.a, nl);
    const cd: ClusterData = { groups, nodes: nl, instances: il, tags: this.tags, ipolicy: defIPolicy() };
    mergeNodes(cd, suffix, this.m.rules);
    return cd;
  }
}

/**
 * setPri/setSec (node.ts) over all instances in order, for a plainCluster:
 * the same operations on every field in the same order (so the values are
 * bit-identical), but on arrays owned by the node instead of a new array per
 * instance; the ratios are written once from the final counters, as their
 * last assignment would.  loader-attach.test.ts compares it with setPri/setSec.
 */
function attachPlain(nl: Node[], il: Instance[]): void {
  const a = attachBegin(nl);
  for (let k = 0; k < il.length; k++) attachOne(a, nl, il[k]!);
  attachEnd(a, nl);
}

/** attachPlain's per-node lists while it runs. */
interface Attach {
  pri: number[][];
  sec: number[][];
  hasPri: Uint8Array;
}

function attachBegin(nl: Node[]): Attach {
  const pri: number[][] = [];
  const sec: number[][] = [];
  const hasPri = new Uint8Array(nl.length);
  for (let k = 0; k < nl.length; k++) {
    const n = nl[k];
    if (!n) continue;
    n.utilLoad = [n.utilLoad[0], n.utilLoad[1], n.utilLoad[2], n.utilLoad[3]];
    n.utilLoadForth = [n.utilLoadForth[0], n.utilLoadForth[1], n.utilLoadForth[2], n.utilLoadForth[3]];
    pri[n.idx] = [];
    sec[n.idx] = [];
    // (tag multisets owned by the node, added to in place below)
    n.pTags = new Map(n.pTags);
    n.instanceMap = new Map(n.instanceMap);
  }
  return { pri, sec, hasPri };
}

function attachOne(a: Attach, nl: Node[], i: Instance): void {
  const t = nl[i.pNode]!;
  const online = notOffline(i);
  const local = usesLocalStorage(i);
  // (each instance field and utilisation value read once: the node arrays
  // were created by attachBegin, so none of them is the instance's util)
  const u = i.util;
  const u0 = u[0];
  const u1 = u[1];
  const u2 = u[2];
  const u3 = u[3];
  const idx = i.idx;
  const vcpus = i.vcpus;
  const su = i.spindleUse;
  const ti = t.idx;
  a.pri[ti]!.push(idx);
  a.hasPri[ti] = 1;
  t.uCpu = online ? t.uCpu + vcpus : t.uCpu;
  // (node.ts addU's arithmetic, in place)
  const ul = t.utilLoad;
  ul[0] = ul[0] + u0;
  ul[1] = ul[1] + u1;
  ul[2] = ul[2] + u2;
  ul[3] = ul[3] + u3;
  const texcl = t.exclStorage;
  t.instSpindles = texcl ? 0 : local ? t.instSpindles + su : t.instSpindles;
  t.locationScore = t.locationScore + i.locationScore + dsrdLocScore(t, i);
  // (node.ts addTags in place: the same counts, keys in the same order)
  if (i.exclTags.length > 0) {
    addTagsInPlace(t.instanceMap, locExclPairs(t, i));
    addTagsInPlace(t.pTags, i.exclTags);
  }
  t.uCpuForth = online ? t.uCpuForth + vcpus : t.uCpuForth;
  const uf = t.utilLoadForth;
  uf[0] = uf[0] + u0;
  uf[1] = uf[1] + u1;
  uf[2] = uf[2] + u2;
  uf[3] = uf[3] + u3;
  t.fMemForth = !usesMemory(i) ? t.fMemForth - i.mem : t.fMemForth;
  t.instSpindlesForth = texcl ? 0 : local ? t.instSpindlesForth + su : t.instSpindlesForth;
  if (i.sNode >= 0) {
    const v = nl[i.sNode]!;
    a.sec[v.idx]!.push(idx);
    const vl = v.utilLoad;
    vl[2] = vl[2] + u2;
    const vexcl = v.exclStorage;
    v.instSpindles = vexcl ? 0 : local ? v.instSpindles + su : v.instSpindles;
    const vf = v.utilLoadForth;
    vf[2] = vf[2] + u2;
    v.instSpindlesForth = vexcl ? 0 : local ? v.instSpindlesForth + su : v.instSpindlesForth;
  }
}

function attachEnd(a: Attach, nl: Node[]): void {
  for (let k = 0; k < nl.length; k++) {
    const n = nl[k];
    if (!n) continue;
    const p = a.pri[n.idx]!;
    const q = a.sec[n.idx]!;
    if (p.length > 0) n.pList = n.pList.length === 0 ? p.reverse() : [...p.reverse(), ...n.pList];
    if (q.length > 0) n.sList = n.sList.length === 0 ? q.reverse() : [...q.reverse(), ...n.sList];
    if (a.hasPri[n.idx]) {
      n.pCpu = n.uCpu / n.tCpu;
      n.pCpuForth = n.uCpuForth / n.tCpu;
      n.pMemForth = n.fMemForth / n.tMem;
    }
  }
}

function addTagsInPlace(m: Map<string, number>, tags: readonly string[]): void {
  for (let j = 0; j < tags.length; j++) m.set(tags[j]!, (m.get(tags[j]!) ?? 0) + 1);
}

/** Ganeti's updateMissing: derive iMem/xMem/pMem; returns warnings. */
export function updateMissing(cd: ClusterData, staticKvmNodeMemory = 0): string[] {
  const msgs: string[] = [];
  const il = cd.instances;
  for (let k = 0; k < cd.nodes.length; k++) {
    const n = cd.nodes[k]!;
    if (staticKvmNodeMemory > 0 && n.hypervisor === "kvm") n.nMem = staticKvmNodeMemory;
    const pl = n.pList;
    const sl = n.sList;
    // one pass over the primaries for both sums (each in the same order as before)
    let imem = 0;
    let idsk = 0;
    for (let j = 0; j < pl.length; j++) {
      const inst = il[pl[j]!]!;
      idsk += inst.dsk;
      if (usesMemory(inst)) imem += inst.mem;
    }
    n.iMem = imem;
    n.xMem = missingMem(n);
    n.pMem = unallocatedMem(n) / n.tMem;
    for (let j = 0; j < sl.length; j++) idsk += il[sl[j]!]!.dsk;
    const deltaDsk = Math.trunc(n.tDsk) - n.fDsk - idsk;
    if (n.xMem > 512 || deltaDsk > 1024) msgs.push(`node ${n.name} is missing ${n.xMem} MB ram and ${Math.floor(deltaDsk / 1024)} GB disk`);
  }
  return msgs.reverse();
}

/** -O / --mcpu / --min-disk handling (Ganeti's setNodeStatus). */
export function setNodeStatus(cd: ClusterData, o: { offline?: string[]; mcpu?: number; mdsk?: number }): void {
  const names = cd.nodes.map((n) => n.name);
  const wanted = (o.offline ?? []).map((x) => lookupName(names, x));
  const bad = wanted.filter((w) => w.bad).map((w) => w.name);
  if (bad.length > 0) throw new HtoolsError(`wrong node name(s) set as offline: ${bad.join(", ")}\n`, "EBADNODE");
  const off = new Set(wanted.map((w) => w.name));
  for (const n of cd.nodes) {
    if (o.mcpu !== undefined) setMcpu(n, o.mcpu);
    setMdsk(n, o.mdsk ?? 0);
    if (off.has(n.name)) n.offline = true;
  }
}

/** Ganeti's lookupName: exact match, else unique prefix match (name or name.*). */
function lookupName(names: string[], s: string): { name: string; bad: boolean } {
  if (names.includes(s)) return { name: s, bad: false };
  const partial = names.filter((n) => n.startsWith(s + ".") || n === s);
  if (partial.length === 1) return { name: partial[0]!, bad: false };
  return { name: s, bad: true };
}

export function commonSuffix(cd: ClusterData): string {
  return longestDomain([...cd.nodes.map((n) => n.name), ...cd.instances.map((i) => i.name)]);
}

/** Split the cluster by node group, in group index order (Ganeti's splitCluster). */
export function splitCluster(nodes: Node[], instances: Instance[]): Array<{ gdx: number; nodes: number[]; instances: number[] }> {
  const byGroup = new Map<number, number[]>();
  for (const n of nodes) {
    if (!byGroup.has(n.group)) byGroup.set(n.group, []);
    byGroup.get(n.group)!.push(n.idx);
  }
  const gids = [...byGroup.keys()].sort((a, b) => a - b);
  return gids.map((g) => {
    const ns = byGroup.get(g)!;
    const set = new Set(ns);
    // (an indexed loop: hail runs this once on 10,000 instances, unoptimised)
    const is: number[] = [];
    for (let k = 0; k < instances.length; k++) {
      const i = instances[k];
      if (i !== undefined && set.has(i.pNode)) is.push(i.idx);
    }
    return { gdx: g, nodes: ns, instances: is };
  });
}
