import { createInstance } from "../../src/htools/instance.js";
import type { AllocElement } from "../../src/htools/alloc.js";
import { addPriEx, addSec, type Node } from "../../src/htools/node.js";
import { isFail, type DiskTemplate, type Instance } from "../../src/htools/types.js";

// Seeded random clusters in Ganeti's text-backend format, for htools tests:
// heterogeneous nodes, imbalance, offline nodes, overcommitted (N+1-failing)
// nodes, DRBD/plain/sharedfile/diskless instances, stopped instances,
// exclusion tags.
export interface RandomClusterOptions {
  nodes: number;
  instances: number;
  seed: number;
  offline?: number;
  exclusionTags?: boolean;
  /** fraction of DRBD instances (the rest: sharedfile, plain, diskless) */
  drbd?: number;
  /** fraction of forthcoming instances */
  forthcoming?: number;
  /** nodes in three racks (location tags "rack:r0".."rack:r2") */
  locationTags?: boolean;
  /**
   * racked clusters in more shapes (implies locationTags): this many racks,
   * every fifth node in none, every fourth also in a row ("row:w0"/"w1",
   * a second location tag)
   */
  racks?: number;
  /** instances sometimes carry two exclusion tags, or one twice */
  multiTags?: boolean;
  /** node groups (contiguous ranges of nodes; DRBD pairs stay within a group) */
  groups?: number;
}

/**
 * A running instance of `tmpl` with one disk of `dsk` MiB, to place on a
 * random cluster's nodes (index idx in its list; -1, createInstance's, when
 * it has none yet).  `o`: its VCPUs (2 unless given), tags (none) and
 * exclusion tags (none: createInstance does not derive them from the tags).
 */
export function testInstance(
  name: string,
  mem: number,
  dsk: number,
  tmpl: DiskTemplate,
  idx: number,
  o: { vcpus?: number; tags?: string[]; exclTags?: string[] } = {},
): Instance {
  const inst = createInstance({
    name,
    mem,
    dsk,
    vcpus: o.vcpus ?? 2,
    disks: [{ size: dsk, spindles: null }],
    runSt: "running",
    tags: o.tags ?? [],
    autoBalance: true,
    pNode: -1,
    sNode: -1,
    diskTemplate: tmpl,
    spindleUse: 1,
  });
  return o.exclTags === undefined ? { ...inst, idx } : { ...inst, idx, exclTags: o.exclTags };
}

