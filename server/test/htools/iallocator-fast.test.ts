// iallocator.ts reads well-formed nodes and instances without the per-field
// checks (fastNode, fastBaseInstance); anything else goes through the
// checked code.  Both readings must give the same request and cluster, or
// the same error: here on the request files, and on nodes and instances
// with a field missing, of another type, or with optional fields varied.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseRequest, type IAllocRequest } from "../../src/htools/iallocator.js";
import { prng } from "./random-cluster.js";
import { requestFiles } from "./request-files.js";

type Outcome = { ok: IAllocRequest } | { err: string; code: string | undefined };
function outcome(body: string, fast: boolean): Outcome {
  try {
    return { ok: parseRequest(body, 4096, null, fast) };
  } catch (e) {
    return { err: (e as Error).message, code: (e as { code?: string }).code };
  }
}

function same(body: string): Outcome {
  const checked = outcome(body, false);
  expect(outcome(body, true)).toEqual(checked);
  return checked;
}

describe("fast reading = checked reading (request files)", () => {
  const files = requestFiles();
  it("has request files", () => expect(files.length).toBeGreaterThan(10));
  for (const f of files) it(path.basename(f), () => void same(readFileSync(f, "utf8")));
});

// ---- variations of one request ------------------------------------------------

type J = Record<string, unknown>;

function baseRequest(): J {
  const node = (g: string, extra: J = {}): J => ({
    total_memory: 65536,
    reserved_memory: 1024,
    free_memory: 30000,
    total_disk: 1024000,
    free_disk: 500000,
    total_cpus: 16,
    reserved_cpus: 1,
    offline: false,
    drained: false,
    vm_capable: true,
    group: g,
    tags: [],
    total_spindles: 12,
    free_spindles: 10,
    ndparams: { spindle_count: 12, exclusive_storage: false, oob_program: null },
    ...extra,
  });
  const ipolicy = {
    std: { "memory-size": 128, "cpu-count": 1, "disk-size": 1024, "disk-count": 1, "nic-count": 1, "spindle-use": 1 },
    minmax: [
      {
        min: { "memory-size": 128, "cpu-count": 1, "disk-size": 1024, "disk-count": 1, "nic-count": 1, "spindle-use": 1 },
        max: { "memory-size": 32768, "cpu-count": 8, "disk-size": 1048576, "disk-count": 16, "nic-count": 8, "spindle-use": 12 },
      },
    ],
    "disk-templates": ["drbd", "plain", "diskless"],
    "vcpu-ratio": 4.0,
    "spindle-ratio": 32.0,
  };
  return {
    version: 2,
    cluster_name: "c.example.com",
    cluster_tags: [],
    enabled_hypervisors: ["kvm"],
    ipolicy,
    nodegroups: {
      "uuid-g1": { name: "g1", alloc_policy: "preferred", networks: [], ipolicy, tags: [] },
      "uuid-g2": { name: "g2", alloc_policy: "preferred", networks: [], ipolicy, tags: [] },
    },
    nodes: {
      "n1.example.com": node("uuid-g1"),
      "n2.example.com": node("uuid-g1", { tags: ["rack:a"] }),
      "n3.example.com": node("uuid-g1", { offline: true }),
      "n4.example.com": node("uuid-g2", { drained: true, ndparams: { spindle_count: 2, exclusive_storage: true } }),
      "n5.example.com": node("uuid-g2", { vm_capable: false }),
    },
    instances: {
      "i1.example.com": {
        memory: 1024,
        vcpus: 1,
        disks: [{ size: 1024, mode: "rw", spindles: 1 }],
        disk_space_total: 1024,
        disk_template: "drbd",
        tags: [],
        spindle_use: 1,
        nics: [],
        admin_state: "up",
        nodes: ["n1.example.com", "n2.example.com"],
      },
      "i2.example.com": {
        memory: 512,
        vcpus: 2,
        disks: [{ size: 2048, mode: "rw" }],
        disk_space_total: 2048,
        disk_template: "plain",
        tags: ["svc:a"],
        spindle_use: 1,
        nics: [{ network: "net-1" }],
        admin_state: "down",
        nodes: ["n4.example.com"],
      },
    },
    request: {
      type: "allocate",
      name: "new-1",
      memory: 1024,
      vcpus: 1,
      disks: [{ size: 1024, mode: "rw" }],
      disk_space_total: 1024,
      disk_template: "drbd",
      tags: [],
      spindle_use: 1,
      nics: [],
      required_nodes: 2,
    },
  };
}

const NODE_FIELDS = [
  "total_memory",
  "reserved_memory",
  "free_memory",
  "total_disk",
  "free_disk",
  "total_cpus",
  "reserved_cpus",
  "offline",
  "drained",
  "vm_capable",
  "group",
  "tags",
  "total_spindles",
  "free_spindles",
  "ndparams",
];
const INST_FIELDS = [
  "memory",
  "vcpus",
  "disks",
  "disk_space_total",
  "disk_template",
  "tags",
  "spindle_use",
  "nics",
  "admin_state",
  "forthcoming",
  "nodes",
];
const ODD_VALUES: unknown[] = [
  undefined,
  null,
  "12",
  12,
  1.5,
  -1,
  true,
  false,
  [],
  {},
  ["x"],
  [{}],
  [{ size: "1" }],
  [{ size: 1, spindles: "2" }],
  "uuid-g2",
  "uuid-none",
  "up",
  "offline",
  "n1.example.com",
];

