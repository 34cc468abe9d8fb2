// Instance provider methods called directly, against the stateful nock fake.
import { describe, expect, it } from "vitest";
import { providers } from "../../src/runtime.js";
import { PartialFailureError, UpdateNotAllowedError, AdoptError } from "../../src/index.js";
import { UNKNOWN } from "../../src/core/diff.js";
import { useFakeRapi } from "../helpers/fake-rapi.js";

const { fake } = useFakeRapi();
const p = providers.Instance;
type Props = Record<string, any>;

const base = {
  name: "web1.example.com",
  diskTemplate: "file",
  disks: [{ size: "1G" }],
  nics: [{ link: "br0" }],
  os: "noop",
  memory: 512,
  vcpus: 1,
  tags: ["b", "a"],
  updatePolicy: { allowReboot: true },
};

async function check(args: Props): Promise<Props> {
  const r = await p.check!({}, args);
  expect(r.failures ?? []).toEqual([]);
  return r.inputs as Props;
}

async function created(args: Props = base): Promise<{ id: string; outs: Props }> {
  const r = await p.create(await check(args));
  return { id: r.id, outs: r.outs as Props };
}

async function diff(state: Props, args: Props) {
  return p.diff!(state.name, state, await check(args));
}

async function refresh(id: string, state: Props): Promise<Props> {
  const r = await p.read!(id, state);
  return r.props as Props;
}

describe("Instance check", () => {
  it("normalises defaults: memory → min/max, units → MiB, mac auto, tags sorted, state running", async () => {
    const i = await check(base);
    expect(i).toMatchObject({
      minMemory: 512,
      maxMemory: 512,
      disks: [{ size: 1024, mode: "rw" }],
      nics: [{ link: "br0", mac: "auto" }],
      tags: ["a", "b"],
      state: "running",
    });
    expect(i.memory).toBeUndefined();
  });

  it("reports failures with property paths", async () => {
    const r = await p.check!({}, { ...base, disks: [{ size: "lots" }], memory: 256, maxMemory: 512 });
    expect(r.failures?.map((f) => f.property)).toContain("disks.0.size");
    const r2 = await p.check!({}, { ...base, memory: 256, maxMemory: 512 });
    expect(r2.failures?.[0]?.property).toBe("memory");
  });

  it("refuses instance names the master would refuse or change (the schema's host name rule)", async () => {
    for (const name of ["Web.example.com", "a/b", "..", "web.example.com.", "my host"]) {
      const r = await p.check!({}, { ...base, name });
      expect(
        r.failures?.map((f) => f.property),
        name,
      ).toEqual(["name"]);
    }
  });

  it("accepts unknown values during preview", async () => {
    const r = await p.check!({}, { ...base, nics: [{ network: UNKNOWN, ip: "pool" }] });
    expect(r.failures ?? []).toEqual([]);
  });
});

describe("Instance lifecycle", () => {
  it("create → outputs; unchanged program shows no diff, before and after refresh", async () => {
    const { id, outs } = await created();
    expect(id).toBe("web1.example.com");
    expect(outs).toMatchObject({ uuid: expect.any(String), primaryNode: "node1.example.com", status: "running", maxMemory: 512 });
    expect(outs.nicMacs[0]).toMatch(/^aa:00/);
    expect(outs.diskUuids).toHaveLength(1);
    const body = fake().submitted[0]!.body;
    expect(body).toMatchObject({
      instance_name: id,
      disk_template: "file",
      disks: [{ size: 1024, mode: "rw" }],
      beparams: { maxmem: 512, minmem: 512, vcpus: 1 },
      name_check: false,
      start: true,
      tags: ["a", "b"],
    });
    expect(await diff(outs, base)).toMatchObject({ changes: false, replaces: [] });
    const refreshed = await refresh(id, outs);
    expect(await diff(refreshed, base)).toMatchObject({ changes: false });
    // A different spelling of the same program is still no diff.
    expect(await diff(refreshed, { ...base, disks: [{ size: 1024 }], tags: ["a", "b", "a"], memory: "512M" })).toMatchObject({
      changes: false,
    });
  });

  it("optional fields left to the cluster do not diff", async () => {
    const { outs } = await created({ ...base, memory: undefined, vcpus: undefined });
    expect(outs.maxMemory).toBe(128);
    expect(await diff(outs, { ...base, memory: undefined, vcpus: undefined })).toMatchObject({ changes: false });
  });

  it("outputs the console (Ganeti's shape) and the runtime memory while running, null when stopped", async () => {
    const { id, outs } = await created();
    expect(outs.console).toEqual({ instance: id, kind: "msg", message: `console of ${id} on node1.example.com` });
    expect(outs.runtimeMemory).toBe(512);
    const stopped = await created({ ...base, name: "web2.example.com", state: "stopped" });
    expect(stopped.outs).toMatchObject({ console: null, runtimeMemory: null });
    expect(fake().calls()).not.toContain("GET /2/instances/web2.example.com/console");
  });

  it("delete removes the instance; deleting a gone instance succeeds", async () => {
    const { id, outs } = await created();
    await p.delete!(id, outs);
    expect(fake().instances.has(id)).toBe(false);
    await p.delete!(id, outs);
    expect((await p.read!(id, outs)).id).toBeUndefined();
  });
});

