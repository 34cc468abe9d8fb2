// The source's migration info as the target reads it; the target's hold for replicated disks.
import { describe, expect, it } from "vitest";
import type { RpcInstance } from "@ganeti-ts/schema";
import type { HvBlockDevice } from "../../../src/hypervisors/hypervisor.js";
import type { KvmHypervisor } from "../../../src/hypervisors/kvm/kvm-hypervisor.js";
import { KvmMigration, parseMachine } from "../../../src/hypervisors/kvm/migrate.js";
import { formatReplicaUri } from "../../../src/lib/replica-uri.js";

describe("parseMachine", () => {
  it("reads the source machine's memory and vCPUs; nothing from an empty info", () => {
    expect(parseMachine(JSON.stringify({ maxmem: 192, vcpus: 2 }))).toEqual({ maxmem: 192, vcpus: 2 });
    expect(parseMachine("")).toBeNull();
  });

  it("refuses what is not a machine size", () => {
    for (const bad of ["{", "null", JSON.stringify({ maxmem: "192", vcpus: 1 }), JSON.stringify({ maxmem: 0, vcpus: 1 })]) {
      expect(() => parseMachine(bad), bad).toThrow(/^Invalid migration information from the source node/);
    }
  });
});

describe("accepting an instance with replicated disks", () => {
  const replica = formatReplicaUri({ host: "192.0.2.2", port: 11000, export: "d1", tlsCredsDir: "/t", tlsHostname: "n" });
  const instance = {
    name: "i1.example.com",
    hvparams: { migration_port: 8102 },
  } as unknown as RpcInstance;
  function stubHv() {
    const starts: boolean[] = [];
    const hv = {
      runtime: async () => null,
      start: async (_i: RpcInstance, _d: HvBlockDevice[], paused: boolean) => void starts.push(paused),
    } as unknown as KvmHypervisor;
    return { hv, starts };
  }

  it("holds the target's guest paused after the transfer when a disk is replicated, not otherwise", async () => {
    const { hv, starts } = stubHv();
    const m = new KvmMigration(hv);
    await m.accept(instance, "192.0.2.2", [{ uuid: "d1", path: replica, mode: "rw" }]);
    await m.accept(instance, "192.0.2.2", [{ uuid: "d2", path: "/srv/shared/d2", mode: "rw" }]);
    expect(starts).toEqual([true, false]);
  });

  it("never copies a replicated disk (it is already on the target)", async () => {
    const { hv, starts } = stubHv();
    await expect(new KvmMigration(hv).accept(instance, "192.0.2.2", [{ uuid: "d1", path: replica, mode: "rw" }], true)).rejects.toThrow(
      /already on the target/,
    );
    expect(starts).toEqual([]);
  });
});
