// IAllocator protocol (docs/htools-internals.md, IAllocator protocol): request parsing, dispatch, response.
import type { AllocPolicy, Disk, DiskTemplate, Group, Instance, IPolicy, ISpec, Nic, RunState } from "./types.js";
import { HtoolsError, defIPolicy, isFail } from "./types.js";
import { Node, createNode, addPriEx, addSec } from "./node.js";
import { NO_NICS, NO_TAGS, createInstance, instMatchesPolicy, mirrorType, newInstance, requiredNodes } from "./instance.js";
import { StreamMerge, mergeData, updateMissing, type ClusterData } from "./loader.js";
import {
  allocList,
  emptySolution,
  genAllocNodes,
  tryAlloc,
  tryChangeGroup,
  tryGroupAlloc,
  tryMGAlloc,
  tryNodeEvac,
  fullNL,
  applyAlloc,
  sortMGResults,
  filterMGResults,
  solutionDescription,
  annotateSolution,
  hasRequiredNetworks,
  type AlgOptions,
  type AllocElement,
  type AllocSolution,
  type EvacMode,
  type EvacSolution,
} from "./alloc.js";
import { splitCluster } from "./loader.js";
import { isDedicated, dedicatedFindAllocation, dedicatedMGAllocation, showMetric, type DMetric } from "./dedicated.js";

export type RequestType =
  | { type: "allocate"; inst: Instance; count: number; group: string | null; restrict: string[] | null }
  | { type: "allocate-secondary"; idx: number }
  | { type: "relocate"; idx: number; count: number; exNodes: number[] }
  | { type: "node-evacuate"; idxs: number[]; mode: EvacMode }
  | { type: "change-group"; idxs: number[]; groups: number[] }
  | { type: "multi-allocate"; reqs: Array<{ inst: Instance; count: number; group: string | null }> };

export interface IAllocRequest {
  request: RequestType;
  cluster: ClusterData;
  warnings: string[];
}

type JObj = Record<string, unknown>;
const err = (m: string): never => {
  throw new HtoolsError(m, "EIALLOC");
};
function isObj(v: unknown): v is JObj {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}
function get(o: JObj, k: string, ctx: string): unknown {
  if (!(k in o)) err(`${ctx}: key '${k}' not found`);
  return o[k];
}
function str(o: JObj, k: string, ctx: string): string {
  const v = get(o, k, ctx);
  if (typeof v !== "string") err(`${ctx}: key '${k}': Unable to read String`);
  return v as string;
}
function num(o: JObj, k: string, ctx: string): number {
  const v = get(o, k, ctx);
  if (typeof v !== "number") err(`${ctx}: key '${k}': Unable to read number`);
  return v as number;
}
function bool(o: JObj, k: string, ctx: string): boolean {
  const v = get(o, k, ctx);
  if (typeof v !== "boolean") err(`${ctx}: key '${k}': Unable to read Bool`);
  return v as boolean;
}
function obj(o: JObj, k: string, ctx: string): JObj {
  const v = get(o, k, ctx);
  if (!isObj(v)) err(`${ctx}: key '${k}': Unable to read JSObject`);
  return v as JObj;
}
function arr(o: JObj, k: string, ctx: string): unknown[] {
  const v = get(o, k, ctx);
  if (!Array.isArray(v)) err(`${ctx}: key '${k}': Unable to read list`);
  return v as unknown[];
}
function strList(o: JObj, k: string, ctx: string): string[] {
  return arr(o, k, ctx).map((x) => {
    if (typeof x !== "string") err(`${ctx}: key '${k}': Unable to read String`);
    return x as string;
  });
}

function parseSpec(o: unknown, ctx: string): ISpec {
  if (!isObj(o)) return err(`${ctx}: invalid ispec`);
  return {
    memorySize: num(o, "memory-size", ctx),
    cpuCount: num(o, "cpu-count", ctx),
    diskSize: num(o, "disk-size", ctx),
    diskCount: num(o, "disk-count", ctx),
    nicCount: num(o, "nic-count", ctx),
    spindleUse: num(o, "spindle-use", ctx),
  };
}
export function parseIPolicy(o: JObj, ctx: string): IPolicy {
  const minmax = arr(o, "minmax", ctx).map((mm) => {
    if (!isObj(mm)) return err(`${ctx}: invalid minmax`);
    return { min: parseSpec(mm["min"], ctx), max: parseSpec(mm["max"], ctx) };
  });
  return {
    minmax,
    std: parseSpec(get(o, "std", ctx), ctx),
    diskTemplates: strList(o, "disk-templates", ctx) as DiskTemplate[],
    vcpuRatio: num(o, "vcpu-ratio", ctx),
    spindleRatio: num(o, "spindle-ratio", ctx),
  };
}