describe("Instance in-place updates", () => {
  async function update(args: Props, from: Props = base) {
    const { id, outs } = await created(from);
    const d = await diff(outs, args);
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    fake().submitted = [];
    const r = await p.update!(id, outs, await check(args));
    const after = r.outs as Props;
    expect(await diff(after, args)).toMatchObject({ changes: false });
    return { after, calls: fake().calls(), bodies: fake().submitted.map((s) => s.body) };
  }

  it("memory and vcpus → one modify of beparams (more memory waits for the next start: no balloon grows a machine)", async () => {
    const { after, calls, bodies } = await update({ ...base, memory: 1024, vcpus: 2 });
    expect(calls).toEqual(["PUT /2/instances/web1.example.com/modify"]);
    expect(bodies[0]).toEqual({ beparams: { maxmem: 1024, minmem: 1024, vcpus: 2 } });
    expect(after).toMatchObject({ maxMemory: 1024, vcpus: 2 });
  });

  it("less memory for a running kvm instance → the same modify sets runtime_mem (the balloon): no restart, no replace", async () => {
    const kvm = { ...base, hypervisor: "kvm", diskTemplate: "sharedfile" };
    const { after, calls, bodies } = await update({ ...kvm, memory: 256 }, kvm);
    expect(calls).toEqual(["PUT /2/instances/web1.example.com/modify"]);
    expect(bodies[0]).toEqual({ beparams: { maxmem: 256, minmem: 256 }, runtime_mem: 256 });
    expect(after).toMatchObject({ maxMemory: 256, runtimeMemory: 256, status: "running" });
  });

  it("memory of a running instance of the cluster's default hypervisor → runtime_mem when that hypervisor balloons", async () => {
    fake().defaultHypervisor = "kvm";
    const r = await update({ ...base, memory: 256 });
    expect(r.calls).toEqual(["PUT /2/instances/web1.example.com/modify"]);
    expect(r.bodies[0]).toEqual({ beparams: { maxmem: 256, minmem: 256 }, runtime_mem: 256 });
    fake().instances.clear();
    fake().defaultHypervisor = "chroot";
    expect((await update({ ...base, memory: 384 })).bodies[0]).toEqual({ beparams: { maxmem: 384, minmem: 384 } });
  });

  it("memory of a stopped instance, or one the update restarts anyway, changes beparams only", async () => {
    const stopped = { ...base, hypervisor: "kvm", state: "stopped" };
    const s = await update({ ...stopped, memory: 256 }, stopped);
    expect(s.bodies).toEqual([{ beparams: { maxmem: 256, minmem: 256 } }]);
    expect(s.after.runtimeMemory).toBeNull();
    fake().instances.clear();
    // Removing a disk stops the instance first: it starts again with the new memory.
    const twoDisks = { ...base, hypervisor: "kvm", disks: [{ size: "1G" }, { size: "1G" }] };
    const r = await update({ ...twoDisks, disks: [{ size: "1G" }], memory: 256 }, twoDisks);
    expect(r.calls).toEqual([
      "PUT /2/instances/web1.example.com/shutdown",
      "PUT /2/instances/web1.example.com/modify",
      "PUT /2/instances/web1.example.com/startup",
    ]);
    expect(r.bodies[1]).not.toHaveProperty("runtime_mem");
    expect(r.after.runtimeMemory).toBe(256);
  });

  it("hvParams: changed keys set, removed keys reset to default", async () => {
    const from = { ...base, hvParams: { kernel_args: "ro", boot_order: "disk" } };
    const { bodies } = await update({ ...base, hvParams: { kernel_args: "rw" } }, from);
    expect(bodies[0]).toEqual({ hvparams: { kernel_args: "rw", boot_order: "default" } });
  });

  it("disk grow → grow with absolute size; disk add and NIC add → modify with hotplug", async () => {
    const g = await update({ ...base, disks: [{ size: "2G" }] });
    expect(g.calls).toEqual(["POST /2/instances/web1.example.com/disk/0/grow"]);
    expect(g.bodies[0]).toMatchObject({ amount: 2048, absolute: true });
    fake().instances.clear();
    const a = await update({
      ...base,
      disks: [{ size: "1G" }, { size: 256, name: "data" }],
      nics: [{ link: "br0" }, { ip: "pool", network: "lan" }],
    });
    expect(a.bodies[0]).toMatchObject({
      disks: [["add", -1, { size: 256, name: "data", mode: "rw" }]],
      nics: [["add", -1, { ip: "pool", network: "lan", mac: "auto" }]],
      hotplug_if_possible: true,
    });
    expect(a.after.nics[1]).toMatchObject({ ip: "pool", network: "lan", mac: "auto" });
  });

  it("disk removal stops and restarts the instance when allowReboot is set", async () => {
    const from = { ...base, disks: [{ size: "1G" }, { size: 256 }] };
    const { calls } = await update(base, from);
    expect(calls).toEqual([
      "PUT /2/instances/web1.example.com/shutdown",
      "PUT /2/instances/web1.example.com/modify",
      "PUT /2/instances/web1.example.com/startup",
    ]);
  });

  it("disk removal without allowReboot is refused before anything is submitted", async () => {
    const from = { ...base, updatePolicy: {}, disks: [{ size: "1G" }, { size: 256 }] };
    const { id, outs } = await created(from);
    fake().submitted = [];
    await expect(p.update!(id, outs, await check({ ...from, disks: [{ size: "1G" }] }))).rejects.toBeInstanceOf(UpdateNotAllowedError);
    expect(fake().submitted).toEqual([]);
  });

  it("NIC removal and modification", async () => {
    const from = { ...base, nics: [{ link: "br0" }, { link: "br1" }] };
    const { bodies } = await update({ ...base, nics: [{ link: "br2" }] }, from);
    expect(bodies[0]).toMatchObject({
      nics: [
        ["modify", 0, { link: "br2" }],
        ["remove", 1, {}],
      ],
    });
  });

  it("tags → add and remove only the difference", async () => {
    const { calls, bodies, after } = await update({ ...base, tags: ["a", "c"] });
    expect(calls).toEqual(["PUT /2/instances/web1.example.com/tags", "DELETE /2/instances/web1.example.com/tags"]);
    expect(fake().submitted.map((s) => s.query.getAll("tag"))).toEqual([["c"], ["b"]]);
    expect(bodies).toHaveLength(2);
    expect(after.tags).toEqual(["a", "c"]);
  });

  it("desired state stopped → shutdown; back to running → startup", async () => {
    const { after, calls } = await update({ ...base, state: "stopped" });
    expect(calls).toEqual(["PUT /2/instances/web1.example.com/shutdown"]);
    expect(after.status).toBe("ADMIN_down");
    fake().submitted = [];
    const r = await p.update!(after.name, after, await check(base));
    expect(fake().calls()).toEqual(["PUT /2/instances/web1.example.com/startup"]);
    expect((r.outs as Props).status).toBe("running");
  });

  it("rename (Ganeti renames only a stopped instance) → stop, rename, later steps use the new name, start", async () => {
    const { id, outs } = await created();
    await expect(p.update!(id, outs as Props, await check({ ...base, name: "web2.example.com", updatePolicy: {} }))).rejects.toThrow(
      /renaming needs the instance stopped/,
    );
    fake().instances.clear();
    const { after, calls } = await update({ ...base, name: "web2.example.com", vcpus: 4 });
    expect(calls).toEqual([
      "PUT /2/instances/web1.example.com/shutdown",
      "PUT /2/instances/web1.example.com/rename",
      "PUT /2/instances/web2.example.com/modify",
      "PUT /2/instances/web2.example.com/startup",
    ]);
    expect(after.name).toBe("web2.example.com");
  });

  it("primary node change: migrate when running (sharedfile), failover when moveMode says so", async () => {
    const from = { ...base, diskTemplate: "sharedfile", primaryNode: "node1.example.com" };
    const { outs } = await created(from);
    const d = await diff(outs, { ...from, primaryNode: "node2.example.com" });
    expect(d).toMatchObject({ changes: true, replaces: [], deleteBeforeReplace: false });
    fake().instances.clear();
    const m = await update({ ...from, primaryNode: "node2.example.com" }, from);
    expect(m.calls).toEqual(["PUT /2/instances/web1.example.com/migrate"]);
    expect(m.bodies[0]).toEqual({ target_node: "node2.example.com" });
    expect(m.after.primaryNode).toBe("node2.example.com");
    fake().instances.clear();
    const f = await update({ ...from, primaryNode: "node2.example.com", updatePolicy: { moveMode: "failover" } }, from);
    expect(f.calls).toEqual(["PUT /2/instances/web1.example.com/failover"]);
  });

  it("OS change records the new OS in place by default", async () => {
    const { bodies } = await update({ ...base, os: "debootstrap+default" });
    expect(bodies[0]).toEqual({ os_name: "debootstrap+default" });
  });
});

