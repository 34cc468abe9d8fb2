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
    }
    const st = rnd() < 0.85 ? "running" : pick(["ADMIN_down", "ADMIN_offline"]);
    const tags = o.exclusionTags && rnd() < 0.3 ? `service:svc${1 + Math.floor(rnd() * 3)}` : "";
    nodes[p]!.usedMem += st === "running" ? mem : 0;
    nodes[p]!.usedCpu += vcpus;
    if (tmpl === "drbd" || tmpl === "plain") nodes[p]!.usedDsk += dsk;
    if (s >= 0) nodes[s]!.usedDsk += dsk;
    insts.push([`inst${String(i + 1).padStart(4, "0")}`, mem, dsk, vcpus, st, rnd() < 0.95 ? "Y" : "N", nodes[p]!.name, s >= 0 ? nodes[s]!.name : "", tmpl, tags, 1, "-", rnd() < (o.forthcoming ?? 0) ? "Y" : "N"].join("|"));
  }
  const nodeLines = nodes.map((n, i) => {
    // free memory as reported: may be below the recorded free (missing memory)
    const fMem = Math.max(0, n.tMem - 2048 - n.usedMem - (rnd() < 0.2 ? 1024 : 0));
    const fDsk = Math.max(0, n.tDsk - n.usedDsk);
    return [n.name, n.tMem, 2048, fMem, n.tDsk, fDsk, n.tCpu, n.offline, "uuid-g1", 12, o.locationTags ? `rack:r${i % 3}` : "", "N", 12, 1, "1.0"].join("|");
  });
  const ctags = (o.exclusionTags ? "htools:iextags:service\n" : "") + (o.locationTags ? "htools:nlocation:rack\n" : "");
  return `group1|uuid-g1|preferred||\n\n${nodeLines.join("\n")}\n\n${insts.join("\n")}\n\n${ctags}\n`;
}