// no prototype: an admin_state such as "toString" must not find an Object method
const ADMIN: Readonly<Record<string, RunState | undefined>> = Object.freeze(
  Object.assign(
    Object.create(null) as Record<string, RunState | undefined>,
    { up: "running", down: "ADMIN_down", offline: "ADMIN_offline" } as const,
  ),
);

function parseBaseInstance(name: string, a: JObj): Instance {
  const ctx = `invalid data for instance '${name}'`;
  const dsk = num(a, "disk_space_total", ctx);
  const disks = arr(a, "disks", ctx).map((d) => {
    if (!isObj(d)) return err(ctx);
    const sp = d["spindles"];
    return { size: num(d, "size", ctx), spindles: typeof sp === "number" ? sp : null };
  });
  const mem = num(a, "memory", ctx);
  const vcpus = num(a, "vcpus", ctx);
  const tags = strList(a, "tags", ctx);
  const dt = str(a, "disk_template", ctx) as DiskTemplate;
  const su = num(a, "spindle_use", ctx);
  const nics: Nic[] = arr(a, "nics", ctx).map((n) => {
    if (!isObj(n)) return err(ctx);
    const net = n["network"];
    return { network: typeof net === "string" ? net : null };
  });
  const st = typeof a["admin_state"] === "string" ? (ADMIN[a["admin_state"] as string] ?? "running") : "running";
  const fc = typeof a["forthcoming"] === "boolean" ? (a["forthcoming"] as boolean) : false;
  return createInstance({
    name,
    mem,
    dsk,
    disks,
    vcpus,
    runSt: st,
    tags,
    autoBalance: true,
    pNode: 0,
    sNode: 0,
    diskTemplate: dt,
    spindleUse: su,
    nics,
    forthcoming: fc,
  });
}

/**
 * parseBaseInstance for well-formed data: the same values, without the
 * per-field checks' closures and messages; anything unexpected goes to
 * parseBaseInstance, which gives the error (or the same result).
 */
/**
 * One-disk lists shared by the instances with that disk: fewer objects to
 * allocate and for the scavenger to copy while 10,000 instances are built.
 * Frozen (nothing edits an instance's disks; an edit would throw instead of
 * changing other instances).  Only for positive integer sizes and small
 * spindle counts (an exact numeric key), at most 256 lists; otherwise null.
 */
const ONE_DISK = new Map<number, Disk[]>();
function oneDisk(size: number, spindles: number | null): Disk[] | null {
  if (!(size > 0 && size < 2 ** 40 && Number.isInteger(size))) return null;
  let key: number;
  if (spindles === null) key = size * 64;
  else if (spindles >= 0 && spindles < 63 && Number.isInteger(spindles)) key = size * 64 + 1 + spindles;
  else return null;
  let l = ONE_DISK.get(key);
  if (l === undefined) {
    if (ONE_DISK.size >= 256) return null;
    l = Object.freeze([Object.freeze({ size, spindles })]) as Disk[];
    ONE_DISK.set(key, l);
  }
  return l;
}

function fastBaseInstance(name: string, a: JObj): Instance {
  const dsk = a["disk_space_total"];
  const dl = a["disks"];
  const mem = a["memory"];
  const vcpus = a["vcpus"];
  const tags = a["tags"];
  const dt = a["disk_template"];
  const su = a["spindle_use"];
  const nl = a["nics"];
  if (
    typeof dsk !== "number" ||
    !Array.isArray(dl) ||
    typeof mem !== "number" ||
    typeof vcpus !== "number" ||
    !Array.isArray(tags) ||
    typeof dt !== "string" ||
    typeof su !== "number" ||
    !Array.isArray(nl)
  )
    return parseBaseInstance(name, a);
  // (indexed loops, and a one-disk list built at its size: this runs 10,000 times, mostly before V8 optimises it)
  let disks: Array<{ size: number; spindles: number | null }>;
  if (dl.length === 1) {
    const d = dl[0] as unknown;
    if (!isObj(d)) return parseBaseInstance(name, a);
    const size = d["size"];
    if (typeof size !== "number") return parseBaseInstance(name, a);
    const sp = d["spindles"];
    const spindles = typeof sp === "number" ? sp : null;
    disks = oneDisk(size, spindles) ?? [{ size, spindles }];
  } else {
    disks = [];
    for (let k = 0; k < dl.length; k++) {
      const d = dl[k] as unknown;
      if (!isObj(d)) return parseBaseInstance(name, a);
      const size = d["size"];
      if (typeof size !== "number") return parseBaseInstance(name, a);
      const sp = d["spindles"];
      disks.push({ size, spindles: typeof sp === "number" ? sp : null });
    }
  }
  for (let k = 0; k < tags.length; k++) if (typeof tags[k] !== "string") return parseBaseInstance(name, a);
  // empty lists: the shared empty values (instance.ts)
  let nics: readonly Nic[] = NO_NICS;
  if (nl.length > 0) {
    const ns: Nic[] = [];
    for (let k = 0; k < nl.length; k++) {
      const n = nl[k] as unknown;
      if (!isObj(n)) return parseBaseInstance(name, a);
      const net = n["network"];
      ns.push({ network: typeof net === "string" ? net : null });
    }
    nics = ns;
  }
  const as = a["admin_state"];
  const st = typeof as === "string" ? (ADMIN[as] ?? "running") : "running";
  const fc = a["forthcoming"];
  return newInstance(
    name,
    mem,
    dsk,
    disks,
    vcpus,
    st,
    tags.length === 0 ? NO_TAGS : (tags as string[]),
    true,
    0,
    0,
    dt as DiskTemplate,
    su,
    nics,
    typeof fc === "boolean" ? fc : false,
  );
}

