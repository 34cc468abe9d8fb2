// A standby master's config copy follows etcd through a watch, and a
// takeover uses it only when it matches etcd (real etcd member on 127.0.0.x).
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ClusterConfig } from "../../src/config/cluster-config.js";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import { ConfigFollower } from "../../src/master/config-follower.js";
import { localEtcdSpecs, startEtcdMember, waitEtcdHealthy, type EtcdMember } from "../../src/store/etcd-member.js";
import { EtcdStore } from "../../src/store/etcd-store.js";

let dir: string;
let member: EtcdMember;
const opened: EtcdStore[] = [];

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "gts-follow-"));
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

function open(prefix: string): EtcdStore {
  const s = new EtcdStore([member.url], { prefix, maxTxnOps: 1000 });
  opened.push(s);
  return s;
}

const initial = () =>
  buildInitialConfig({
    clusterName: "cluster.example.com",
    master: { name: "node1.example.com", ip: "127.0.0.11", rpcPort: 1811 },
    enabledDiskTemplates: ["diskless"],
    fileStorageDir: "/srv/ganeti/file-storage",
    sharedFileStorageDir: "/srv/ganeti/shared-file-storage",
    osSearchPath: ["/srv/ganeti/os"],
  });

/** Until the copy has applied revision `rev` (watch events are asynchronous). */
async function caughtUp(f: ConfigFollower, store: EtcdStore): Promise<void> {
  const { maxModRevision } = await store.prefixState("config/");
  for (let i = 0; i < 500 && f.appliedRevision < maxModRevision; i++) await new Promise((r) => setTimeout(r, 20));
}

describe("ConfigFollower", () => {
  it("follows puts, additions and deletions, and a takeover gets the same config as a full read", async () => {
    const prefix = `f${randomBytes(6).toString("hex")}/`;
    const active = open(prefix);
    const cfg = await ClusterConfig.create(active, initial());
    const standby = open(prefix);
    const f = new ConfigFollower(standby);
    await f.start();
    const startRev = f.appliedRevision;

    await cfg.mutate(() => {
      cfg.masterNode.drained = true;
      cfg.touch(cfg.masterNode);
    });
    const group = cfg.groups()[0]!;
    const copy = { ...group, uuid: "0e0e0e0e-1111-2222-3333-444444444444", name: "g2" };
    await cfg.mutate((d) => {
      d.nodegroups[copy.uuid] = copy;
    });
    const copy2 = { ...group, uuid: "0e0e0e0e-1111-2222-3333-555555555555", name: "g3" };
    await cfg.mutate((d) => {
      d.nodegroups[copy2.uuid] = copy2;
    });
    await cfg.mutate((d) => {
      delete d.nodegroups[copy.uuid];
    });
    await caughtUp(f, standby);
    expect(f.appliedRevision).toBeGreaterThan(startRev);

    const t = await f.takeover();
    expect(t.why).toMatch(/copy current/);
    const full = await ClusterConfig.load(standby);
    expect(t.config!.data).toEqual(full!.data);
    expect(t.config!.masterNode.drained).toBe(true);
    expect(Object.keys(t.config!.data.nodegroups).sort()).toEqual([group.uuid, copy2.uuid].sort());

    // The config taken over writes on from where the store is (only what changed).
    await t.config!.mutate(() => {
      t.config!.cluster.tags.push("after-takeover");
      t.config!.touch(t.config!.cluster);
    });
    expect((await ClusterConfig.load(standby))!.cluster.tags).toContain("after-takeover");
    await f.stop();
  });

  it("is not used when it missed a change (a stopped watch) or was never started", async () => {
    const prefix = `f${randomBytes(6).toString("hex")}/`;
    const active = open(prefix);
    const cfg = await ClusterConfig.create(active, initial());
    const standby = open(prefix);
    expect((await new ConfigFollower(standby).takeover()).config).toBeNull();

    const f = new ConfigFollower(standby);
    await f.start();
    // Stop following, then change the config: the copy must not be taken for current.
    await (f as unknown as { cancel: () => Promise<void> }).cancel();
    await cfg.mutate(() => {
      cfg.masterNode.drained = true;
      cfg.touch(cfg.masterNode);
    });
    const t = await f.takeover(300);
    expect(t.config).toBeNull();
    expect(t.why).toMatch(/revision/);

    // A deletion after the newest remaining key's revision is seen by the key count.
    const g = new ConfigFollower(standby);
    await g.start();
    const group = cfg.groups()[0]!;
    const extra = { ...group, uuid: "0e0e0e0e-1111-2222-3333-666666666666", name: "gx" };
    await cfg.mutate((d) => {
      d.nodegroups[extra.uuid] = extra;
    });
    await caughtUp(g, standby);
    await (g as unknown as { cancel: () => Promise<void> }).cancel();
    // Delete it without any other write (a raw store delete: no meta key changes).
    await active.delete(`config/nodegroups/${extra.uuid}`);
    const t2 = await g.takeover(300);
    expect(t2.config).toBeNull();
    expect(t2.why).toMatch(/keys/);
  });
});
