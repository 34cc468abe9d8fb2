// Differential test: our hbal / hail / hspace against Ganeti's own binaries
// (Debian package `ganeti`, htools 3.0.2) on the testsuite corpus and on
// small synthetic clusters from the benchmark harness's gen.py ($HTOOLS_GEN).  Outputs
// must be identical (moves, scores, allocation choices, capacity counts).
import { describe, it, expect, beforeAll, afterAll } from "vitest";
import { readdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { DATA, requireGaneti, runBoth, syntheticClusters } from "./differential-common.js";

function compare(tool: "hbal" | "hail" | "hspace", args: string[]): void {
  const { theirs, ours } = runBoth(tool, args);
  expect(ours.code, `${tool} ${args.join(" ")}: exit code`).toBe(theirs.code);
  expect(ours.out, `${tool} ${args.join(" ")}`).toBe(theirs.out);
}

let SYN = "";
beforeAll(() => {
  requireGaneti(["hbal", "hail", "hspace"]);
  SYN = syntheticClusters(["d8", "d10f", "d12", "r30"], "htools-diff-");
}, 120_000);
afterAll(() => {
  if (SYN) rmSync(SYN, { recursive: true, force: true });
});

const dataFiles = readdirSync(DATA)
  .filter((f) => f.endsWith(".data"))
  .sort();
const hailFiles = readdirSync(DATA)
  .filter((f) => /^hail-.*\.json$/.test(f))
  .sort();

describe("hbal vs Ganeti", () => {
  for (const f of dataFiles)
    it(
      f,
      () => {
        compare("hbal", ["-t", join(DATA, f), "-C", "-G", "group-01"]);
        compare("hbal", ["-t", join(DATA, f), "-C", "--evac-mode", "--ignore-dynu"]);
      },
      120_000,
    );
  for (const [name, extra] of [
    ["d8", []],
    ["d10f", ["-G", "group-01"]],
    ["d10f", ["-G", "group-02", "--exclusion-tags", "app"]],
    ["d12", []],
    ["r30", ["-G", "group-01"]],
    ["r30", ["-G", "group-02", "-l", "5"]],
  ] as const)
    it(`synthetic ${name} ${extra.join(" ")}`, () => compare("hbal", ["-t", join(SYN, `${name}.data`), "-C", ...extra]), 120_000);
});

describe("hail vs Ganeti", () => {
  for (const f of hailFiles) it(f, () => compare("hail", [join(DATA, f)]), 60_000);
  for (const name of ["d8", "d10f", "d12", "r30"])
    it(`synthetic ${name}`, () => {
      for (const req of readdirSync(SYN).filter((x) => x.startsWith(`${name}.req-`))) compare("hail", [join(SYN, req)]);
    }, 300_000);
  // the racked cluster's two-node requests also without capacity checks (the probe pair search)
  it("synthetic r30 --no-capacity-checks", () => {
    for (const req of ["alloc-drbd", "multi-alloc", "relocate", "node-evac", "change-group"])
      compare("hail", ["--no-capacity-checks", join(SYN, `r30.req-${req}.json`)]);
  }, 300_000);
});

describe("hspace vs Ganeti", () => {
  for (const f of [
    "hspace-tiered.data",
    "hspace-tiered-dualspec.data",
    "hspace-tiered-exclusive.data",
    "hspace-tiered-mixed.data",
    "hspace-tiered-ipolicy.data",
    "hspace-tiered-resourcetypes.data",
    "hspace-tiered-vcpu.data",
    "hspace-groups-one.data",
    "hspace-existing.data",
    "hspace-bad-group.data",
  ])
    it(f, () => compare("hspace", ["-t", join(DATA, f), "--machine-readable"]), 120_000);
  // Ganeti stops with an internal error ("Prelude.head: empty list"); ours with a clear one, same exit code and output
  it("-l 0 (nothing tried)", () => compare("hspace", ["-t", join(DATA, "hspace-existing.data"), "-l", "0"]), 60_000);
  it(
    "simulated cluster",
    () => compare("hspace", ["--simu", "p,4,8T,64g,16", "--machine-readable", "--disk-template", "drbd", "-l", "8"]),
    60_000,
  );
  it("synthetic d8 / d12", () => {
    compare("hspace", ["-t", join(SYN, "d8.data"), "--machine-readable", "--disk-template", "drbd", "--no-capacity-checks"]);
    compare("hspace", ["-t", join(SYN, "d12.data"), "--disk-template", "plain"]);
  }, 300_000);
  it("synthetic r30 (racked)", () => {
    compare("hspace", ["-t", join(SYN, "r30.data"), "--machine-readable", "--disk-template", "drbd", "--no-capacity-checks"]);
    compare("hspace", ["-t", join(SYN, "r30.data"), "--disk-template", "plain", "--no-capacity-checks"]);
  }, 300_000);
});