/**
 * buildRequest's node for well-formed data: the same checks and values,
 * without a message string and a closure per node; null sends the node
 * through the checked code, which gives the error (or the same node).
 */
function fastNode(name: string, nv: unknown, gByUuid: Map<string, number>): Node | null {
  if (!isObj(nv)) return null;
  const offline = nv["offline"];
  const drained = nv["drained"];
  const guuid = nv["group"];
  const nd = nv["ndparams"];
  if (typeof offline !== "boolean" || typeof drained !== "boolean" || typeof guuid !== "string" || !isObj(nd)) return null;
  const gidx = gByUuid.get(guuid);
  const excl = nd["exclusive_storage"];
  if (gidx === undefined || typeof excl !== "boolean") return null;
  const vc = nv["vm_capable"];
  const live = !offline && (typeof vc === "boolean" ? vc : true);
  let tMem = 0,
    nMem = 0,
    fMem = 0,
    tDsk = 0,
    fDsk = 0,
    tCpu = 0,
    nCpu = 0,
    fSpindles = 0,
    tSpindles = 0;
  if (live) {
    const a = nv["total_memory"],
      b = nv["reserved_memory"],
      c = nv["free_memory"],
      d = nv["total_disk"],
      e = nv["free_disk"],
      f = nv["total_cpus"],
      g = nv["reserved_cpus"],
      h = nv["free_spindles"];
    if (
      typeof a !== "number" ||
      typeof b !== "number" ||
      typeof c !== "number" ||
      typeof d !== "number" ||
      typeof e !== "number" ||
      typeof f !== "number" ||
      typeof g !== "number" ||
      typeof h !== "number"
    )
      return null;
    tMem = a;
    nMem = b;
    fMem = c;
    tDsk = d;
    fDsk = e;
    tCpu = f;
    nCpu = g;
    fSpindles = h;
  }
  if (excl) {
    if (live) {
      const ts = nv["total_spindles"];
      if (typeof ts !== "number") return null;
      tSpindles = ts;
    }
  } else {
    const sc = nd["spindle_count"];
    if (typeof sc !== "number") return null;
    tSpindles = sc;
  }
  const n = createNode({
    name,
    tMem,
    nMem,
    fMem,
    tDsk,
    fDsk,
    tCpu,
    nCpu,
    offline: !live || drained,
    tSpindles,
    fSpindles,
    group: gidx,
    exclStorage: excl,
  });
  const tags = nv["tags"];
  n.nTags = Array.isArray(tags) ? (tags as string[]) : [];
  return n;
}

/** When splitRequest applies, and the text per piece of "instances". */
export interface SplitOptions {
  /** smaller texts are parsed in one piece */
  min: number;
  piece: number;
}
const DEFAULT_SPLIT: SplitOptions = { min: 256 * 1024, piece: 64 * 1024 };

/**
 * Parse the JSON text Ganeti sends to an iallocator.  Large requests are
 * parsed in pieces (splitRequest); any error on that path sends the whole
 * text through the plain path, which gives the same result or the proper
 * error.  `split` and `fast` are for tests (null: the plain path only;
 * false: the checked reading of every node and instance, without
 * fastNode/fastBaseInstance).
 */
export function parseRequest(
  body: string,
  staticKvmNodeMemory = 4096,
  split: SplitOptions | null = DEFAULT_SPLIT,
  fast = true,
): IAllocRequest {
  const sr = split === null ? null : splitRequest(body, split);
  if (sr !== null) {
    try {
      const r = buildRequest(sr.top, staticKvmNodeMemory, sr.members, fast);
      if (r !== null) return r;
    } catch (e) {
      if (!(e instanceof HtoolsError)) throw e;
      // reported by the plain path below, with its own message and order of checks
    }
  }
  let decoded: unknown;
  try {
    decoded = JSON.parse(body);
  } catch {
    return err("Parsing input IAllocator message: Invalid JSON");
  }
  return buildRequest(decoded, staticKvmNodeMemory, null, fast)!;
}

