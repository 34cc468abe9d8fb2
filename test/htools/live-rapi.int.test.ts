// hbal/hspace -m against a live ganeti-ts cluster (three node daemons on
// 127.0.0.11-13, the master's RAPI over HTTPS with its self-signed
// certificate): the cluster the tools load is the one the RAPI shows, and
// with every instance on one node hbal proposes moves off it. With a node
// marked offline, Ganeti's own hbal/hspace/hinfo/hcheck read the same RAPI answers
// (file:// backend) and print what ours print.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { GanetiClient } from "@ganeti-ts/sdk";
import { parseText } from "@ganeti-ts/server/htools/text";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { RapiClient } from "@ganeti-ts/server/htools-cli/rapi-client";
import { createInstancesOn, tool, type LiveInstance } from "./live-helpers.js";

/** Ganeti's own htools (Debian package `ganeti`). */
const GANETI_BIN = { hbal: "/usr/bin/hbal", hspace: "/usr/bin/hspace", hinfo: "/usr/bin/hinfo", hcheck: "/usr/bin/hcheck" };

let c: LocalCluster;
let client: GanetiClient;
let hostPort: string;
const tmp = mkdtempSync(path.join(tmpdir(), "gts-htools-live-"));

// sharedfile instances can move anywhere (hbal's "fa:" moves); diskless ones
// have no mirroring, so hbal leaves them where they are.
const INSTANCES: LiveInstance[] = [
  { name: "sf1.example.com", template: "sharedfile", memory: 1024 },
  { name: "sf2.example.com", template: "sharedfile", memory: 1024 },
  { name: "sf3.example.com", template: "sharedfile", memory: 512 },
  { name: "dl1.example.com", template: "diskless", memory: 2048 },
  { name: "down1.example.com", template: "sharedfile", memory: 512, stopped: true },
];

beforeAll(async () => {
  // Ganeti's htools read the RAPI without credentials: this cluster serves anonymous reads as Ganeti's RAPI does by default.
  c = await startLocalCluster({ nodes: 3, initArgs: ["--allow-anonymous-reads"] });
  hostPort = `${c.host}:${c.port}`;
  client = new GanetiClient({ baseUrl: c.url, username: c.user, password: c.password, caFile: c.caFile });
  await createInstancesOn(client, c.nodes[0]!, INSTANCES);
}, 240_000);

afterAll(async () => {
  client?.close();
  await c?.destroy();
  rmSync(tmp, { recursive: true, force: true });
});

