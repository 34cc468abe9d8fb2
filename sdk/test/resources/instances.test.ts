import { describe, expect, it } from "vitest";
import { JobFailedError, NotFoundError, BadRequestError } from "../../src/index.js";
import { capture, mock, mockCapture, mockJob, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.instances (single-node captures)", () => {
  it("list() → index entries", async () => {
    mock("captures", 82);
    const l = await testClient().instances.list();
    expect(l[0]).toEqual({ id: "inst1.ganeti.test", uri: "/2/instances/inst1.ganeti.test" });
  });

  it("list({bulk: true}) → full objects", async () => {
    mock("captures", 83);
    const l = await testClient().instances.list({ bulk: true });
    expect(l.map((i) => i.name)).toContain("inst1.ganeti.test");
    expect(l[0]?.["nic.macs"]).toBeInstanceOf(Array);
  });

  it("iterate() yields every instance", async () => {
    mock("captures", 83);
    const names: string[] = [];
    for await (const i of testClient().instances.iterate()) names.push(i.name);
    expect(names.length).toBe((capture(83).response_body as unknown[]).length);
  });

  it("get() → instance object; unknown → NotFoundError", async () => {
    mock("captures", 84, 349);
    const c = testClient();
    const i = await c.instances.get("inst1.ganeti.test");
    expect(i.status).toBe("running");
    expect(i.beparams.memory).toBe(128);
    await expect(c.instances.get("nosuchinstance.ganeti.test")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("create() sends the version-1 body and waits, with logs", async () => {
    mockJob("captures", 29);
    const c = testClient();
    const h = c.instances.create({
      mode: "create",
      name: "inst1.ganeti.test",
      disk_template: "diskless",
      disks: [],
      nics: [{}],
      os: "noop",
      hypervisor: "fake",
      beparams: { memory: 128, vcpus: 1 },
    });
    expect(await h).toBe(6);
    const logs: string[] = [];
    const statuses: string[] = [];
    const result = await h.wait({ onLog: (l) => logs.push(l.message), onStatus: (s) => statuses.push(s) });
    expect(result).toEqual([["node1.ganeti.test"]]);
    expect(logs[0]).toContain("Selected nodes for instance inst1.ganeti.test");
    expect(logs.length).toBe(5);
    expect(statuses.at(-1)).toBe("success");
  });

  it("create({dryRun}) → ?dry-run=1", async () => {
    mockJob("captures", 76);
    const body = capture(76).request_body as Record<string, unknown>;
    const { __version__, ...params } = body;
    expect(__version__).toBe(1);
    const h = testClient().instances.create(params as never, { dryRun: true });
    await h.wait();
  });

  it("create() with a bad parameter → BadRequestError with unescaped message", async () => {
    mock("captures", 393);
    const body = capture(393).request_body as Record<string, unknown>;
    const { __version__: _v, ...params } = body;
    const err = await testClient()
      .instances.create(params as never)
      .then(
        () => null,
        (e: unknown) => e,
      );
    expect(err).toBeInstanceOf(BadRequestError);
    expect((err as BadRequestError).rapiMessage).toBe(
      "Invalid body parameters: Object OpInstanceCreate doesn't support the parameter 'bogus_param'",
    );
    expect((err as BadRequestError).status).toBe(400);
    expect((err as BadRequestError).code).toBe("bad_request");
  });

  it("info() submits OP_INSTANCE_QUERY_DATA; static=1", async () => {
    mockJob("captures", 86);
    mockJob("captures", 92);
    const c = testClient();
    const [r] = await c.instances.info("inst2.ganeti.test").wait();
    expect(Object.keys(r)).toEqual(["inst2.ganeti.test"]);
    const [s] = await c.instances.info("inst1.ganeti.test", { static: true }).wait();
    expect(s["inst1.ganeti.test"]?.run_state).toBeNull();
  });

  it("info() of an unknown instance → JobFailedError(unknown_entity)", async () => {
    mockJob("captures", 350);
    const err = (await testClient()
      .instances.info("nosuchinstance.ganeti.test")
      .wait()
      .catch((e: unknown) => e)) as JobFailedError;
    expect(err).toBeInstanceOf(JobFailedError);
    expect(err.ecode).toBe("unknown_entity");
    expect(err.code).toBe("unknown_entity");
    expect(err.errorClass).toBe("OpPrereqError");
    expect(err.opId).toBe("OP_INSTANCE_QUERY_DATA");
    expect(err.opIndex).toBe(0);
    expect(err.errorMessage).toBe("Instance 'nosuchinstance.ganeti.test' not known");
  });

  it("console()", async () => {
    mock("captures", 96);
    const con = await testClient().instances.console("inst1.ganeti.test");
    expect(con.kind).toBe("msg");
  });

  it("shutdown(), shutdown(noRemember, timeout), startup(), reboot(type)", async () => {
    mockJob("captures", 99);
    mockJob("captures", 134);
    mockJob("captures", 111);
    mockJob("captures", 117);
    const c = testClient();
    await c.instances.shutdown("inst1.ganeti.test").wait();
    await c.instances.shutdown("inst4.ganeti.test", { timeout: 10 }, { noRemember: true }).wait();
    await c.instances.startup("inst1.ganeti.test").wait();
    expect(await c.instances.reboot("inst1.ganeti.test", { type: "soft" }).wait()).toEqual([null]);
  });

  it("modify() returns the change list; empty modify fails the job", async () => {
    mockJob("captures", 141);
    mockJob("captures", 164);
    const c = testClient();
    const [changes] = await c.instances.modify("inst1.ganeti.test", { beparams: { maxmem: 256, minmem: 256, vcpus: 2 } }).wait();
    expect(changes).toEqual([
      ["be/maxmem", 256],
      ["be/minmem", 256],
      ["be/vcpus", 2],
    ]);
    await expect(c.instances.modify("inst1.ganeti.test", {}).wait()).rejects.toMatchObject({
      name: "JobFailedError",
      ecode: "wrong_input",
      errorMessage: "No changes submitted",
    });
  });

  it("migrate()/failover() on one node fail with ecodes; rename(); reinstall()", async () => {
    mockJob("captures", 435);
    mockJob("captures", 441);
    mockJob("captures", 447);
    mock("captures", 453);
    const c = testClient();
    await expect(c.instances.migrate("inst1.ganeti.test").wait()).rejects.toBeInstanceOf(JobFailedError);
    await expect(c.instances.failover("inst3.ganeti.test").wait()).rejects.toBeInstanceOf(JobFailedError);
    const rn = c.instances.rename("inst4.ganeti.test", "inst7.ganeti.test", { ip_check: false, name_check: false });
    await expect(rn.wait()).rejects.toMatchObject({ ecode: "wrong_state" });
    expect(await c.instances.reinstall("inst1.ganeti.test", { start: true, os: "noop" })).toBe(capture(453).response_body);
  });

  it("multiAlloc() waits for the follow-up creation jobs", async () => {
    mockJob("captures", 458);
    const req = capture(458).request_body as never;
    const h = testClient().instances.multiAlloc(req);
    const [res] = (await h.wait({ followUp: false })) as [{ jobs: unknown[] }];
    expect(res.jobs).toEqual([
      [true, 68],
      [true, 69],
    ]);
  });

  it("remove() and remove({dryRun})", async () => {
    mockJob("captures", 475);
    mockJob("captures", 494);
    const c = testClient();
    await c.instances.remove("inst8.ganeti.test").wait();
    await c.instances.remove("inst2.ganeti.test", {}, { dryRun: true }).wait();
  });

  it("disk operations hit their paths", async () => {
    const base = capture(99);
    const c = testClient();
    const cases: [() => PromiseLike<number>, string, string, unknown, [string, string | number][]][] = [
      [() => c.instances.activateDisks("i1", { ignoreSize: true }), "PUT", "/2/instances/i1/activate-disks", null, [["ignore_size", 1]]],
      [() => c.instances.deactivateDisks("i1", { force: true }), "PUT", "/2/instances/i1/deactivate-disks", null, [["force", 1]]],
      [() => c.instances.recreateDisks("i1", { disks: [0] }), "POST", "/2/instances/i1/recreate-disks", { disks: [0] }, []],
      [() => c.instances.growDisk("i1", 0, { amount: 1024 }), "POST", "/2/instances/i1/disk/0/grow", { amount: 1024 }, []],
      [
        () => c.instances.replaceDisks("i1", { mode: "replace_auto" }),
        "POST",
        "/2/instances/i1/replace-disks",
        { mode: "replace_auto" },
        [],
      ],
      [() => c.instances.prepareExport("i1", "local"), "PUT", "/2/instances/i1/prepare-export", null, [["mode", "local"]]],
      [
        () => c.instances.export("i1", { mode: "local", destination: "node1" }),
        "PUT",
        "/2/instances/i1/export",
        { mode: "local", destination: "node1" },
        [],
      ],
    ];
    let id = 900;
    for (const [call, method, path, body, query] of cases) {
      mockCapture({ ...base, method, path, request_body: body, query, response_body: ++id });
      expect(await call()).toBe(id);
    }
  });
});

describe("client.instances (3-node captures)", () => {
  it("migrate() a diskless instance succeeds; a file one fails with wrong_state", async () => {
    mockJob("captures-3node", 473);
    mockJob("captures-3node", 528);
    const c = testClient();
    const logs: string[] = [];
    expect(
      await c.instances
        .migrate("inst1.ganeti.test", { mode: "live", target_node: "node2.vc.ganeti.test" })
        .wait({ onLog: (l) => logs.push(l.message) }),
    ).toEqual([null]);
    expect(logs.some((m) => /[Mm]igrat/.test(m))).toBe(true);
    await expect(c.instances.migrate("inst2.ganeti.test").wait()).rejects.toMatchObject({ ecode: "wrong_state" });
  });

  it("failover() a sharedfile instance", async () => {
    mockJob("captures-3node", 516);
    await testClient().instances.failover("inst3.ganeti.test", { target_node: "node1.vc.ganeti.test" }).wait();
  });
});
