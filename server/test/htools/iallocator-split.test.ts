// parseRequest's piecewise reading of "instances" (iallocator.ts
// splitRequest) must give exactly what the whole-document path gives: the
// same request and cluster, or the same error.  Small pieces make every
// request here go through many pieces.
import { readFileSync } from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { parseRequest, splitRequest, type IAllocRequest, type SplitOptions } from "../../src/htools/iallocator.js";
import { prng } from "./random-cluster.js";
import { pyDumps, requestFiles, requestIpolicy } from "./request-files.js";

const SMALL: SplitOptions = { min: 0, piece: 300 };

type Outcome = { ok: IAllocRequest } | { err: string; code: string | undefined };
function outcome(body: string, split: SplitOptions | null): Outcome {
  try {
    return { ok: parseRequest(body, 4096, split) };
  } catch (e) {
    return { err: (e as Error).message, code: (e as { code?: string }).code };
  }
}

/** Does the piecewise path take this text all the way (no fallback)? */
function splitTakes(body: string, o: SplitOptions): boolean {
  const sr = splitRequest(body, o);
  return sr !== null && sr.members(() => undefined);
}

function same(body: string, o: SplitOptions = SMALL): void {
  const whole = outcome(body, null);
  const pieces = outcome(body, o);
  expect(pieces).toEqual(whole);
  // the instances come out in the same order, with the same indices
  if ("ok" in whole && "ok" in pieces)
    expect(pieces.ok.cluster.instances.map((i) => [i.name, i.idx])).toEqual(whole.ok.cluster.instances.map((i) => [i.name, i.idx]));
}

describe("splitRequest = whole-document parse (request files)", () => {
  const files = requestFiles();
  it("has request files", () => expect(files.length).toBeGreaterThan(10));
  for (const f of files)
    it(path.basename(f), () => {
      const text = readFileSync(f, "utf8");
      same(text);
      // compact form (the corpus files are compact already; Ganeti's testsuite is indented)
      const compact = JSON.stringify(JSON.parse(text));
      same(compact);
      same(compact, { min: 0, piece: 1 });
      // Ganeti's own separators
      const spaced = pyDumps(JSON.parse(text));
      same(spaced);
      same(spaced, { min: 0, piece: 1 });
      if (Object.keys((JSON.parse(text) as { instances: object }).instances).length > 0) {
        expect(splitTakes(compact, SMALL)).toBe(true);
        expect(splitTakes(spaced, SMALL)).toBe(true);
      }
    });
});

// ---- random requests --------------------------------------------------------

interface Shape {
  seed: number;
  /** whitespace between tokens (JSON.stringify's indentation) */
  indent?: number;
  /** unknown instance members holding objects: '},"' inside an instance */
  nested?: boolean;
  /** tags and names that contain '},' (a '},"' candidate inside a string) */
  tricky?: boolean;
  /** where "instances" is among the top-level keys */
  instancesAt?: "middle" | "last" | "first";
}

