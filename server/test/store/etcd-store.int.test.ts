// The store conformance suite against a real etcd (one member started by the
// test on 127.0.0.x with free ports), and what etcd adds: fencing by
// leadership and watches.
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { EtcdStore, NotMasterError } from "../../src/store/etcd-store.js";
import { localEtcdSpecs, startEtcdMember, waitEtcdHealthy, type EtcdMember } from "../../src/store/etcd-member.js";
import { ClusterConfig } from "../../src/config/cluster-config.js";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import { storeConformance } from "./conformance.js";

let dir: string;
let member: EtcdMember;
const opened: EtcdStore[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "gts-etcd-"));
  const [spec] = await localEtcdSpecs([`127.0.0.${20 + Math.floor(Math.random() * 200)}`]);
  member = await startEtcdMember(spec!, [spec!], {
    dataDir: path.join(dir, "data"),
    state: "new",
    token: `t-${randomBytes(4).toString("hex")}`,
  });
  await waitEtcdHealthy(member.url);
}, 120_000);

afterAll(async () => {
  for (const s of opened) await s.close();
  await member?.stop("SIGKILL");
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Each test its own prefix: a fresh, empty store on the shared etcd. */
function fresh(prefix = `t${randomBytes(6).toString("hex")}/`): EtcdStore {
  const s = new EtcdStore([member.url], { prefix, maxTxnOps: 4 });
  opened.push(s);
  return s;
}

storeConformance("EtcdStore", async () => {
  const prefix = `t${randomBytes(6).toString("hex")}/`;
  return { store: fresh(prefix), reopen: async () => fresh(prefix), cleanup: async () => {} };
});

describe("EtcdStore", () => {
  it("holds the config as one key per object and reads it back", async () => {
    const store = fresh();
    const data = buildInitialConfig({
      clusterName: "cluster.example.com",
      master: { name: "node1.example.com", ip: "127.0.0.11", rpcPort: 1811 },
      enabledDiskTemplates: ["diskless"],
      fileStorageDir: "/srv/ganeti/file-storage",
      sharedFileStorageDir: "/srv/ganeti/shared-file-storage",
      osSearchPath: ["/srv/ganeti/os"],
    });
    const cfg = await ClusterConfig.create(store, data);
    await cfg.mutate((d) => d.cluster.tags.push("on-etcd"));
    expect(await store.list("config/nodes/")).toEqual([`config/nodes/${cfg.masterNode.uuid}`]);
    const again = await ClusterConfig.load(store);
    expect(again!.data).toEqual(cfg.data);
  });

  it("refuses writes of a master whose leader key was replaced", async () => {
    const prefix = `t${randomBytes(6).toString("hex")}/`;
    const a = fresh(prefix);
    await a.put("master/leader", "node1");
    const rev = String((await a.ns.get("master/leader").exec()).kvs[0]!.create_revision);
    a.setFence({ key: "master/leader", revision: rev });
    await a.commit([{ op: "put", key: "config/x", value: "1" }]);
    // another master is elected: the key is created anew
    const b = fresh(prefix);
    await b.delete("master/leader");
    await b.put("master/leader", "node2");
    await expect(a.commit([{ op: "put", key: "config/x", value: "2" }])).rejects.toBeInstanceOf(NotMasterError);
    await expect(a.put("queue/job-1", "x")).rejects.toBeInstanceOf(NotMasterError);
    expect((await b.get("config/x"))!.toString()).toBe("1");
    expect(await b.get("queue/job-1")).toBeNull();
  });

  it("tells a watcher about puts and deletes under a prefix", async () => {
    const prefix = `t${randomBytes(6).toString("hex")}/`;
    const a = fresh(prefix);
    const seen: Array<[string, string | null]> = [];
    let done: () => void = () => undefined;
    const got = new Promise<void>((resolve) => (done = resolve));
    // resolves once etcd has registered the watch
    const stop = await a.watch("config/", (k, v) => {
      seen.push([k, v ? v.toString() : null]);
      if (seen.length === 3) done();
    });
    const w = fresh(prefix);
    await w.commit([
      { op: "put", key: "config/a", value: "1" },
      { op: "put", key: "other", value: "x" },
    ]);
    await w.put("config/b", "2");
    await w.delete("config/a");
    await got;
    await stop();
    expect(seen).toEqual([
      ["config/a", "1"],
      ["config/b", "2"],
      ["config/a", null],
    ]);
  });

  it("groups concurrent writes into few transactions; the last write of a key wins; a bad write fails only its caller", async () => {
    const s = new EtcdStore([member.url], { prefix: `t${randomBytes(6).toString("hex")}/`, maxTxnOps: 128 });
    opened.push(s);
    const txns: number[] = [];
    const inner = s as unknown as { txn: (ops: unknown[]) => Promise<void> };
    const orig = inner.txn.bind(s);
    inner.txn = async (ops) => {
      txns.push(ops.length);
      return orig(ops);
    };
    await Promise.all([
      ...Array.from({ length: 40 }, (_, i) => s.put(`queue/job-${i}`, `v${i}`)),
      s.put("queue/job-0", "last"),
      s.commit([
        { op: "put", key: "config/a", value: "1" },
        { op: "put", key: "config/b", value: "2" },
      ]),
      s.delete("config/b"),
    ]);
    // 43 writes: the first alone, the rest behind it (a loaded machine may split them a few times more)
    expect(txns.length).toBeLessThan(10);
    expect(Math.max(...txns)).toBeGreaterThan(1);
    expect((await s.get("queue/job-0"))!.toString()).toBe("last");
    expect((await s.get("queue/job-39"))!.toString()).toBe("v39");
    expect((await s.get("config/a"))!.toString()).toBe("1");
    expect(await s.get("config/b")).toBeNull();

    // A write etcd refuses (as it would one above its --max-request-bytes) alongside good ones.
    const bad = (op: unknown) => (op as { request?: { value?: Buffer } }).request?.value?.toString() === "refused";
    let batches = 0;
    inner.txn = async (ops) => {
      if (ops.length > 1) batches++;
      if (ops.some(bad)) throw new Error("etcdserver: request is too large");
      return orig(ops);
    };
    const results = await Promise.allSettled([s.put("queue/ok-1", "a"), s.put("queue/bad", "refused"), s.put("queue/ok-2", "b")]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "fulfilled"]);
    expect(batches).toBe(1); // the bad write and ok-2 went together first, then each on its own
    expect((await s.get("queue/ok-2"))!.toString()).toBe("b");
  });
});