/** Calls f on each member in order; false if it gave up (f may have seen some members). */
type Members = (f: (name: string, value: unknown) => void) => boolean;

function tryParse(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    if (e instanceof SyntaxError) return undefined;
    throw e;
  }
}

function hasMember(o: JObj): boolean {
  for (const _ in o) return true;
  return false;
}

/**
 * JSON.parse("{" + piece + "}") and its member names, if that is an object
 * with at least one member.  (Object.keys, which the caller needs anyway,
 * instead of hasMember: for-in lists all ~180 keys of a piece to find one.)
 */
function pieceObj(piece: string): { o: JObj; names: string[] } | null {
  const o = tryParse("{" + piece + "}");
  if (!isObj(o)) return null;
  const names = Object.keys(o);
  return names.length > 0 ? { o, names } : null;
}

const isIndexLike = (k: string): boolean => {
  const c = k.charCodeAt(0);
  return c >= 48 && c <= 57 && /^(?:0|[1-9][0-9]{0,9})$/.test(k) && Number(k) < 4294967295;
};

/**
 * A large request as its top level without "instances" (parsed from the
 * text before and after that object) and the members of "instances",
 * parsed a piece of about `o.piece` characters at a time so that each piece's
 * JSON tree dies young (one tree of 10,000 instances survives several
 * scavenges and is copied by each).  Null when the text does not split so;
 * the members end with a null if a piece does not parse.
 *
 * Exactness: the text is cut into head + '"instances":{' + P1 + ',' + … +
 * ',' + Pk + '}' + tail (or '"instances": {', the pieces then starting
 * with a space), and each part is parsed on its own: the head
 * closed by '"instances":{}}', each Pi as '{' + Pi + '}' (at least one
 * member), the tail as '{' + its members (or a lone closing brace).  The
 * head has no backslash, so the quote at the cut opens a string (had it
 * closed one, a letter would follow a string): the appended member is a
 * member of the top-level object.  When every part parses, their
 * derivations compose into a derivation of the whole text, which is the
 * only one (JSON's grammar is unambiguous), so the values are those
 * JSON.parse gives, except for what the grammar does not fix: a name
 * repeated across parts (JSON.parse keeps the last value at the first
 * position) and index-like names (listed first by JSON.parse); the reader
 * gives up on those.  Where the cuts fall only decides whether every part
 * parses.
 */
export function splitRequest(body: string, o: SplitOptions = DEFAULT_SPLIT): { top: JObj; members: Members } | null {
  if (body.length < o.min) return null;
  // Compact text, or Ganeti's own (simplejson's default separators put a
  // space after every ':' and ','): the same cuts with or without it.
  let key = '"instances":{';
  let at = body.indexOf(key);
  let cut = '},"';
  if (at < 0) {
    key = '"instances": {';
    at = body.indexOf(key);
    cut = '}, "';
  }
  // (without escapes before it, the key's quote cannot be inside a string: see below)
  if (at < 0 || body.lastIndexOf("\\", at) >= 0) return null;
  const head = tryParse(body.slice(0, at) + '"instances":{}}');
  if (!isObj(head)) return null;
  const start = at + key.length;
  // The end of the object: a closing brace followed by the next top-level
  // member (one of the known keys), or by the document's end.  The first
  // candidate whose tail parses is the end (a candidate inside the object
  // leaves the tail unbalanced; one further on leaves the last piece so).
  let end = -1;
  let tail: JObj | null = null;
  const next = /\}, ?"(?:version|cluster_name|cluster_tags|enabled_hypervisors|ipolicy|nodegroups|nodes|request)":/g;
  next.lastIndex = start;
  for (let tries = 0; tries < 8 && end < 0; tries++) {
    const m = next.exec(body);
    if (m === null) break;
    const o = tryParse("{" + body.slice(m.index + 2));
    if (isObj(o) && hasMember(o)) {
      end = m.index;
      tail = o;
    }
  }
  if (end < 0) {
    const last = body.lastIndexOf("}");
    if (last - 1 < start || body.charCodeAt(last - 1) !== 125 || !/^[ \t\n\r]*$/.test(body.slice(last + 1))) return null;
    end = last - 1;
    tail = {};
  }
  if (tail === null || "instances" in tail) return null;
  const top: JObj = { ...head, ...tail };
  const members: Members = (f) => {
    if (!/[^ \t\n\r]/.test(body.slice(start, end))) return true; // "instances": {}
    const seen = new Set<string>();
    let a = start;
    while (a < end) {
      let c = body.indexOf(cut, a + o.piece);
      let piece: { o: JObj; names: string[] } | null = null;
      for (let tries = 0; piece === null; tries++) {
        if (c < 0 || c + 1 >= end) c = end - 1; // the last piece
        piece = pieceObj(body.slice(a, c + 1));
        if (piece === null && (c === end - 1 || tries === 4)) return false;
        if (piece === null) c = body.indexOf(cut, c + 1);
      }
      const { o: po, names } = piece;
      for (let k = 0; k < names.length; k++) {
        const name = names[k]!;
        if (seen.has(name) || isIndexLike(name)) return false;
        seen.add(name);
        f(name, po[name]);
      }
      a = c + 2;
    }
    return true;
  };
  return { top, members };
}

