#!/usr/bin/env node
// Builds the shipped htools (`npm run build:htools -w server`):
//  * dist/htools/<tool>.bundle.cjs: the CLI bundled into one CommonJS file
//    (esbuild; CommonJS starts faster than an ES module);
//  * dist/htools/<tool>.cjs: the executable, a small launcher that compiles
//    the bundle with V8's code cache (<tool>.bundle.cjs.cache), so a run
//    skips most of parsing and compiling the bundle;
//  * the code cache itself, written by one training run of each tool on a
//    small generated cluster (the cache then holds the compiled bytecode of
//    the functions such a run uses).
// The cache is valid only for the V8 version and flags that wrote it: the
// launcher's shebang carries every V8 flag the tool sets (also at run time,
// v8-tuning.ts, hspace-tuning.ts; setting a flag to the value it has leaves
// the cache valid).  With another Node, other flags or a damaged file, V8
// rejects the cache and compiles the bundle from source: the same run, a few
// milliseconds slower.  HTOOLS_CODE_CACHE=report makes the launcher say on
// stderr whether the cache was accepted (tests).
//   node scripts/build-htools.mjs [OUTDIR]     (default dist/htools)
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const SERVER = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const OUT = resolve(process.argv[2] ?? join(SERVER, "dist/htools"));

// One GC thread; hail and hspace also compile optimised code on the main
// thread (docs/htools.md); then the flags the tools set when they load.
const FLAGS = {
  hbal: ["--single-threaded-gc", "--interrupt-budget=1048576"],
  hail: ["--single-threaded-gc", "--no-concurrent-recompilation", "--interrupt-budget=1048576", "--no-incremental-marking"],
  hspace: [
    "--single-threaded-gc",
    "--no-concurrent-recompilation",
    "--max-inlined-bytecode-size=100",
    "--interrupt-budget=300000",
    "--no-turbo-loop-peeling",
  ],
  // The read-only reports (they load v8-tuning.ts as hbal does) and harep:
  // short runs, no tuning beyond one GC thread.
  hinfo: ["--single-threaded-gc", "--interrupt-budget=1048576"],
  hcheck: ["--single-threaded-gc", "--interrupt-budget=1048576"],
  harep: ["--single-threaded-gc"],
};

const launcher = (tool) => `#!/usr/bin/env -S -u NODE_EXTRA_CA_CERTS node ${FLAGS[tool].join(" ")}
"use strict";
// ${tool}: runs ${tool}.bundle.cjs with V8's code cache (built by
// server/scripts/build-htools.mjs; a cache V8 rejects means compiling from
// source: the same run).
const fs = require("node:fs");
const vm = require("node:vm");
const path = require("node:path");
const file = path.join(__dirname, "${tool}.bundle.cjs");
const mode = process.env.HTOOLS_CODE_CACHE;
let cachedData;
try {
  cachedData = fs.readFileSync(file + ".cache");
} catch {
  cachedData = undefined;
}
const script = new vm.Script("(function (exports, require, module, __filename, __dirname) {" + fs.readFileSync(file, "utf8") + "\\n})", { filename: file, cachedData });
if (mode === "report") process.stderr.write("code cache " + (cachedData === undefined ? "absent" : script.cachedDataRejected ? "rejected" : "accepted") + "\\n");
// (a training run: the functions this run compiled join those of the cache it was given)
if (mode === "write") process.on("exit", () => fs.writeFileSync(file + ".cache", script.createCachedData()));
const mod = { exports: {} };
script.runInThisContext().call(mod.exports, mod.exports, require, mod, file, __dirname);
`;