describe("hbal -m HOST:PORT on a live cluster", () => {
  it("loads the nodes and instances the RAPI reports", async () => {
    const save = path.join(tmp, "state");
    const r = await tool("hbal", ["-m", hostPort, "-S", save]);
    expect(r.stderr).not.toMatch(/Error/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Loaded 3 nodes, ${INSTANCES.length} instances\n`);
    expect(r.stdout).toContain("Selected node group: default\n");

    // -S writes the state hbal loaded, in Ganeti's text format.
    const loaded = parseText(readFileSync(`${save}.original`, "utf8"));
    const nodes = await client.nodes.list({ bulk: true });
    const insts = await client.instances.list({ bulk: true });
    const info = await client.cluster.info();
    expect(loaded.groups.map((g) => g.name)).toEqual(["default"]);
    expect(loaded.nodes.map((n) => n.name).sort()).toEqual(nodes.map((n) => n.name).sort());
    for (const n of nodes) {
      const l = loaded.nodes.find((x) => x.name === n.name)!;
      // Static sizes match exactly; free memory and disk move with the host.
      expect({ tMem: l.tMem, tDsk: l.tDsk, tCpu: l.tCpu, offline: l.offline, master: n.name === info.master }).toEqual({
        tMem: n.mtotal,
        tDsk: n.dtotal,
        tCpu: n.ctotal,
        offline: false,
        master: l.isMaster,
      });
      expect(l.fMem).toBeGreaterThan(0);
      expect(l.fMem).toBeLessThanOrEqual(l.tMem);
      expect(l.fDsk).toBeGreaterThan(0);
      expect(l.fDsk).toBeLessThanOrEqual(l.tDsk);
    }
    expect(loaded.instances.map((i) => i.name).sort()).toEqual(insts.map((i) => i.name).sort());
    for (const i of insts) {
      const l = loaded.instances.find((x) => x.name === i.name)!;
      const want = INSTANCES.find((x) => x.name === i.name)!;
      expect({
        pnode: loaded.nodes[l.pNode]!.name,
        secondary: l.sNode,
        mem: l.mem,
        vcpus: l.vcpus,
        dsk: l.dsk,
        template: l.diskTemplate,
        status: l.runSt,
      }).toEqual({
        pnode: i.pnode,
        secondary: -1,
        mem: want.memory,
        vcpus: 1,
        dsk: i.disk_usage,
        template: i.disk_template,
        status: want.stopped ? "ADMIN_down" : "running",
      });
    }
  });

  it("scores the lopsided cluster and moves the shared-storage instances off node 1", async () => {
    const r = await tool("hbal", ["-m", hostPort, "-C"]);
    expect(r.code).toBe(0);
    const initial = Number(/^Initial score: (\S+)$/m.exec(r.stdout)?.[1]);
    expect(Number.isFinite(initial)).toBe(true);
    expect(initial).toBeGreaterThan(1);
    const moves = [...r.stdout.matchAll(/^\s+\d+\. (\S+)\s+(\S+)\s+=> (\S+)\s+(\S+) a=(\S+)$/gm)];
    expect(moves.length).toBeGreaterThan(0);
    for (const [, inst, from, to, , code] of moves) {
      // Names are shown without the common ".example.com" suffix, as Ganeti does.
      expect(inst).toMatch(/^(sf\d|down1)$/);
      expect(from).toBe("node1");
      expect(to).not.toBe("node1");
      expect(code).toBe(`fa:${to}`);
    }
    const improved = /^Cluster score improved from (\S+) to (\S+)$/m.exec(r.stdout);
    expect(Number(improved?.[2])).toBeLessThan(initial);
    // The commands: live migration for running instances, failover for the stopped one.
    expect(r.stdout).toMatch(/gnt-instance migrate -f -n node[23] sf\d/);
    if (moves.some((m) => m[1] === "down1")) expect(r.stdout).toMatch(/gnt-instance failover -f -n node[23] down1/);
  });

  it("verifies the certificate when given the RAPI's CA, and fails on a wrong one", async () => {
    const good = await tool("hbal", ["-m", hostPort], { GANETI_RAPI_CA: c.caFile });
    expect(good.code).toBe(0);
    expect(good.stdout).toContain("Loaded 3 nodes");
    // server.pem is the cluster (node daemon) certificate, not the RAPI's.
    const bad = await tool("hbal", ["-m", hostPort, "--rapi-ca", path.join(c.dataDir, "server.pem")]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/failed to load data, aborting: .*certificate/);
  });

  it("reports an unreachable RAPI as a load error", async () => {
    // The RAPI port on another loopback address: nothing listens there.
    const r = await tool("hbal", ["-m", `127.0.0.2:${c.port}`]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^Error: failed to load data, aborting: /m);
  });

  it("-L with the master's data directory reads the same cluster", async () => {
    const r = await tool("hbal", [`-L${c.dataDir}`]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Loaded 3 nodes, ${INSTANCES.length} instances\n`);
    const viaEnv = await tool("hbal", ["-L"], { GANETI_DATA_DIR: c.dataDir });
    expect(viaEnv.code).toBe(0);
    // (Not the whole output: the nodes' free memory is the host's, and moves a little between runs.)
    expect(viaEnv.stdout).toContain(`Loaded 3 nodes, ${INSTANCES.length} instances\n`);
  });
});