/**
 * The request of a decoded document.  `members` (if given) are the members
 * of its "instances" object in place of the document's own; a null member
 * makes buildRequest return null.
 */
function buildRequest(decoded: unknown, staticKvmNodeMemory: number, members: Members | null, fast: boolean): IAllocRequest | null {
  if (!isObj(decoded)) return err("Parsing input IAllocator message: Unable to read JSObject");
  const ctx = "invalid iallocator message";
  const request = obj(decoded, "request", ctx);
  const rctx = "invalid request dict";
  const gobj = obj(decoded, "nodegroups", ctx);
  const groups: Group[] = [];
  const gByUuid = new Map<string, number>();
  for (const [uuid, g] of Object.entries(gobj)) {
    if (!isObj(g)) err(`invalid data for group '${uuid}'`);
    const gc = `invalid data for group '${uuid}'`;
    const gg = g as JObj;
    const grp: Group = {
      name: str(gg, "name", gc),
      uuid,
      idx: groups.length,
      allocPolicy: str(gg, "alloc_policy", gc) as AllocPolicy,
      networks: strList(gg, "networks", gc),
      ipolicy: parseIPolicy(obj(gg, "ipolicy", gc), gc),
      tags: strList(gg, "tags", gc),
    };
    gByUuid.set(uuid, grp.idx);
    groups.push(grp);
  }
  const nodes: Node[] = [];
  const nByName = new Map<string, number>();
  const nobj = obj(decoded, "nodes", ctx);
  for (const name in nobj) {
    const nv = nobj[name];
    const fn = fast ? fastNode(name, nv, gByUuid) : null;
    if (fn !== null) {
      fn.idx = nodes.length;
      nByName.set(name, fn.idx);
      nodes.push(fn);
      continue;
    }
    const nc = `invalid data for node '${name}'`;
    if (!isObj(nv)) err(nc);
    const a = nv as JObj;
    const offline = bool(a, "offline", nc);
    const drained = bool(a, "drained", nc);
    const guuid = str(a, "group", nc);
    const vmc = typeof a["vm_capable"] === "boolean" ? (a["vm_capable"] as boolean) : true;
    const gidx = gByUuid.get(guuid);
    if (gidx === undefined) err(`Unknown group '${guuid}' for node ${name}`);
    const nd = obj(a, "ndparams", nc);
    const tags = Array.isArray(a["tags"]) ? (a["tags"] as string[]) : [];
    const excl = bool(nd, "exclusive_storage", nc);
    const live = !offline && vmc;
    const lv = (k: string): number => (live ? num(a, k, nc) : 0);
    const spt = excl ? lv("total_spindles") : num(nd, "spindle_count", nc);
    const n = createNode({
      name,
      tMem: lv("total_memory"),
      nMem: lv("reserved_memory"),
      fMem: lv("free_memory"),
      tDsk: lv("total_disk"),
      fDsk: lv("free_disk"),
      tCpu: lv("total_cpus"),
      nCpu: lv("reserved_cpus"),
      offline: !live || drained,
      tSpindles: spt,
      fSpindles: lv("free_spindles"),
      group: gidx!,
      exclStorage: excl,
    });
    n.nTags = tags;
    n.idx = nodes.length;
    nByName.set(name, n.idx);
    nodes.push(n);
  }
  const instances: Instance[] = [];
  const io = obj(decoded, "instances", ctx);
  // On the piecewise path (large requests), each instance is merged into
  // the cluster as it is read (loader.ts StreamMerge); a forthcoming one
  // sends the request to the ordinary path (null below), which merges after
  // reading all of them.  Errors in the cluster tags are reported there too.
  const stream = members !== null && fast ? new StreamMerge(nodes, strList(decoded, "cluster_tags", ctx)) : null;
  let streamOk = true;
  const add = (name: string, iv: unknown): void => {
    if (!streamOk) return;
    if (!isObj(iv)) err(`invalid data for instance '${name}'`);
    const inst = fast ? fastBaseInstance(name, iv as JObj) : parseBaseInstance(name, iv as JObj);
    const nv = (iv as JObj)["nodes"];
    const ns = Array.isArray(nv) ? nv : arr(iv as JObj, "nodes", `invalid data for instance '${name}'`);
    if (ns.length === 0) err(`empty node list for instance ${name}`);
    const n0 = ns[0];
    const p = typeof n0 === "string" ? nByName.get(n0) : undefined;
    if (p === undefined) return err(`Unknown node '${String(n0)}' for instance ${name}`);
    inst.pNode = p;
    if (ns.length > 1) {
      const n1 = ns[1];
      const q = typeof n1 === "string" ? nByName.get(n1) : undefined;
      if (q === undefined) return err(`Unknown node '${String(n1)}' for instance ${name}`);
      inst.sNode = q;
    } else inst.sNode = -1;
    inst.idx = instances.length;
    instances.push(inst);
    if (stream !== null) streamOk = stream.add(inst);
  };
  if (members !== null) {
    if (!members(add) || !streamOk) return null;
  } else for (const name of Object.keys(io)) add(name, io[name]);
  const ctags = strList(decoded, "cluster_tags", ctx);
  const hvs = arr(decoded, "enabled_hypervisors", ctx);
  if (hvs.length > 0 && typeof hvs[0] === "string") for (const n of nodes) n.hypervisor = hvs[0];
  const cd =
    stream !== null ? stream.finish(groups, instances) : mergeData({ groups, nodes, instances, tags: ctags, ipolicy: defIPolicy() });
  const warnings = updateMissing(cd, staticKvmNodeMemory);
  const exTags = ctags
    .filter((t) => t.startsWith("htools:iextags:"))
    .map((t) => t.slice(15))
    .filter((t) => t);
  const dsrd = ctags
    .filter((t) => t.startsWith("htools:desiredlocation:"))
    .map((t) => t.slice(23))
    .filter((t) => t);
  const fixTags = (i: Instance): Instance => {
    i.exclTags = i.allTags.filter((t) => exTags.some((p) => t.startsWith(p)));
    i.dsrdLocTags = new Set(i.allTags.filter((t) => dsrd.some((p) => t.startsWith(p))));
    return i;
  };
  const findInst = (n: string): number => {
    const i = cd.instances.findIndex((x) => x.name === n);
    if (i < 0) err(`Unknown instance '${n}'`);
    return i;
  };
  const type = str(request, "type", rctx);
  let rq: RequestType;
  switch (type) {
    case "allocate": {
      const name = str(request, "name", rctx);
      const g = request["group_name"];
      const rn = request["restrict-to-nodes"];
      const count = num(request, "required_nodes", rctx);
      const inst = fixTags(parseBaseInstance(name, request));
      inst.pNode = inst.sNode = -1;
      rq = { type, inst, count, group: typeof g === "string" ? g : null, restrict: Array.isArray(rn) ? (rn as string[]) : null };
      break;
    }
    case "relocate": {
      const name = str(request, "name", rctx);
      const idx = findInst(name);
      const count = num(request, "required_nodes", rctx);
      const ex = strList(request, "relocate_from", rctx).map((n) => {
        const x = nByName.get(n);
        if (x === undefined) err(`Unknown node '${n}'`);
        return x!;
      });
      rq = { type, idx, count, exNodes: ex };
      break;
    }
    case "change-group": {
      const idxs = strList(request, "instances", rctx).map(findInst);
      const gs = strList(request, "target_groups", rctx).map((u) => {
        const g = groups.find((x) => x.uuid === u || x.name === u);
        if (!g) err(`Unknown group '${u}'`);
        return g!.idx;
      });
      rq = { type, idxs, groups: gs };
      break;
    }
    case "node-evacuate": {
      const idxs = strList(request, "instances", rctx).map(findInst);
      const mode = str(request, "evac_mode", rctx);
      if (mode !== "primary-only" && mode !== "secondary-only" && mode !== "all") err(`Invalid evacuation mode '${mode}'`);
      rq = { type, idxs, mode: mode as EvacMode };
      break;
    }
    case "multi-allocate": {
      const g = request["group_name"];
      const reqs = arr(request, "instances", rctx).map((r) => {
        if (!isObj(r)) return err(rctx);
        const name = str(r, "name", rctx);
        const count = num(r, "required_nodes", rctx);
        const inst = fixTags(parseBaseInstance(name, r));
        inst.pNode = inst.sNode = -1;
        return { inst, count, group: typeof g === "string" ? g : null };
      });
      rq = { type, reqs };
      break;
    }
    case "allocate-secondary": {
      rq = { type, idx: findInst(str(request, "name", rctx)) };
      break;
    }
    default:
      return err(`Invalid request type '${type}'`);
  }
  return { request: rq, cluster: cd, warnings };
}