// A small racked cluster for the training runs: text backend (hbal,
// hspace) and an IAllocator request (hail), the same cluster in both.
function trainingCluster() {
  const nodes = [];
  for (let i = 0; i < 8; i++)
    nodes.push({
      name: `node${i + 1}.example.com`,
      group: i < 6 ? 0 : 1,
      rack: `rack:r${i % 3}`,
      mem: 65536,
      dsk: 1048576,
      cpu: 16,
      umem: 0,
      udsk: 0,
    });
  const insts = [];
  for (let k = 0; k < 24; k++) {
    const p = nodes[(k * 5) % 8];
    const peers = nodes.filter((n) => n !== p && n.group === p.group);
    const s = k % 3 === 2 ? null : peers[k % peers.length];
    const mem = [1024, 2048, 4096][k % 3];
    const dsk = [10240, 20480][k % 2];
    p.umem += mem;
    p.udsk += dsk;
    if (s) s.udsk += dsk;
    insts.push({ name: `inst${k + 1}.example.com`, mem, dsk, cpu: 1 + (k % 2), p, s, tags: k % 4 === 0 ? ["service:web"] : [] });
  }
  const spec = (m, c, d) => ({ "memory-size": m, "cpu-count": c, "disk-size": d, "disk-count": 1, "nic-count": 1, "spindle-use": 1 });
  const ipol = {
    std: spec(4096, 2, 51200),
    minmax: [{ min: spec(128, 1, 1024), max: spec(32768, 8, 1048576) }],
    "disk-templates": ["drbd", "plain", "diskless", "file", "sharedfile", "blockdev", "rbd", "ext"],
    "vcpu-ratio": 4,
    "spindle-ratio": 32,
  };
  const polText = (owner) =>
    `${owner}|4096,2,51200,1,1,1|128,1,1024,1,1,1;32768,8,1048576,16,8,12|drbd,plain,diskless,file,sharedfile,blockdev,rbd,ext|4.0|32.0`;
  const groups = ["default", "second"];
  const text = [
    ...groups.map((g, i) => `${g}|uuid-${i}|preferred||`),
    "",
    ...nodes.map(
      (n) =>
        `${n.name}|${n.mem}|2048|${n.mem - 2048 - n.umem}|${n.dsk}|${n.dsk - n.udsk}|${n.cpu}|N|uuid-${n.group}|12|${n.rack}|N|12|1|1.0`,
    ),
    "",
    ...insts.map(
      (i) =>
        `${i.name}|${i.mem}|${i.dsk}|${i.cpu}|running|Y|${i.p.name}|${i.s ? i.s.name : ""}|${i.s ? "drbd" : "plain"}|${i.tags.join(",")}|1|-|N`,
    ),
    "",
    "htools:iextags:service",
    "htools:nlocation:rack",
    "",
    polText(""),
    ...groups.map(polText),
    "",
  ].join("\n");
  const req = {
    version: 2,
    cluster_name: "example.com",
    cluster_tags: ["htools:iextags:service", "htools:nlocation:rack"],
    enabled_hypervisors: ["xen-pvm"],
    ipolicy: ipol,
    nodegroups: Object.fromEntries(
      groups.map((g, i) => [`uuid-${i}`, { name: g, alloc_policy: "preferred", networks: [], ipolicy: ipol, tags: [] }]),
    ),
    nodes: Object.fromEntries(
      nodes.map((n) => [
        n.name,
        {
          total_memory: n.mem,
          reserved_memory: 2048,
          free_memory: n.mem - 2048 - n.umem,
          total_disk: n.dsk,
          free_disk: n.dsk - n.udsk,
          total_cpus: n.cpu,
          reserved_cpus: 1,
          offline: false,
          drained: false,
          vm_capable: true,
          master_capable: true,
          master_candidate: true,
          group: `uuid-${n.group}`,
          tags: [n.rack],
          total_spindles: 12,
          free_spindles: 12,
          ndparams: { spindle_count: 12, exclusive_storage: false, oob_program: null },
          primary_ip: "192.0.2.1",
          secondary_ip: "198.51.100.1",
          i_pri_memory: 0,
          i_pri_up_memory: 0,
        },
      ]),
    ),
    instances: Object.fromEntries(
      insts.map((i) => [
        i.name,
        {
          memory: i.mem,
          vcpus: i.cpu,
          disks: [{ size: i.dsk, mode: "rw", spindles: 1 }],
          disk_space_total: i.dsk,
          disk_template: i.s ? "drbd" : "plain",
          tags: i.tags,
          spindle_use: 1,
          nics: [],
          admin_state: "up",
          admin_state_source: "admin",
          nodes: i.s ? [i.p.name, i.s.name] : [i.p.name],
          hypervisor: "xen-pvm",
          os: "debian-image",
        },
      ]),
    ),
    request: {
      type: "allocate",
      name: "new1.example.com",
      memory: 2048,
      vcpus: 1,
      disks: [{ size: 10240, mode: "rw", spindles: 1 }],
      disk_space_total: 10240,
      disk_template: "drbd",
      tags: [],
      spindle_use: 1,
      nics: [],
      os: "debian-image",
      hypervisor: "xen-pvm",
      required_nodes: 2,
    },
  };
  // hail is trained on every kind of request (one run each, each adding the
  // functions it ran to the cache): a tiny relocation then finds its code in
  // the cache as an allocation does (~4 % fewer instructions per run).
  const drbd = insts.find((i) => i.s);
  const alloc = req.request;
  const plain = { ...alloc, name: "new2.example.com", disk_template: "plain", required_nodes: 1 };
  const reqs = [
    alloc,
    plain,
    { type: "relocate", name: drbd.name, required_nodes: 1, relocate_from: [drbd.s.name] },
    { type: "node-evacuate", instances: [drbd.name, insts.find((i) => !i.s).name], evac_mode: "all" },
    { type: "change-group", instances: [drbd.name], target_groups: [] },
    { type: "multi-allocate", instances: [alloc, { ...plain, name: "new3.example.com" }] },
  ];
  return { text, reqs: reqs.map((request) => JSON.stringify({ ...req, request })) };
}

