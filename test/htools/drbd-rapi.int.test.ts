// htools on the RAPI answers of a cluster with drbd instances: Ganeti's own
// hbal, hspace, hinfo and hcheck (Debian's package `ganeti`) read our
// /2/groups, /2/nodes, /2/instances and /2/info bodies (their file://
// backend) and must print what ours print; both see each drbd instance with
// its secondary node, and the nodes' disk space from their volume groups
// (the replicas' data and metadata volumes counted on both nodes).
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRapiServer } from "../../server/src/rapi/app.js";
import { testCluster, type TestCluster } from "../../server/test/harness/cluster.js";
import { addDrbdInstance as addDrbd, placeDrbdVolumes } from "../../server/test/harness/drbd-instance.js";
import { tool } from "./live-helpers.js";

const GANETI_BIN = { hbal: "/usr/bin/hbal", hspace: "/usr/bin/hspace", hinfo: "/usr/bin/hinfo", hcheck: "/usr/bin/hcheck" };
const VG_SIZE = 102400;

/** drbd instances: name, primary, secondary (node indexes), disk sizes (MiB), memory. */
const DRBD: Array<[string, number, number, number[], number]> = [
  ["d1.example.com", 0, 1, [2048], 1024],
  ["d2.example.com", 0, 2, [1024, 512], 512],
  ["d3.example.com", 0, 1, [4096], 2048],
  ["d4.example.com", 1, 2, [8192], 1024],
];

let c: TestCluster;
const dir = mkdtempSync(path.join(tmpdir(), "gts-htools-drbd-"));

async function addDrbdInstance(name: string, p: number, s: number, sizes: number[], memory: number): Promise<void> {
  const [pnode, snode] = [c.nodes[p]!, c.nodes[s]!];
  const beparams = { maxmem: memory, minmem: memory, vcpus: 1 };
  const { disks } = await addDrbd(c.config, { name, pnode: pnode.uuid, snode: snode.uuid, sizes, beparams });
  // Their volumes on both nodes, as the nodes create them (sparse files).
  await placeDrbdVolumes(c.root, [pnode.name, snode.name], disks);
}

beforeAll(async () => {
  c = await testCluster({ nodes: 3, diskTemplates: ["drbd", "plain", "file", "sharedfile", "diskless"] });
  await c.config.mutate((d) => void (d.cluster.volume_group_name = "xenvg"));
  for (const n of c.nodes) {
    const nodeDir = path.join(c.root, "nodes", n.name);
    await mkdir(nodeDir, { recursive: true });
    await writeFile(path.join(nodeDir, "noded.json"), JSON.stringify({ storage_size: { "lvm-vg": VG_SIZE } }));
    (c.backends.get(n.uuid) as unknown as { settingsP: unknown }).settingsP = null;
  }
  for (const [name, p, s, sizes, mem] of DRBD) await addDrbdInstance(name, p, s, sizes, mem);

  await writeFile(path.join(c.root, "users"), "admin secret write\n");
  const app = await buildRapiServer({
    config: c.config,
    queue: c.queue,
    rpc: c.rpc,
    usersFile: path.join(c.root, "users"),
    watchUsers: false,
  });
  try {
    const headers = { authorization: `Basic ${Buffer.from("admin:secret").toString("base64")}` };
    for (const [file, url] of [
      ["groups.json", "/2/groups?bulk=1"],
      ["nodes.json", "/2/nodes?bulk=1"],
      ["instances.json", "/2/instances?bulk=1"],
      ["info.json", "/2/info"],
    ] as const) {
      const res = await app.inject({ method: "GET", url, headers });
      expect(res.statusCode, url).toBe(200);
      writeFileSync(path.join(dir, file), res.body);
    }
  } finally {
    await app.close();
  }
}, 120_000);

afterAll(async () => {
  await c?.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

describe("htools on a drbd cluster's RAPI answers", () => {
  it("Ganeti's binaries are installed", () => {
    for (const b of Object.values(GANETI_BIN)) expect(existsSync(b), b).toBe(true);
  });

  it("hbal loads each drbd instance with its secondary and the volume groups' space", async () => {
    const save = path.join(dir, "state");
    const r = await tool("hbal", ["-m", `file://${dir}`, "-S", save]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Loaded 3 nodes, ${DRBD.length} instances\n`);
    const text = readFileSync(`${save}.original`, "utf8");
    const [, nodesSec, instSec] = text.split("\n\n");
    // Instances: name|mem|disk|vcpus|status|auto_balance|pnode|snode|template|...
    const insts = instSec!
      .trim()
      .split("\n")
      .map((l) => l.split("|"));
    expect(insts.map((f) => [f[0], f[2], f[6], f[7], f[8]])).toEqual(
      DRBD.map(([name, p, s, sizes]) => [name, String(sizes.reduce((a, b) => a + b + 128, 0)), c.nodes[p]!.name, c.nodes[s]!.name, "drbd"]),
    );
    // Nodes: name|tMem|nMem|fMem|tDsk|fDsk|...: each node's volume group, less its primaries' and secondaries' volumes.
    const used = (i: number) =>
      DRBD.filter(([, p, s]) => p === i || s === i).reduce((a, [, , , sizes]) => a + sizes.reduce((x, y) => x + y + 128, 0), 0);
    const nodes = nodesSec!
      .trim()
      .split("\n")
      .map((l) => l.split("|"));
    expect(nodes.map((f) => [f[0], f[4], f[5]])).toEqual(c.nodes.map((n, i) => [n.name, String(VG_SIZE), String(VG_SIZE - used(i))]));
  });

  for (const [name, args] of [
    ["hbal", ["-p", "-C", "--print-instances"]],
    ["hspace", ["-p"]],
    ["hinfo", ["-p", "-v", "-v"]],
    ["hcheck", ["--machine-readable"]],
    ["hcheck", ["-v", "-v"]],
  ] as const) {
    it(`${name} ${args.join(" ")}: ours prints what Ganeti's prints`, async () => {
      const theirs = spawnSync(GANETI_BIN[name], ["-m", `file://${dir}`, ...args], { encoding: "utf8" });
      const ours = await tool(name, ["-m", `file://${dir}`, ...args]);
      expect({ code: ours.code, stdout: ours.stdout, stderr: ours.stderr }).toEqual({
        code: theirs.status,
        stdout: theirs.stdout,
        stderr: theirs.stderr,
      });
      // The lopsided cluster makes hbal move drbd instances as Ganeti's does: a new secondary, then a failover.
      if (name === "hbal") expect(ours.stdout).toMatch(/^ +gnt-instance replace-disks -n node\d d\d\n +gnt-instance failover -f d\d$/m);
    });
  }
});