export interface IAllocResponse {
  success: boolean;
  info: string;
  result: unknown;
}
interface IAllocOutcome {
  response: IAllocResponse;
  /** cluster state after the request (null on failure) */
  nodes: Node[] | null;
  instances: Instance[] | null;
}

function formatAllocate<M>(as: AllocSolution<M>, nodes: Node[], il: Instance[]): IAllocOutcome {
  const info = as.log.join(", ");
  if (!as.solution) throw new HtoolsError(info, "EALLOC");
  const r = applyAlloc(nodes, il, as.solution as AllocElement<unknown>);
  return { response: { success: true, info, result: as.solution.nodes.map((n) => n.name) }, nodes: r.nodes, instances: r.il };
}

function formatEvac(
  groups: Group[],
  nodes0: Node[],
  il0: Instance[],
  r: { nodes: Node[]; il: Instance[]; es: EvacSolution },
): IAllocOutcome {
  const moved = r.es.moved.map(([i, g, ns]) => [il0[i]!.name, groups[g]!.name, ns.map((n) => nodes0[n]!.name)]);
  const failed = r.es.failed.map(([i, m]) => [il0[i]!.name, m]);
  const info = `${failed.length} instances failed to move and ${moved.length} were moved successfully`;
  return { response: { success: true, info, result: [moved, failed, r.es.opcodes] }, nodes: r.nodes, instances: r.il };
}