/** mulberry32: small, deterministic, good enough for test data. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function randomClusterText(o: RandomClusterOptions): string {
  const rnd = prng(o.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const nn = o.nodes;
  const G = o.groups ?? 1;
  const groupOf = (i: number): number => Math.floor((i * G) / nn);
  const groupRange = (g: number): [number, number] => [Math.ceil((g * nn) / G), Math.ceil(((g + 1) * nn) / G)];
  const nodes = Array.from({ length: nn }, (_, i) => ({
    name: `node${String(i + 1).padStart(3, "0")}`,
    tMem: pick([32768, 65536, 65536, 131072]),
    tDsk: pick([512000, 1024000, 1024000, 2048000]),
    tCpu: pick([8, 16, 16, 32]),
    offline: i < (o.offline ?? 0) ? "Y" : "N",
    usedMem: 0,
    usedDsk: 0,
    usedCpu: 0,
  }));
  // skewed placement: low-numbered nodes get more instances
  const skewed = (): number => Math.min(nn - 1, Math.floor(nn * rnd() * rnd() * 1.3));
  const insts: string[] = [];
  const drbd = o.drbd ?? 0.7;
  for (let i = 0; i < o.instances; i++) {
    const r = rnd();
    const tmpl = r < drbd ? "drbd" : r < drbd + (1 - drbd) / 2 ? "sharedfile" : pick(["plain", "diskless"]);
    const mem = pick([512, 1024, 2048, 4096, 8192]);
    const dsk = tmpl === "diskless" ? 0 : pick([10240, 20480, 51200, 102400]);
    const vcpus = pick([1, 1, 2, 4]);
    const p = skewed();
    let s = -1;
    if (tmpl === "drbd") {
      s = Math.floor(rnd() * nn);
      if (s === p) s = (p + 1 + Math.floor(rnd() * (nn - 1))) % nn;
      // (with groups: the secondary moved into the primary's group)
      const G = o.groups ?? 1;
      if (G > 1 && groupOf(s) !== groupOf(p)) {
        const [lo, hi] = groupRange(groupOf(p));
        s = lo + ((((s - lo) % (hi - lo)) + (hi - lo)) % (hi - lo));
        if (s === p) s = lo + ((p - lo + 1) % (hi - lo));
      }
    }
    const st = rnd() < 0.85 ? "running" : pick(["ADMIN_down", "ADMIN_offline"]);
    let tags = o.exclusionTags && rnd() < 0.3 ? `service:svc${1 + Math.floor(rnd() * 3)}` : "";
    if (tags !== "" && o.multiTags && i % 4 === 0) tags += i % 8 === 0 ? `,${tags}` : ",service:svc9";
    nodes[p]!.usedMem += st === "running" ? mem : 0;
    nodes[p]!.usedCpu += vcpus;
    if (tmpl === "drbd" || tmpl === "plain") nodes[p]!.usedDsk += dsk;
    if (s >= 0) nodes[s]!.usedDsk += dsk;
    insts.push(
      [
        `inst${String(i + 1).padStart(4, "0")}`,
        mem,
        dsk,
        vcpus,
        st,
        rnd() < 0.95 ? "Y" : "N",
        nodes[p]!.name,
        s >= 0 ? nodes[s]!.name : "",
        tmpl,
        tags,
        1,
        "-",
        rnd() < (o.forthcoming ?? 0) ? "Y" : "N",
      ].join("|"),
    );
  }
  const locTags = (i: number): string => {
    if (o.racks === undefined) return o.locationTags ? `rack:r${i % 3}` : "";
    if (i % 5 === 4) return "";
    return `rack:r${i % o.racks}` + (i % 4 === 0 ? `,row:w${i % 2}` : "");
  };
  const nodeLines = nodes.map((n, i) => {
    // free memory as reported: may be below the recorded free (missing memory)
    const fMem = Math.max(0, n.tMem - 2048 - n.usedMem - (rnd() < 0.2 ? 1024 : 0));
    const fDsk = Math.max(0, n.tDsk - n.usedDsk);
    return [n.name, n.tMem, 2048, fMem, n.tDsk, fDsk, n.tCpu, n.offline, `uuid-g${groupOf(i) + 1}`, 12, locTags(i), "N", 12, 1, "1.0"].join(
      "|",
    );
  });
  const ctags =
    (o.exclusionTags ? "htools:iextags:service\n" : "") +
    (o.locationTags || o.racks !== undefined ? "htools:nlocation:rack\n" : "") +
    (o.racks !== undefined ? "htools:nlocation:row\n" : "");
  const groupLines = Array.from({ length: o.groups ?? 1 }, (_, g) => `group${g + 1}|uuid-g${g + 1}|preferred||`);
  return `${groupLines.join("\n")}\n\n${nodeLines.join("\n")}\n\n${insts.join("\n")}\n\n${ctags}\n`;
}

/**
 * Every pair candidate (p, s) of a DRBD instance that the node primitives
 * accept, as tryAlloc builds them; with `sameGroup`, only pairs within a group.
 */
export function pairCandidates(nodes: Node[], inst: Instance, opts: { sameGroup?: boolean } = {}): AllocElement[] {
  const out: AllocElement[] = [];
  for (const p of nodes)
    for (const s of nodes) {
      if (p.idx === s.idx || p.offline || s.offline || (opts.sameGroup && p.group !== s.group)) continue;
      const ni: Instance = { ...inst, pNode: p.idx, sNode: s.idx };
      const np = addPriEx(true, p, ni);
      if (isFail(np)) continue;
      const ns = addSec(s, ni, p.idx);
      if (isFail(ns)) continue;
      out.push({ changed: [np, ns], inst: ni, nodes: [np, ns], metric: 0 });
    }
  return out;
}