describe("Instance replacements", () => {
  it.each([
    ["disk shrink", { disks: [{ size: 512 }] }, ["disks"]],
    ["unsupported template conversion", { diskTemplate: "diskless", disks: [] }, ["diskTemplate", "disks"].slice(0, 1)],
    ["OS change with replaceOnOsChange", { os: "other", updatePolicy: { replaceOnOsChange: true } }, ["os"]],
    ["hypervisor change", { hypervisor: "kvm" }, ["hypervisor"]],
  ])("%s → replace", async (_label, change, replaces) => {
    const { outs } = await created({ ...base, hypervisor: "fake" });
    const d = await diff(outs, { ...base, hypervisor: "fake", ...change });
    expect(d.replaces).toEqual(expect.arrayContaining(replaces as string[]));
    expect(d.deleteBeforeReplace).toBe(true);
  });

  it("supported conversion (plain → drbd) is in place", async () => {
    const { outs } = await created({ ...base, diskTemplate: "plain" });
    const d = await diff(outs, { ...base, diskTemplate: "drbd", secondaryNode: "node2.example.com" });
    expect(d).toMatchObject({ changes: true, replaces: [] });
  });
});

describe("Instance refresh (drift)", () => {
  it("detects memory changed by hand, instance stopped, tag removed — and nothing else", async () => {
    const { id, outs } = await created();
    const inst = fake().instances.get(id)!;
    inst.beparams.maxmem = 2048;
    inst.admin_state = "down";
    inst.tags = ["a"];
    inst.mtime += 1;
    const r = await p.read!(id, outs);
    const props = r.props as Props;
    expect(r.inputs).toMatchObject({ maxMemory: 2048, state: "stopped", tags: ["a"] });
    const d = await diff(props, base);
    expect(d.changes).toBe(true);
    expect(d.replaces).toEqual([]);
    // Converges: update puts memory, state and tag back.
    const up = await p.update!(id, props, await check(base));
    expect(await diff(up.outs as Props, base)).toMatchObject({ changes: false });
    expect(fake().instances.get(id)).toMatchObject({ admin_state: "up", tags: ["a", "b"] });
  });

  it("an instance deleted out of band reads as gone", async () => {
    const { id, outs } = await created();
    fake().instances.delete(id);
    expect((await p.read!(id, outs)).id).toBeUndefined();
  });
});