function processRelocate(opts: AlgOptions, nodes: Node[], il: Instance[], idx: number, count: number, ex: number[]): IAllocOutcome {
  if (count !== 1) throw new HtoolsError(`Exchange ${count} nodes mode is not implemented`, "EIALLOC");
  const orig = il[idx]!;
  const mt = mirrorType(orig.diskTemplate);
  if (mt === "none") throw new HtoolsError("Can't relocate non-mirrored instances", "EIALLOC");
  const exp = mt === "internal" ? orig.sNode : orig.pNode;
  if (!(ex.length === 1 && ex[0] === exp))
    throw new HtoolsError(
      `Unsupported request: excluded nodes not equal to instance's ${mt === "internal" ? "secondary" : "primary"}(${exp} versus ${JSON.stringify(ex)})`,
      "EIALLOC",
    );
  const r = tryNodeEvac(opts, nodes, il, mt === "internal" ? "secondary-only" : "primary-only", [idx]);
  const f = r.es.failed.find(([i]) => i === idx);
  if (f) throw new HtoolsError(f[1], "EIALLOC");
  const inst = r.il[idx]!;
  const res = mt === "internal" ? [inst.sNode] : [inst.pNode];
  return { response: { success: true, info: "success", result: res.map((n) => r.nodes[n]!.name) }, nodes: r.nodes, instances: r.il };
}

function allocateSecondary(opts: AlgOptions, nodes: Node[], il: Instance[], idx: number): AllocSolution {
  const inst = il[idx]!;
  if (inst.sNode >= 0) throw new HtoolsError("Instance already has a secondary", "EIALLOC");
  const pidx = inst.pNode;
  const { removePri } = requireNode;
  const p2 = removePri(nodes[pidx]!, inst);
  const ns = nodes.slice();
  ns[pidx] = p2;
  const inst2: Instance = { ...inst, diskTemplate: "drbd" };
  const sidxs = ns.filter((n) => n.group === p2.group && n.idx !== pidx).map((n) => n.idx);
  return tryAlloc(opts, fullNL(ns), il, inst2, { pairs: [[pidx, sidxs]] });
}
import * as requireNode from "./node.js";

function processRequest(opts: AlgOptions, req: IAllocRequest): IAllocOutcome {
  const { groups, nodes, instances: il } = req.cluster;
  const rq = req.request;
  switch (rq.type) {
    case "allocate": {
      const o2 = { ...opts, restrictToNodes: opts.restrictToNodes ?? rq.restrict };
      const sol =
        rq.group === null
          ? tryMGAlloc(o2, groups, nodes, il, rq.inst, rq.count)
          : tryGroupAlloc(o2, groups, nodes, il, rq.group, rq.inst, rq.count);
      return formatAllocate(sol, nodes, il);
    }
    case "relocate":
      return processRelocate(opts, nodes, il, rq.idx, rq.count, rq.exNodes);
    case "change-group":
      return formatEvac(groups, nodes, il, tryChangeGroup(opts, groups, nodes, il, rq.groups, rq.idxs));
    case "node-evacuate":
      return formatEvac(groups, nodes, il, tryNodeEvac(opts, nodes, il, rq.mode, rq.idxs));
    case "multi-allocate": {
      const r = allocList(opts, groups, nodes, il, rq.reqs);
      return formatMulti(r.results, r.nodes, r.il);
    }
    case "allocate-secondary": {
      const sol = allocateSecondary(opts, nodes, il, rq.idx);
      const info = sol.log.join(", ");
      if (!sol.solution) throw new HtoolsError(info, "EALLOC");
      const sn = sol.solution.nodes[1];
      if (!sn) throw new HtoolsError(`Internal error (not a DRBD allocation); info was: ${info}`, "EALLOC");
      const ns = nodes.slice();
      for (const n of sol.solution.changed) ns[n.idx] = n;
      const il2 = il.slice();
      il2[rq.idx] = { ...sol.solution.inst, idx: rq.idx };
      return { response: { success: true, info, result: sn.name }, nodes: ns, instances: il2 };
    }
  }
}

