// The config is persisted one key per object: a mutation commits only what it changed.
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { ClusterConfig, LEGACY_CONFIG_KEY } from "../../src/config/cluster-config.js";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import { FileStore } from "../../src/store/file-store.js";
import { MemoryStore } from "../../src/store/memory-store.js";
import type { StoreOp } from "../../src/store/store.js";

class RecordingStore extends MemoryStore {
  commits: StoreOp[][] = [];
  override async commit(ops: StoreOp[]): Promise<void> {
    this.commits.push(ops);
    await super.commit(ops);
  }
}

function initial() {
  return buildInitialConfig({
    clusterName: "cluster.example.com",
    master: { name: "node1.example.com", ip: "127.0.0.11", rpcPort: 1811 },
    enabledDiskTemplates: ["diskless"],
    fileStorageDir: "/srv/ganeti/file-storage",
    sharedFileStorageDir: "/srv/ganeti/shared-file-storage",
    osSearchPath: ["/srv/ganeti/os"],
  });
}

describe("ClusterConfig persistence", () => {
  it("stores one key per object and commits only changed objects", async () => {
    const store = new RecordingStore();
    const cfg = await ClusterConfig.create(store, initial());
    const keys = await store.list("config/");
    expect(keys).toContain("config/meta");
    expect(keys).toContain("config/cluster");
    expect(keys).toContain(`config/nodes/${cfg.masterNode.uuid}`);
    store.commits = [];

    await cfg.mutate(() => {
      cfg.masterNode.offline = false;
      cfg.touch(cfg.masterNode);
    });
    expect(store.commits).toHaveLength(1);
    expect(store.commits[0]!.map((o) => o.key).sort()).toEqual(["config/meta", `config/nodes/${cfg.masterNode.uuid}`]);

    // A mutation that removes an object deletes its key.
    const group = cfg.groups()[0]!;
    const copy = { ...group, uuid: "0e0e0e0e-1111-2222-3333-444444444444", name: "g2" };
    await cfg.mutate((d) => {
      d.nodegroups[copy.uuid] = copy;
    });
    await cfg.mutate((d) => {
      delete d.nodegroups[copy.uuid];
    });
    expect(store.commits.at(-1)).toContainEqual({ op: "delete", key: `config/nodegroups/${copy.uuid}` });

    const again = await ClusterConfig.load(store);
    expect(again!.data).toEqual(cfg.data);
  });

  it("a declared mutation serialises only what it touched; the check catches an undeclared change", async () => {
    const store = new RecordingStore();
    const cfg = await ClusterConfig.create(store, initial());
    const node = cfg.masterNode;
    const group = cfg.groups()[0]!;
    store.commits = [];
    await cfg.mutate(
      () => {
        node.offline = false;
        cfg.touch(node);
      },
      { declared: true },
    );
    expect(store.commits[0]!.map((o) => o.key).sort()).toEqual(["config/meta", `config/nodes/${node.uuid}`]);
    const saved = ClusterConfig.verifyChanges;
    ClusterConfig.verifyChanges = true;
    try {
      await expect(
        cfg.mutate(
          () => {
            group.tags.push("forgotten");
          },
          { declared: true },
        ),
      ).rejects.toThrow(`changed without touch()/markChanged(): config/nodegroups/${group.uuid}`);
      // the next write (undeclared: compares everything) still persists it
      await cfg.mutate(() => undefined);
      expect((await ClusterConfig.load(store))!.data.nodegroups[group.uuid]!.tags).toEqual(["forgotten"]);
    } finally {
      ClusterConfig.verifyChanges = saved;
    }
  });

  it("groups concurrent mutations into one commit", async () => {
    const store = new RecordingStore();
    const cfg = await ClusterConfig.create(store, initial());
    store.commits = [];
    await Promise.all(Array.from({ length: 10 }, (_, i) => cfg.mutate((d) => d.cluster.tags.push(`t${i}`))));
    expect(store.commits.length).toBeLessThanOrEqual(2);
    expect((await ClusterConfig.load(store))!.data.cluster.tags).toHaveLength(10);
  });

  it("migrates a config written whole into keys", async () => {
    const store = new MemoryStore();
    const data = initial();
    await store.put(LEGACY_CONFIG_KEY, JSON.stringify(data));
    const cfg = await ClusterConfig.load(store);
    expect(cfg!.data).toEqual(data);
    expect(await store.get(LEGACY_CONFIG_KEY)).toBeNull();
    expect((await ClusterConfig.load(store))!.data).toEqual(data);
  });

  it("survives a reopen of the file store, before and after a checkpoint", async () => {
    const dir = await mkdtemp(path.join(tmpdir(), "gts-cfg-"));
    try {
      const store = new FileStore(dir);
      const cfg = await ClusterConfig.create(store, initial());
      for (let i = 0; i < 5; i++) await cfg.mutate((d) => d.cluster.tags.push(`t${i}`));
      expect((await ClusterConfig.load(new FileStore(dir)))!.data).toEqual(cfg.data);
      await store.checkpoint();
      expect(await readdir(dir)).toEqual(["config"]);
      expect((await ClusterConfig.load(new FileStore(dir)))!.data).toEqual(cfg.data);
      await store.close();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe("ClusterConfig name lookups", () => {
  it("finds nodes by exact name, uuid and prefix, and follows renames, additions and removals", async () => {
    const cfg = await ClusterConfig.create(new MemoryStore(), initial());
    const master = cfg.masterNode;
    expect(cfg.findNode("node1.example.com")).toBe(master);
    expect(cfg.findNode(master.uuid)).toBe(master);
    expect(cfg.findNode("node1")).toBe(master);
    expect(cfg.findNode("node2.example.com")).toBeUndefined();

    const copy = { ...master, uuid: "0e0e0e0e-1111-2222-3333-444444444444", name: "node2.example.com" };
    await cfg.mutate((d) => {
      d.nodes[copy.uuid] = copy;
    });
    expect(cfg.findNode("node2.example.com")).toBe(copy);

    // A renamed object is no longer found under its old name (the index is only a hint).
    await cfg.mutate(() => {
      copy.name = "node3.example.com";
      cfg.touch(copy);
    });
    expect(cfg.findNode("node2.example.com")).toBeUndefined();
    expect(cfg.findNode("node3.example.com")).toBe(copy);

    await cfg.mutate((d) => {
      delete d.nodes[copy.uuid];
    });
    expect(cfg.findNode("node3.example.com")).toBeUndefined();
    // "constructor" is not an own key of the table
    expect(cfg.findNode("constructor")).toBeUndefined();
  });
});