describe("Instance adopt", () => {
  it("adopt takes over an existing instance and converges it in place", async () => {
    await created({ ...base, memory: 256 });
    fake().submitted = [];
    const r = await p.create(await check({ ...base, adopt: true }));
    expect(fake().calls()).toEqual(["PUT /2/instances/web1.example.com/modify"]);
    expect(r.outs).toMatchObject({ maxMemory: 512, adopt: true });
  });

  it("create refuses an existing name without adopt; adopt of a missing one fails", async () => {
    await created();
    await expect(p.create(await check(base))).rejects.toBeInstanceOf(AdoptError);
    await expect(p.create(await check({ ...base, name: "none.example.com", adopt: true }))).rejects.toBeInstanceOf(AdoptError);
  });

  it("adopt refuses when replace-only fields differ", async () => {
    await created();
    await expect(p.create(await check({ ...base, diskTemplate: "diskless", disks: [], adopt: true }))).rejects.toThrow(/diskTemplate/);
  });
});

describe("Instance failures", () => {
  it("a failed create reports the job id and Ganeti's message", async () => {
    fake().failNext(/POST \/2\/instances$/, "OpPrereqError", "Not enough memory on node1", "insufficient_resources");
    const err = await p.create(await check(base)).catch((e: unknown) => e);
    expect(String((err as Error).message)).toMatch(/Job 1 failed .*OpPrereqError: Not enough memory on node1 \[insufficient_resources\]/);
    expect(err).toMatchObject({ code: "insufficient_resources" });
  });

  it("partial update: memory applied, tag step fails → PartialFailureError with the real state; next diff shows only the rest", async () => {
    const { id, outs } = await created();
    fake().failNext(/PUT .*\/tags$/, "OpExecError", "tag store broken", "environment_error");
    const want = { ...base, memory: 1024, tags: ["a", "b", "c"] };
    const err = (await p.update!(id, outs, await check(want)).catch((e: unknown) => e)) as PartialFailureError;
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.id).toBe(id);
    expect(err.message).toMatch(/adding tags failed: Job \d+ failed .*tag store broken/);
    expect(err.properties).toMatchObject({ maxMemory: 1024, tags: ["a", "b"] });
    const d = await diff(err.properties, want);
    expect(d.changes).toBe(true);
    const up = await p.update!(id, err.properties, await check(want));
    expect((up.outs as Props).tags).toEqual(["a", "b", "c"]);
  });

  it("a partial failure's state keeps the serialized provider (__provider), so later operations can load it", async () => {
    const { id, outs } = await created();
    fake().failNext(/PUT .*\/tags$/, "OpExecError", "tag store broken", "environment_error");
    const news = { ...(await check({ ...base, memory: 1024, tags: ["c"] })), __provider: "exports.handler = ..." };
    const err = (await p.update!(id, { ...outs, __provider: "exports.handler = ..." }, news).catch(
      (e: unknown) => e,
    )) as PartialFailureError;
    expect(err).toBeInstanceOf(PartialFailureError);
    expect(err.properties.__provider).toBe("exports.handler = ...");
    expect(err.properties).toMatchObject({ maxMemory: 1024 });
  });

  it("timeouts: a job that does not finish in time → error naming the job; the object is recorded if it exists", async () => {
    fake().hang(/POST \/2\/instances$/);
    const err = (await p.create(await check({ ...base, timeouts: { create: "300ms" } })).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(/creating instance web1.example.com failed: Timed out after 300 ms waiting for job 1/);
    expect(err).toMatchObject({ code: "job_wait_timeout" });
  });

  it("an invalid timeout is a check failure", async () => {
    const r = await p.check!({}, { ...base, timeouts: { update: "soon" } });
    expect(r.failures).toEqual([{ property: "timeouts.update", reason: expect.stringMatching(/invalid timeout/) }]);
  });
});