function formatMulti<M>(results: Array<{ inst: Instance; sol: AllocSolution<M> }>, nodes: Node[], il: Instance[]): IAllocOutcome {
  const ok = results.filter((r) => r.sol.solution);
  const bad = results.filter((r) => !r.sol.solution);
  const allocated = ok.map((r) => [r.sol.solution!.inst.name, r.sol.solution!.nodes.map((n) => n.name)]);
  const failed = bad.map((r) => [r.inst.name, r.sol.log.join(", ")]);
  const info = `${failed.length} instances failed to allocate and ${allocated.length} were allocated successfully`;
  return { response: { success: true, info, result: [allocated, failed] }, nodes, instances: il };
}

function runDedicated(opts: AlgOptions, req: IAllocRequest): IAllocOutcome {
  const { groups, nodes, instances: il } = req.cluster;
  const rq = req.request;
  if (rq.type === "allocate") {
    const o2 = { ...opts, restrictToNodes: opts.restrictToNodes ?? rq.restrict };
    let sol: AllocSolution<DMetric>;
    if (rq.group !== null) {
      const g = groups.find((x) => x.name === rq.group);
      if (!g) throw new HtoolsError(`Unknown group '${rq.group}'`, "EALLOC");
      const r = dedicatedFindAllocation(o2, groups, nodes, g.idx, rq.inst, rq.count);
      sol = { ...r.sol, log: r.msgs };
    } else sol = dedicatedMGAllocation(o2, groups, nodes, il, rq.inst, rq.count);
    return formatAllocate(sol, nodes, il);
  }
  if (rq.type === "multi-allocate") {
    let ns = nodes;
    let is = il;
    const results: Array<{ inst: Instance; sol: AllocSolution<DMetric> }> = [];
    for (const r of rq.reqs) {
      let sol: AllocSolution<DMetric>;
      if (r.group === null) sol = dedicatedMGAllocation(opts, groups, ns, is, r.inst, r.count);
      else {
        const g = groups.find((x) => x.name === r.group);
        if (!g) throw new HtoolsError(`Unknown group '${r.group}'`, "EALLOC");
        // Ganeti evaluates group-restricted requests on the original node list here.
        sol = dedicatedFindAllocation(opts, groups, nodes, g.idx, r.inst, r.count).sol;
      }
      if (sol.solution) ({ nodes: ns, il: is } = applyAlloc(ns, is, sol.solution as AllocElement<unknown>));
      results.push({ inst: r.inst, sol });
    }
    return formatMulti(results, ns, is);
  }
  throw new HtoolsError("Dedicated Allocation only for proper allocation requests", "EALLOC");
}

/** Run a parsed request; never throws for algorithmic failures (they become success=false). */
export function runRequest(req: IAllocRequest, opts: AlgOptions = {}): IAllocOutcome {
  const rq = req.request;
  const grp =
    rq.type === "allocate"
      ? { is: true, g: rq.group }
      : rq.type === "multi-allocate"
        ? { is: true, g: singleGroup(rq.reqs.map((r) => r.group)) }
        : { is: false, g: null };
  const dedicated = grp.is && isDedicated(req.cluster, grp.g);
  try {
    return dedicated ? runDedicated(opts, req) : processRequest(opts, req);
  } catch (e) {
    if (!(e instanceof HtoolsError)) throw e;
    return { response: { success: false, info: "Request failed: " + e.message, result: [] }, nodes: null, instances: null };
  }
}

function singleGroup(gs: Array<string | null>): string | null {
  const u = [...new Set(gs.filter((g): g is string => g !== null))];
  return u.length === 1 ? u[0]! : null;
}

/** Encode like Ganeti's encodeStrict (compact JSON). */
export function formatResponse(r: IAllocResponse): string {
  const o = { success: r.success, info: r.success ? "Request successful: " + r.info : r.info, result: r.result };
  return JSON.stringify(o);
}

/** The full iallocator run: request JSON in, response JSON out. */
export function iallocatorRun(requestJson: string, opts: AlgOptions & { staticKvmNodeMemory?: number } = {}): string {
  const req = parseRequest(requestJson, opts.staticKvmNodeMemory ?? 4096);
  return formatResponse(runRequest(req, opts).response);
}

export {
  showMetric,
  emptySolution,
  genAllocNodes,
  addPriEx,
  addSec,
  instMatchesPolicy,
  requiredNodes,
  splitCluster,
  sortMGResults,
  filterMGResults,
  solutionDescription,
  annotateSolution,
  hasRequiredNetworks,
  isFail,
};