for (const tool of Object.keys(FLAGS)) {
  await build({
    entryPoints: [join(SERVER, `src/htools-cli/${tool}.ts`)],
    bundle: true,
    platform: "node",
    format: "cjs",
    target: "node20",
    sourcemap: true,
    // Without comments and indentation: V8 then reads, hashes and scans less
    // at each start, and the bundle is ASCII (esbuild escapes non-ASCII
    // characters in code; some comments have them), which V8 keeps as a
    // one-byte string rather than decoding UTF-8 into a two-byte one
    // (~3 % of a tiny request's instructions).  Names are kept.
    minifyWhitespace: true,
    outfile: join(OUT, `${tool}.bundle.cjs`),
    logLevel: "warning",
  });
  if (!/^[\x00-\x7f]*$/.test(readFileSync(join(OUT, `${tool}.bundle.cjs`), "latin1")))
    console.warn(`build-htools: ${tool}.bundle.cjs is not ASCII: each start decodes it as UTF-8 into a two-byte string`);
  writeFileSync(join(OUT, `${tool}.cjs`), launcher(tool));
  chmodSync(join(OUT, `${tool}.cjs`), 0o755);
  rmSync(join(OUT, `${tool}.bundle.cjs.cache`), { force: true });
}

const tmp = mkdtempSync(join(tmpdir(), "htools-train-"));
try {
  const { text, reqs } = trainingCluster();
  writeFileSync(join(tmp, "cluster.data"), text);
  reqs.forEach((r, i) => writeFileSync(join(tmp, `request${i}.json`), r));
  const runs = {
    // hbal: a group of 6 nodes (the probe search) and one of 2 (a tiny
    // group's reference enumeration, balance.ts TINY_PAIRS)
    hbal: [
      ["-t", join(tmp, "cluster.data"), "-C", "-G", "default"],
      ["-t", join(tmp, "cluster.data"), "-C", "-G", "second"],
    ],
    // hail: every request, and the two allocations also without capacity
    // checks (the unchecked pair and single-node searches, alloc-probe.ts)
    hail: [
      ...reqs.map((_, i) => [join(tmp, `request${i}.json`)]),
      ["--no-capacity-checks", join(tmp, "request0.json")],
      ["--no-capacity-checks", join(tmp, "request1.json")],
    ],
    // hspace: with capacity checks, and the tiered allocation without them
    // to the end (its shrinking runs, shrink-run.ts) on a single-node template
    hspace: [
      ["-t", join(tmp, "cluster.data"), "--machine-readable", "--disk-template", "drbd", "-l", "8"],
      ["-t", join(tmp, "cluster.data"), "--machine-readable", "--disk-template", "plain", "--no-capacity-checks"],
    ],
    hinfo: [["-t", join(tmp, "cluster.data")]],
    // (exits 1: the cluster needs rebalancing, and it simulates the balancing)
    hcheck: [["-t", join(tmp, "cluster.data")]],
    // harep (which needs a live cluster) starts without a code cache.
  };
  for (const [tool, argss] of Object.entries(runs))
    for (const args of argss) {
      const env = { ...process.env, HTOOLS_CODE_CACHE: "write" };
      const r = spawnSync(join(OUT, `${tool}.cjs`), args, { env, encoding: "utf8" });
      if (r.error) throw r.error;
      if (r.status !== 0 && !(tool === "hcheck" && r.status === 1))
        throw new Error(`build-htools: training run of ${tool} ${args.join(" ")} failed (${r.status}): ${r.stderr}`);
    }
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