function randomRequest(s: Shape): string {
  const rnd = prng(s.seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const nn = 3 + Math.floor(rnd() * 8);
  const nodes: Record<string, unknown> = {};
  const names = Array.from({ length: nn }, (_, k) => `node-${k + 1}.example.com`);
  for (const n of names)
    nodes[n] = {
      total_memory: pick([32768, 65536]),
      reserved_memory: 1024,
      free_memory: Math.floor(rnd() * 30000),
      total_disk: 1024000,
      free_disk: Math.floor(rnd() * 900000),
      total_cpus: pick([8, 16]),
      reserved_cpus: 1,
      offline: rnd() < 0.1,
      drained: rnd() < 0.05,
      vm_capable: true,
      group: "uuid-g1",
      tags: [],
      total_spindles: 12,
      free_spindles: 12,
      ndparams: { spindle_count: 12, exclusive_storage: false, oob_program: null },
    };
  const ni = Math.floor(rnd() * 40);
  const instances: Record<string, unknown> = {};
  for (let k = 0; k < ni; k++) {
    const dt = pick(["drbd", "plain", "drbd", "diskless", "sharedfile"]);
    const p = pick(names);
    let q = pick(names);
    if (q === p) q = names[(names.indexOf(p) + 1) % nn]!;
    const size = pick([1024, 10240, 51200]);
    const inst: Record<string, unknown> = {
      memory: pick([512, 1024, 4096]),
      vcpus: pick([1, 2, 4]),
      disks: dt === "diskless" ? [] : [{ size, mode: "rw", spindles: pick([1, null, 2]) }],
      disk_space_total: dt === "diskless" ? 0 : size,
      disk_template: dt,
      tags: rnd() < 0.2 ? [s.tricky ? "svc:a}," : "svc:web"] : [],
      spindle_use: 1,
      nics: rnd() < 0.3 ? [{ mac: "aa:00:00:00:00:01", network: rnd() < 0.5 ? "net-1" : null }] : [],
      admin_state: pick(["up", "up", "down", "offline"]),
      nodes: dt === "drbd" ? [p, q] : [p],
    };
    if (rnd() < 0.1) inst["forthcoming"] = rnd() < 0.5;
    if (s.nested) inst["beparams"] = { maxmem: 1024, minmem: 512 };
    inst["os"] = s.tricky && rnd() < 0.5 ? "os}," : "debian";
    instances[s.tricky && rnd() < 0.2 ? `inst-${k}},` : `inst-${k}.example.com`] = inst;
  }
  const top: Array<[string, unknown]> = [
    ["version", 2],
    ["cluster_name", "c.example.com"],
    ["cluster_tags", []],
    ["enabled_hypervisors", ["xen-pvm"]],
    ["nodegroups", { "uuid-g1": { name: "g1", alloc_policy: "preferred", networks: ["net-1"], ipolicy: ipolicy(), tags: [] } }],
    ["nodes", nodes],
    [
      "request",
      {
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
    ],
  ];
  const at = s.instancesAt === "last" ? top.length : s.instancesAt === "first" ? 0 : 6;
  top.splice(at, 0, ["instances", instances]);
  return JSON.stringify(Object.fromEntries(top), null, s.indent);
}

function ipolicy(): unknown {
  return requestIpolicy(["drbd", "plain", "diskless", "sharedfile"]);
}

describe("splitRequest = whole-document parse (random requests)", () => {
  for (let seed = 1; seed <= 40; seed++) {
    const shape: Shape = {
      seed,
      nested: seed % 3 === 0,
      tricky: seed % 4 === 0,
      instancesAt: seed % 5 === 0 ? "last" : seed % 7 === 0 ? "first" : "middle",
    };
    it(`seed ${seed} ${JSON.stringify(shape)}`, () => {
      const text = randomRequest(shape);
      for (const piece of [1, 50, 300, 1e9]) same(text, { min: 0, piece });
      same(randomRequest({ ...shape, indent: 1 }));
      const spaced = pyDumps(JSON.parse(text));
      for (const piece of [1, 50, 300, 1e9]) same(spaced, { min: 0, piece });
      // without '},"' inside strings, the pieces path reads it all itself
      if (!shape.tricky && text.includes('"instances":{"')) {
        expect(splitTakes(text, SMALL)).toBe(true);
        expect(splitTakes(spaced, SMALL)).toBe(true);
      }
    });
  }
});

// ---- the cases the piecewise path must leave to the whole-document parse ----

describe("splitRequest gives up where the whole-document parse decides", () => {
  const base = randomRequest({ seed: 7, instancesAt: "middle" });
  const inst = (name: string, node = "node-1.example.com"): string =>
    `"${name}":{"memory":512,"vcpus":1,"disks":[{"size":1024}],"disk_space_total":1024,"disk_template":"plain","tags":[],"spindle_use":1,"nics":[],"nodes":["${node}"]}`;
  const withInstances = (members: string): string => base.replace(/"instances":\{.*?\}(?=,"request")/s, `"instances":{${members}}`);
  const cases: Record<string, string> = {
    "repeated name in two pieces": withInstances([inst("a"), inst("b"), inst("a", "node-2.example.com")].join(",")),
    "index-like names": withInstances([inst("b"), inst("17"), inst("3")].join(",")),
    "empty instances": withInstances(""),
    "instances with whitespace only": withInstances("  "),
    "unknown node": withInstances([inst("a"), inst("b", "nowhere")].join(",")),
    "invalid JSON inside instances": withInstances([inst("a"), inst("b").replace("512", "51 2")].join(",")),
    "trailing comma in instances": withInstances([inst("a"), inst("b")].join(",") + ","),
    "instances twice (last wins)": withInstances(inst("a")).replace('"request":', `"instances":{${inst("z")}},"request":`),
    "instances twice (first is an array)": withInstances(inst("a")).replace('"version":2', '"version":2,"instances":[]'),
    "backslash before instances": withInstances(inst("a")).replace('"c.example.com"', '"c\\u002eexample.com"'),
    "backslash inside instances": withInstances(inst("a\\u0041")),
    "__proto__ as a name": withInstances([inst("a"), inst("__proto__")].join(",")),
    "invalid JSON after instances": withInstances(inst("a")).replace('"type":"allocate"', '"type":allocate'),
    "trailing garbage": withInstances(inst("a")) + "x",
    "no-break space around instances": withInstances(inst("a") + "\u00a0"),
    "not an object": "[" + withInstances(inst("a")) + "]",
    "missing request": withInstances(inst("a")).replace('"request":', '"requestx":'),
  };
  for (const [name, text] of Object.entries(cases)) it(name, () => same(text));
  it("takes the ordinary cases itself", () => {
    expect(splitTakes(withInstances([inst("a"), inst("b"), inst("c")].join(",")), SMALL)).toBe(true);
    expect(splitTakes(cases["repeated name in two pieces"]!, SMALL)).toBe(false);
    expect(splitTakes(cases["index-like names"]!, SMALL)).toBe(false);
    expect(splitTakes(cases["backslash before instances"]!, SMALL)).toBe(false);
  });
});
