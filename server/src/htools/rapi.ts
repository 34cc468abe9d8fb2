// RAPI backend parsing (htools -m): GET /2/groups?bulk=1, /2/nodes?bulk=1,
// /2/instances?bulk=1 and /2/info bodies into a ClusterData.  Pure: the
// caller fetches the four bodies.
import type { AllocPolicy, DiskTemplate, Group, Instance, RunState } from "./types.js";
import { HtoolsError } from "./types.js";
import { Node, createNode } from "./node.js";
import { createInstance } from "./instance.js";
import { parseIPolicy } from "./iallocator.js";
import type { ClusterData } from "./loader.js";

type J = Record<string, unknown>;
const bad = (m: string): never => {
  throw new HtoolsError(m, "ERAPI");
};
function field<T>(o: J, k: string, ctx: string): T {
  if (!(k in o)) bad(`${ctx}: key '${k}' not found`);
  return o[k] as T;
}
function parseArr(body: string, what: string): J[] {
  let v: unknown;
  try {
    v = JSON.parse(body);
  } catch {
    return bad(`${what}: Invalid JSON`);
  }
  if (!Array.isArray(v)) bad(`${what}: expected a list`);
  return v as J[];
}

export interface RapiBodies {
  groups: string;
  nodes: string;
  instances: string;
  info: string;
}

export function parseRapi(b: RapiBodies): ClusterData {
  const groups: Group[] = parseArr(b.groups, "Parsing group data").map((g, idx) => {
    const name = field<string>(g, "name", "Parsing new group");
    const ctx = `Group '${name}'`;
    return {
      name,
      uuid: field<string>(g, "uuid", ctx),
      idx,
      allocPolicy: field<AllocPolicy>(g, "alloc_policy", ctx),
      networks: [],
      ipolicy: parseIPolicy(field<J>(g, "ipolicy", ctx), ctx),
      tags: field<string[]>(g, "tags", ctx),
    };
  });
  const nodes: Node[] = parseArr(b.nodes, "Parsing node data").map((a, idx) => {
    const name = field<string>(a, "name", "Parsing new node");
    const ctx = `Node '${name}', error while parsing data`;
    const offline = field<boolean>(a, "offline", ctx);
    const drained = field<boolean>(a, "drained", ctx);
    const vmc = typeof a["vm_capable"] === "boolean" ? (a["vm_capable"] as boolean) : true;
    const nd = field<J>(a, "ndparams", ctx);
    const excl = field<boolean>(nd, "exclusive_storage", ctx);
    const guuid = typeof a["group.uuid"] === "string" ? (a["group.uuid"] as string) : "00000000-0000-0000-0000-000000000000";
    const gdx = groups.findIndex((g) => g.uuid === guuid);
    if (gdx < 0) bad(`Unknown group '${guuid}' for node ${name}`);
    const live = !offline && vmc;
    // Live values of an online node are required (Ganeti fails too): a node
    // whose daemon does not answer reports null, and 0 would be taken as a
    // node without memory or CPUs.
    const lv = (k: string): number => {
      if (!live) return 0;
      const v = field<unknown>(a, k, ctx);
      if (typeof v !== "number")
        bad(
          `${ctx}: key '${k}' is ${JSON.stringify(v)}, not a number (no live data from the node: is it reachable? mark it offline to leave it out)`,
        );
      return v as number;
    };
    const lvd = (k: string): number => (live && typeof a[k] === "number" ? (a[k] as number) : 0);
    const n = createNode({
      name,
      tMem: lv("mtotal"),
      nMem: lv("mnode"),
      fMem: lv("mfree"),
      tDsk: lvd("dtotal"),
      fDsk: lvd("dfree"),
      tCpu: lv("ctotal"),
      nCpu: lv("cnos"),
      offline: !live || drained,
      tSpindles: excl ? lv("sptotal") : field<number>(nd, "spindle_count", ctx),
      fSpindles: lvd("spfree"),
      group: gdx,
      exclStorage: excl,
    });
    n.nTags = field<string[]>(a, "tags", ctx);
    n.idx = idx;
    return n;
  });
  const byName = new Map(nodes.map((n) => [n.name, n.idx] as const));
  const instances: Instance[] = parseArr(b.instances, "Parsing instance data").map((a, idx) => {
    const name = field<string>(a, "name", "Parsing new instance");
    const ctx = `Instance '${name}', error while parsing data`;
    const be = field<J>(a, "beparams", ctx);
    const oper = a["oper_ram"];
    const mem =
      typeof oper === "number" ? oper : typeof be["memory"] === "number" ? (be["memory"] as number) : field<number>(be, "maxmem", ctx);
    const look = (x: string): number => {
      const v = byName.get(x);
      if (v === undefined) bad(`Unknown node '${x}' for instance ${name}`);
      return v!;
    };
    const sizes = field<number[]>(a, "disk.sizes", ctx);
    const sps = Array.isArray(a["disk.spindles"]) ? (a["disk.spindles"] as Array<number | null>) : [];
    const snodes = field<string[]>(a, "snodes", ctx);
    const inst = createInstance({
      name,
      mem,
      dsk: field<number>(a, "disk_usage", ctx),
      disks: sizes.map((s, k) => ({ size: s, spindles: typeof sps[k] === "number" ? sps[k]! : null })),
      vcpus: field<number>(be, "vcpus", ctx),
      runSt: field<RunState>(a, "status", ctx),
      tags: field<string[]>(a, "tags", ctx),
      autoBalance: field<boolean>(be, "auto_balance", ctx),
      pNode: look(field<string>(a, "pnode", ctx)),
      sNode: snodes.length > 0 ? look(snodes[0]!) : -1,
      diskTemplate: field<DiskTemplate>(a, "disk_template", ctx),
      spindleUse: field<number>(be, "spindle_use", ctx),
      forthcoming: typeof a["forthcoming"] === "boolean" ? (a["forthcoming"] as boolean) : false,
    });
    inst.idx = idx;
    return inst;
  });
  let info: J;
  try {
    info = JSON.parse(b.info) as J;
  } catch {
    return bad("Parsing cluster info: Invalid JSON");
  }
  const ctx = "Parsing cluster data";
  const master = field<string>(info, "master", ctx);
  const m = byName.get(master);
  if (m === undefined) bad(`Master node ${master} unknown`);
  nodes[m!]!.isMaster = true;
  const hv = field<string>(info, "default_hypervisor", ctx);
  for (const n of nodes) n.hypervisor = hv;
  return { groups, nodes, instances, tags: field<string[]>(info, "tags", ctx), ipolicy: parseIPolicy(field<J>(info, "ipolicy", ctx), ctx) };
}
