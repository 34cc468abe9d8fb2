import nock from "nock";
import { describe, expect, it } from "vitest";
import { AuthError, JobFailedError, NotFoundError } from "../../src/index.js";
import { BASE, capture, mock, mockCapture, mockJob, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.nodes", () => {
  it("list(), list({bulk}), get(), getRole(), iterate()", async () => {
    mock("captures", 8, 9, 10, 11, 97);
    const c = testClient();
    expect(await c.nodes.list()).toEqual([{ id: "node1.ganeti.test", uri: "/2/nodes/node1.ganeti.test" }]);
    const [n] = await c.nodes.list({ bulk: true });
    expect(n?.role).toBe("M");
    const one = await c.nodes.get("node1.ganeti.test");
    expect(one.secondary_ip).toBe("10.250.0.11");
    expect(await c.nodes.getRole("node1.ganeti.test")).toBe("master");
    const names: string[] = [];
    for await (const x of c.nodes.iterate()) names.push(x.name);
    expect(names).toEqual(["node1.ganeti.test"]);
  });

  it("get() of an unknown node → NotFoundError", async () => {
    mock("captures", 358);
    await expect(testClient().nodes.get("nosuchnode")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("storage() runs a job; without credentials → AuthError", async () => {
    mockJob("captures", 23);
    const c = testClient();
    const [rows] = await c.nodes
      .storage("node1.ganeti.test", {
        storage_type: "file",
        output_fields: ["name", "size", "used", "free", "allocatable"],
      })
      .wait();
    expect(rows[0]?.length).toBe(5);
    mockCapture(capture(424));
    const anon = testClient({ username: undefined, password: undefined });
    await expect(anon.nodes.storage("node1.ganeti.test", { storage_type: "file", output_fields: ["name"] })).rejects.toBeInstanceOf(
      AuthError,
    );
  });

  it("setRole() sends a bare JSON string body, with auto-promote", async () => {
    mockJob("captures-3node", 548);
    mockJob("captures-3node", 554);
    const c = testClient();
    const [changes] = await c.nodes.setRole("node2.vc.ganeti.test", "drained", { autoPromote: true }).wait();
    expect(changes).toEqual([
      ["master_candidate", "False"],
      ["drained", "True"],
    ]);
    const logs: string[] = [];
    await c.nodes.setRole("node2.vc.ganeti.test", "regular").wait({ onLog: (l) => logs.push(l.message) });
    expect(logs).toContain(" - INFO: Auto-promoting node to master candidate");
  });

  it("migrate() waits for the follow-up job in {jobs: [[true, id]]}", async () => {
    mockJob("captures-3node", 535);
    // The child job (486) was not recorded; answer it like any finished job.
    const scope = nock(BASE)
      .get("/2/jobs/486/wait", { fields: ["status"], previous_job_info: null, previous_log_serial: null })
      .reply(200, { job_info: ["success"], log_entries: [[1, [1795579302, 5], "message", "Migrating instance inst3.ganeti.test"]] })
      .get("/2/jobs/486")
      .reply(200, { ...(capture(540, "captures-3node").response_body as object), id: 486, opresult: [null] });
    const logs: string[] = [];
    const res = await testClient()
      .nodes.migrate("node2.vc.ganeti.test")
      .wait({ onLog: (l) => logs.push(`${l.jobId}:${l.message}`) });
    expect(res).toEqual([{ jobs: [[true, 486]] }]);
    expect(logs).toEqual(["486:Migrating instance inst3.ganeti.test"]);
    scope.done();
  });

  it("migrate({}, followUp: false) does not touch the child", async () => {
    mockJob("captures-3node", 535);
    const res = await testClient().nodes.migrate("node2.vc.ganeti.test").wait({ followUp: false });
    expect(res).toEqual([{ jobs: [[true, 486]] }]);
  });

  it("evacuate() surfaces the recorded OpExecError", async () => {
    mockJob("captures-3node", 542);
    const err = (await testClient()
      .nodes.evacuate("node2.vc.ganeti.test", { mode: "primary-only" })
      .wait()
      .catch((e: unknown) => e)) as JobFailedError;
    expect(err).toBeInstanceOf(JobFailedError);
    expect(err.errorClass).toBe("OpExecError");
    expect(err.ecode).toBeNull();
    expect(err.code).toBe("job_failed");
    expect(err.opId).toBe("OP_NODE_EVACUATE");
  });

  it("modify(), powercycle(), modifyStorage(), repairStorage() paths", async () => {
    const base = capture(99);
    const c = testClient();
    const cases: [() => PromiseLike<number>, string, string, unknown, [string, string | number][]][] = [
      [() => c.nodes.modify("n1", { drained: true }), "POST", "/2/nodes/n1/modify", { drained: true }, []],
      [() => c.nodes.powercycle("n1", { force: true }), "POST", "/2/nodes/n1/powercycle", null, [["force", 1]]],
      [
        () => c.nodes.modifyStorage("n1", { storage_type: "lvm-pv", name: "/dev/sda", allocatable: false }),
        "PUT",
        "/2/nodes/n1/storage/modify",
        null,
        [
          ["storage_type", "lvm-pv"],
          ["name", "/dev/sda"],
          ["allocatable", 0],
        ],
      ],
      [
        () => c.nodes.repairStorage("n1", { storage_type: "lvm-vg", name: "xenvg" }),
        "PUT",
        "/2/nodes/n1/storage/repair",
        null,
        [
          ["storage_type", "lvm-vg"],
          ["name", "xenvg"],
        ],
      ],
    ];
    let id = 700;
    for (const [call, method, path, body, query] of cases) {
      mockCapture({ ...base, method, path, request_body: body, query, response_body: ++id });
      expect(await call()).toBe(id);
    }
  });
});
