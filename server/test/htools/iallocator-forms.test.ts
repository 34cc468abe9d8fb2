// A large request takes hail's fast reading (iallocator.ts splitRequest and
// the streamed merge) both as compact JSON and in the form Ganeti itself
// sends (its serializer: Python's default separators ", " and ": ", then a
// newline), with the default options, and gives what the plain path gives.
import { describe, expect, it } from "vitest";
import { parseRequest, runRequest, splitRequest } from "../../src/htools/iallocator.js";
import { prng } from "./random-cluster.js";
import { pyDumps, requestIpolicy } from "./request-files.js";

/** A racked cluster of two groups (location and exclusion tags, an offline node) large enough to be split. */
function bigRequest(seed: number, type: "allocate-plain" | "allocate-drbd" | "relocate"): object {
  const rnd = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)]!;
  const ipolicy = requestIpolicy(["drbd", "plain", "diskless"]);
  const names: string[][] = [[], []];
  const nodes: Record<string, unknown> = {};
  for (let k = 0; k < 60; k++) {
    const g = k < 30 ? 0 : 1;
    const name = `node-${g}-${String(k).padStart(3, "0")}`;
    names[g]!.push(name);
    nodes[name] = {
      total_memory: 262144,
      reserved_memory: 2048,
      free_memory: 100000 + Math.floor(rnd() * 60000),
      total_disk: 4194304,
      free_disk: 1000000 + Math.floor(rnd() * 2000000),
      total_cpus: 32,
      reserved_cpus: 1,
      offline: k === 7,
      drained: false,
      vm_capable: true,
      master_capable: true,
      group: `uuid-g${g}`,
      tags: [`rack:r${k % 6}`],
      total_spindles: 12,
      free_spindles: 12,
      ndparams: { spindle_count: 12, exclusive_storage: false, oob_program: null },
      primary_ip: "192.0.2.1",
      secondary_ip: "198.51.100.1",
    };
  }
  const instances: Record<string, unknown> = {};
  let drbdName = "";
  let drbdSec = "";
  for (let k = 0; k < 1500; k++) {
    const g = names[k % 2]!;
    const p = pick(g);
    let q = pick(g);
    if (q === p) q = g[(g.indexOf(p) + 1) % g.length]!;
    const dt = rnd() < 0.7 ? "drbd" : "plain";
    const size = pick([10240, 20480, 51200]);
    const name = `inst-${String(k).padStart(5, "0")}`;
    if (dt === "drbd") [drbdName, drbdSec] = [name, q];
    instances[name] = {
      memory: pick([1024, 2048, 4096]),
      vcpus: pick([1, 2, 4]),
      disks: [{ size, mode: "rw", spindles: 1 }],
      disk_space_total: size,
      disk_template: dt,
      tags: rnd() < 0.3 ? [`service:svc${Math.floor(rnd() * 50)}`] : [],
      spindle_use: 1,
      nics: [],
      admin_state: pick(["up", "up", "up", "down"]),
      admin_state_source: "admin",
      nodes: dt === "drbd" ? [p, q] : [p],
      hypervisor: "xen-pvm",
      os: "debian-image",
    };
  }
  const dt = type === "allocate-plain" ? "plain" : "drbd";
  const request =
    type === "relocate"
      ? { type: "relocate", name: drbdName, required_nodes: 1, relocate_from: [drbdSec] }
      : {
          type: "allocate",
          name: "new-1",
          memory: 4096,
          vcpus: 2,
          disks: [{ size: 51200, mode: "rw", spindles: 1 }],
          disk_space_total: 51200,
          disk_template: dt,
          tags: [],
          spindle_use: 1,
          nics: [],
          os: "debian-image",
          hypervisor: "xen-pvm",
          required_nodes: dt === "plain" ? 1 : 2,
        };
  const group = (g: number) => ({ name: `group-0${g + 1}`, alloc_policy: "preferred", networks: [], ipolicy, tags: [] });
  return {
    version: 2,
    cluster_name: "bench.example.com",
    cluster_tags: ["htools:iextags:service", "htools:nlocation:rack"],
    enabled_hypervisors: ["xen-pvm"],
    ipolicy,
    nodegroups: { "uuid-g0": group(0), "uuid-g1": group(1) },
    nodes,
    instances,
    request,
  };
}

/** Does the default piecewise reading take the text all the way? */
function splitTakes(body: string): boolean {
  const sr = splitRequest(body);
  return sr !== null && sr.members(() => undefined);
}

describe("compact and Ganeti's form both take the fast reading", () => {
  for (const [seed, type] of [
    [1, "allocate-plain"],
    [2, "allocate-drbd"],
    [3, "relocate"],
  ] as const)
    it(`${type} (seed ${seed})`, () => {
      const req = bigRequest(seed, type);
      const compact = JSON.stringify(req);
      const ganeti = pyDumps(req) + "\n";
      // large enough for the default options, and cut where Ganeti's form is cut too
      expect(compact.length).toBeGreaterThan(256 * 1024);
      expect(ganeti).toContain('"instances": {"inst-00000": {');
      expect(splitTakes(compact)).toBe(true);
      expect(splitTakes(ganeti)).toBe(true);
      const plain = parseRequest(compact, 4096, null);
      const fromCompact = parseRequest(compact);
      const fromGaneti = parseRequest(ganeti);
      expect(fromCompact).toEqual(plain);
      expect(fromGaneti).toEqual(plain);
      const answer = runRequest(plain, { capacity: false }).response;
      expect(answer.success).toBe(true);
      expect(runRequest(fromGaneti, { capacity: false }).response).toEqual(answer);
    });

  it("an indented text (older serializers) is read by the plain path, with the same result", () => {
    const req = bigRequest(4, "allocate-plain");
    const indented = JSON.stringify(req, null, 2) + "\n";
    expect(parseRequest(indented)).toEqual(parseRequest(JSON.stringify(req), 4096, null));
  });
});
