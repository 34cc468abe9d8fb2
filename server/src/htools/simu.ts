// Simulated clusters (--simu POLICY,NODES,DISK,MEM,CPU[,SPINDLES[,EXCL]]).
import { HtoolsError, defIPolicy, type AllocPolicy, type Group } from "./types.js";
import { Node, createNode } from "./node.js";
import type { ClusterData } from "./loader.js";

/** Ganeti's parseUnit: a size with optional unit suffix, in MiB. */
export function parseUnit(s: string): number {
  const m = /^\s*([0-9]+(?:\.[0-9]+)?)\s*([a-zA-Z]*)\s*$/.exec(s);
  if (!m) throw new HtoolsError(`Can't parse unit '${s}'`, "ESIMU");
  const v = Number(m[1]);
  const u = m[2]!;
  const U = u.toUpperCase();
  const mb = (1000 * 1000) / (1024 * 1024);
  let f: number;
  if (u === "" || u === "m" || U === "MIB") f = 1;
  else if (u === "g" || U === "GIB") f = 1024;
  else if (u === "t" || U === "TIB") f = 1024 * 1024;
  else if (u === "M" || U === "MB") f = mb;
  else if (u === "G" || U === "GB") f = mb * 1000;
  else if (u === "T" || U === "TB") f = mb * 1000 * 1000;
  else throw new HtoolsError(`Unknown unit '${u}'`, "ESIMU");
  return Math.trunc(v * f);
}

export function parseSimu(specs: string[]): ClusterData {
  const groups: Group[] = [];
  const nodes: Node[] = [];
  specs.forEach((spec, gi) => {
    const gidx = gi + 1;
    const f = spec.split(",");
    if (f.length < 5 || f.length > 7)
      throw new HtoolsError(
        `Invalid cluster specification, expected 6 comma-separated sections (allocation policy, node count, disk size, memory size, number of CPUs, spindles) but got ${f.length}: '${spec}'`,
        "ESIMU",
      );
    const ab: Record<string, AllocPolicy> = {
      p: "preferred",
      a: "last_resort",
      u: "unallocable",
      preferred: "preferred",
      last_resort: "last_resort",
      unallocable: "unallocable",
    };
    const apol = ab[f[0]!];
    if (!apol) throw new HtoolsError(`Cannot parse AllocPolicy abbreviation '${f[0]}'`, "ESIMU");
    const count = Number(f[1]);
    const disk = parseUnit(f[2]!);
    const mem = parseUnit(f[3]!);
    const cpu = Number(f[4]);
    const spindles = f[5] !== undefined ? Number(f[5]) : 1;
    const excl = f[6] !== undefined ? f[6] === "True" : false;
    const g: Group = {
      name: `group-${String(gidx).padStart(2, "0")}`,
      uuid: `fake-uuid-${String(gidx).padStart(2, "0")}`,
      idx: gi,
      allocPolicy: apol,
      networks: [],
      ipolicy: defIPolicy(),
      tags: [],
    };
    groups.push(g);
    for (let k = 1; k <= count; k++) {
      const n = createNode({
        name: `node-${String(gidx).padStart(2, "0")}-${String(k).padStart(3, "0")}`,
        tMem: mem,
        nMem: 0,
        fMem: mem,
        tDsk: disk,
        fDsk: disk,
        tCpu: cpu,
        nCpu: 1,
        offline: false,
        tSpindles: spindles,
        fSpindles: 0,
        group: gi,
        exclStorage: excl,
      });
      n.isMaster = gidx === 1 && k === 1;
      n.idx = nodes.length;
      nodes.push(n);
    }
  });
  return { groups, nodes, instances: [], tags: [], ipolicy: defIPolicy() };
}