describe("fast reading = checked reading (node and instance variations)", () => {
  it("the base request", () => expect("ok" in same(JSON.stringify(baseRequest()))).toBe(true));

  /** Every odd value (or none) for field f of each named node or instance: both readings agree. */
  const varyField = (section: "nodes" | "instances", names: string[], f: string): void => {
    for (const v of ODD_VALUES)
      for (const n of names) {
        const r = baseRequest();
        const o = (r[section] as Record<string, J>)[n]!;
        if (v === undefined) delete o[f];
        else o[f] = v;
        same(JSON.stringify(r));
      }
  };

  for (const f of NODE_FIELDS) it(`node field ${f}`, () => varyField("nodes", ["n1.example.com", "n3.example.com", "n4.example.com"], f));

  it("ndparams variations", () => {
    for (const nd of [
      {},
      { spindle_count: 3 },
      { exclusive_storage: true },
      { exclusive_storage: "no", spindle_count: 1 },
      { exclusive_storage: false, spindle_count: "1" },
      { exclusive_storage: true, spindle_count: 1 },
      [],
    ])
      for (const n of ["n1.example.com", "n3.example.com"]) {
        const r = baseRequest();
        (r["nodes"] as Record<string, J>)[n]!["ndparams"] = nd;
        same(JSON.stringify(r));
      }
  });

  it("a node that is not an object", () => {
    for (const v of [null, 1, "n", [], [1]]) {
      const r = baseRequest();
      (r["nodes"] as Record<string, unknown>)["n1.example.com"] = v;
      same(JSON.stringify(r));
    }
  });

  for (const f of INST_FIELDS) it(`instance field ${f}`, () => varyField("instances", ["i1.example.com", "i2.example.com"], f));

  it("an admin_state named like an Object method is not a known state", () => {
    for (const st of ["toString", "constructor", "__proto__", "hasOwnProperty", "up", "down", "offline"]) {
      const r = baseRequest();
      (r["instances"] as Record<string, J>)["i1.example.com"]!["admin_state"] = st;
      const o = same(JSON.stringify(r));
      if (!("ok" in o)) throw new Error(`admin_state ${st}: ${o.err}`);
      const runSt = o.ok.cluster.instances.find((i) => i.name === "i1.example.com")!.runSt;
      expect(runSt, st).toBe(st === "down" ? "ADMIN_down" : st === "offline" ? "ADMIN_offline" : "running");
    }
  });

  it("disk sizes and spindle counts (shared one-disk lists)", () => {
    const sizes = [1024, 1024, 0, -0, -1, 1.5, 2 ** 40, 2 ** 40 - 1, 2 ** 53, 1e300];
    const spindles = [1, 1, null, 0, 62, 63, 64, -1, 1.5, -0];
    for (const size of sizes)
      for (const sp of spindles) {
        const r = baseRequest();
        const insts = r["instances"] as Record<string, J>;
        insts["i1.example.com"]!["disks"] = [{ size, mode: "rw", spindles: sp }];
        insts["i2.example.com"]!["disks"] = sp === null ? [{ size, mode: "rw" }] : [{ size, mode: "rw", spindles: sp }];
        const text = JSON.stringify(r).replace(/"size":0,/g, '"size":-0,');
        const o = same(text);
        if (!("ok" in o)) continue;
        const fast = parseRequest(text, 4096, null, true);
        // the same numbers, -0 included
        const ds = (q: IAllocRequest): unknown[] =>
          q.cluster.instances.flatMap((i) => i.disks.map((d) => [Object.is(d.size, -0), d.size, d.spindles]));
        expect(ds(fast)).toEqual(ds(o.ok));
      }
  });

  it("random node and instance values", () => {
    const rnd = prng(7);
    const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
    let ok = 0;
    for (let t = 0; t < 300; t++) {
      const r = baseRequest();
      const nodes = r["nodes"] as Record<string, J>;
      const insts = r["instances"] as Record<string, J>;
      for (let k = 0; k < 3; k++) {
        const n = nodes[pick(Object.keys(nodes))]!;
        const f = pick(NODE_FIELDS);
        const v = rnd() < 0.5 ? pick(ODD_VALUES) : rnd() < 0.5 ? Math.floor(rnd() * 100000) : rnd() < 0.5;
        if (v === undefined) delete n[f];
        else n[f] = v;
      }
      if (rnd() < 0.5) {
        const i = insts[pick(Object.keys(insts))]!;
        const f = pick(INST_FIELDS);
        const v = pick(ODD_VALUES);
        if (v === undefined) delete i[f];
        else i[f] = v;
      }
      if ("ok" in same(JSON.stringify(r))) ok++;
    }
    // both outcomes occur
    expect(ok).toBeGreaterThan(10);
    expect(ok).toBeLessThan(290);
  });
});