describe("hspace -m HOST:PORT on a live cluster", () => {
  it("counts the nodes and instances the RAPI reports", async () => {
    const r = await tool("hspace", ["-m", hostPort, "--machine-readable"]);
    expect(r.code).toBe(0);
    const kv = Object.fromEntries([...r.stdout.matchAll(/^(HTS_\w+)=(.*)$/gm)].map((m) => [m[1]!, m[2]!]));
    const nodes = await client.nodes.list({ bulk: true });
    expect(kv["HTS_CLUSTER_NODES"]).toBe("3");
    expect(kv["HTS_INI_INST_CNT"]).toBe(String(INSTANCES.length));
    expect(Number(kv["HTS_CLUSTER_MEM"])).toBe(nodes.reduce((s, n) => s + Number(n.mtotal), 0));
    expect(Number(kv["HTS_CLUSTER_CPU"])).toBe(nodes.reduce((s, n) => s + Number(n.ctotal), 0));
    expect(Number(kv["HTS_INI_SCORE"])).toBeGreaterThan(0);
    expect(kv["HTS_OK"]).toBe("1");
  });
});

// Last: this one stops a node daemon.
describe("a node that does not answer", () => {
  it("is a load error while it is online, and left out once it is marked offline", async () => {
    const node3Dir = path.join(path.dirname(c.dataDir), "node3");
    const pid = Number(readFileSync(path.join(node3Dir, "noded.pid"), "utf8").trim());
    process.kill(pid, "SIGTERM");
    // The RAPI reports the node without live data (null memory and CPUs) once its daemon is gone.
    for (;;) {
      const n = await client.nodes.get(c.nodes[2]!);
      if (n.mtotal === null) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const r = await tool("hbal", ["-m", hostPort]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `Error: failed to load data, aborting: Node '${c.nodes[2]}', error while parsing data: key 'mtotal' is null`,
    );

    await client.nodes.modify(c.nodes[2]!, { offline: true }).wait();
    const off = await tool("hbal", ["-m", hostPort, "-p"]);
    expect(off.code).toBe(0);
    expect(off.stdout).toContain(`Loaded 3 nodes, ${INSTANCES.length} instances\n`);
    // Offline nodes carry the "-" flag in the node list.
    expect(off.stderr).toMatch(/^ - node3 /m);

    // Ganeti's own hbal and hspace read the same RAPI answers (their
    // file:// backend takes the four bodies from a directory) and must print
    // what ours print, the offline node's row included (no live data: zeros,
    // and NaN where Ganeti divides by them).
    const dir = path.join(tmp, "rapi-offline");
    mkdirSync(dir);
    const rc = new RapiClient(hostPort, { user: c.user, password: c.password, ca: readFileSync(c.caFile) });
    try {
      for (const [file, url] of [
        ["groups.json", "/2/groups?bulk=1"],
        ["nodes.json", "/2/nodes?bulk=1"],
        ["instances.json", "/2/instances?bulk=1"],
        ["info.json", "/2/info"],
      ] as const)
        writeFileSync(path.join(dir, file), await rc.request("GET", url));
    } finally {
      rc.close();
    }
    for (const [name, args] of [
      ["hbal", ["-p", "-C"]],
      ["hspace", ["-p"]],
      ["hinfo", ["-p", "-v", "-v"]],
      ["hcheck", ["--machine-readable"]],
      ["hcheck", ["-v", "-v"]],
    ] as const) {
      const theirs = spawnSync(GANETI_BIN[name], ["-m", `file://${dir}`, ...args], { encoding: "utf8" });
      const ours = await tool(name, ["-m", `file://${dir}`, ...args]);
      expect({ code: ours.code, stdout: ours.stdout, stderr: ours.stderr }, `${name} ${args.join(" ")}`).toEqual({
        code: theirs.status,
        stdout: theirs.stdout,
        stderr: theirs.stderr,
      });
      if ((args as readonly string[]).includes("-p")) expect(ours.stderr).toMatch(/^ - node3 +0 +0 /m);
    }
  });
});
