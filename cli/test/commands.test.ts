import nock from "nock";
import { describe, expect, it } from "vitest";
import { BASE, capture, mock, mockCapture, mockJob, useNock } from "../../sdk/test/helpers/captures.js";
import { gnt } from "./helpers.js";

useNock();

const QR = (fields: [string, string, string][], rows: unknown[][]) => ({
  fields: fields.map(([name, title, kind]) => ({ name, title, kind, doc: name })),
  data: rows.map((r) => r.map((v) => [0, v])),
});

describe("gnt instance", () => {
  it("list: default fields through /2/query, gnt-style table", async () => {
    nock(BASE)
      .put("/2/query/instance", { fields: ["name", "hypervisor", "os", "pnode", "status", "oper_ram"] })
      .reply(
        200,
        QR(
          [
            ["name", "Instance", "text"],
            ["hypervisor", "Hypervisor", "text"],
            ["os", "OS", "text"],
            ["pnode", "Primary_node", "text"],
            ["status", "Status", "text"],
            ["oper_ram", "Memory", "unit"],
          ],
          [["inst1.ganeti.test", "fake", "noop", "node1.ganeti.test", "running", 128]],
        ),
      );
    const r = await gnt(["instance", "list"]);
    expect(r.code).toBe(0);
    expect(r.out.split("\n")).toEqual([
      "Instance          Hypervisor OS   Primary_node      Status  Memory",
      "inst1.ganeti.test fake       noop node1.ganeti.test running   128M",
    ]);
  });

  it("gnt-instance alias, -o, --no-headers, --separator (captured query)", async () => {
    mock("captures", 339);
    const r = await gnt(
      ["list", "-o", "name,admin_state,oper_ram,nic.macs", "--no-headers", "--separator", "|"],
      {},
      "/usr/local/bin/gnt-instance",
    );
    expect(r.code).toBe(0);
    expect(r.out.split("\n")[0]).toMatch(/^inst1\.ganeti\.test\|up\|128M\|aa:00:00:/);
  });

  it("list NAMES filters by name; --output json gives objects", async () => {
    nock(BASE)
      .put("/2/query/instance", {
        fields: ["name", "status"],
        qfilter: ["|", ["==", "name", "inst1"]],
        filter: ["|", ["==", "name", "inst1"]],
      })
      .reply(
        200,
        QR(
          [
            ["name", "Instance", "text"],
            ["status", "Status", "text"],
          ],
          [["inst1", "running"]],
        ),
      );
    const r = await gnt(["--output", "json", "instance", "list", "-o", "name,status", "inst1"]);
    expect(JSON.parse(r.out)).toEqual([{ name: "inst1", status: "running" }]);
  });

  it("info: Ganeti's layout from OP_INSTANCE_QUERY_DATA (dates, sizes with units); --output json the query data", async () => {
    mockJob("captures", 86);
    const r = await gnt(["instance", "info", "inst2.ganeti.test"]);
    expect(r.code).toBe(0);
    const lines = r.out.split("\n");
    expect(lines[0]).toBe("- Instance name: inst2.ganeti.test");
    expect(r.out).toMatch(/^ {2}Creation time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
    expect(r.out).toContain("  State: configured to be up, actual state is up");
    expect(r.out).toMatch(/^ {4}- primary: node1\.ganeti\.test$/m);
    expect(r.out).toMatch(/^ {4}maxmem: 128M$/m);
    expect(r.out).toMatch(/^ {4}vcpus: default \(1\)$/m);
    expect(r.out).toMatch(/^ {4}- disk\/0: file, size 1\.0G$/m);
    expect(r.out).toMatch(/^ {6}access mode: rw$/m);
    mockJob("captures", 86);
    const j = await gnt(["instance", "info", "inst2.ganeti.test", "--output", "json"]);
    expect(JSON.parse(j.out)).toMatchObject({ name: "inst2.ganeti.test", disk_template: "file" });
  });

  it("info of an unknown instance: Ganeti's message, exit 1", async () => {
    nock(BASE).get("/2/instances/nosuchinstance.ganeti.test/info").reply(200, "70");
    nock(BASE)
      .get("/2/jobs/70/wait")
      .reply(200, { job_info: ["error"], log_entries: [] });
    nock(BASE)
      .get("/2/jobs/70")
      .reply(200, {
        id: 70,
        ops: [{ OP_ID: "OP_INSTANCE_QUERY_DATA" }],
        status: "error",
        summary: ["INSTANCE_QUERY_DATA"],
        opstatus: ["error"],
        opresult: [["OpPrereqError", ["Instance 'nosuchinstance.ganeti.test' not known", "unknown_entity"]]],
        oplog: [[]],
        received_ts: [1795578812, 0],
        start_ts: [1795578812, 0],
        end_ts: [1795578812, 0],
      });
    const r = await gnt(["instance", "info", "nosuchinstance.ganeti.test"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("gnt: Job 70 failed: OpPrereqError: Instance 'nosuchinstance.ganeti.test' not known (unknown_entity)");
  });

  it("add: builds the v1 body, waits and streams the job log", async () => {
    const sub = capture(29);
    mockCapture({
      ...sub,
      request_body: {
        __version__: 1,
        mode: "create",
        instance_name: "inst1.ganeti.test",
        disk_template: "diskless",
        disks: [],
        nics: [{}],
        os_type: "noop",
        hypervisor: "fake",
        hvparams: {},
        beparams: { memory: 128, vcpus: 1 },
        name_check: false,
        ip_check: false,
      },
    });
    for (let i = 31; i <= 38; i++) mockCapture(capture(i));
    const r = await gnt([
      "instance",
      "add",
      "-t",
      "diskless",
      "-o",
      "noop",
      "-H",
      "fake",
      "-B",
      "memory=128,vcpus=1",
      "--no-name-check",
      "inst1.ganeti.test",
    ]);
    expect(r.err).toContain("Submitted job 6, waiting...");
    expect(r.err).toContain("Selected nodes for instance inst1.ganeti.test via iallocator hail");
    expect(r.out).toBe("Instance inst1.ganeti.test created on node1.ganeti.test");
    expect(r.code).toBe(0);
  });

  it("--submit prints the job id and does not wait", async () => {
    mockCapture(capture(99));
    const r = await gnt(["instance", "shutdown", "--submit", "inst1.ganeti.test"]);
    expect(r).toMatchObject({ code: 0, out: "13" });
  });

  it("a failed job: one-line error with class and ecode, exit 1", async () => {
    mockJob("captures", 354);
    const r = await gnt(["instance", "startup", "nosuchinstance.ganeti.test"]);
    expect(r.code).toBe(1);
    expect(r.err.split("\n").at(-1)).toMatch(
      /^gnt: Job \d+ failed: OpPrereqError: Instance 'nosuchinstance.ganeti.test' not known \(unknown_entity\)$/,
    );
  });

  it("modify prints the changes; reboot --type; migrate; remove --dry-run", async () => {
    mockJob("captures", 141);
    mockJob("captures", 117);
    mockJob("captures", 494);
    let r = await gnt(["instance", "modify", "-B", "maxmem=256,minmem=256,vcpus=2", "inst1.ganeti.test"]);
    expect(r.out).toBe("Modified instance inst1.ganeti.test\n - be/maxmem -> 256\n - be/minmem -> 256\n - be/vcpus -> 2");
    r = await gnt(["instance", "reboot", "-t", "soft", "inst1.ganeti.test"]);
    expect(r.code).toBe(0);
    r = await gnt(["instance", "remove", "--dry-run", "inst2.ganeti.test"]);
    expect(r.code).toBe(0);
  });

  it("tags: add-tags / list-tags", async () => {
    mockJob("captures", 179);
    mock("captures", 184);
    expect((await gnt(["instance", "add-tags", "inst1.ganeti.test", "env:oracle", "role:test"])).code).toBe(0);
    expect((await gnt(["instance", "list-tags", "inst1.ganeti.test"])).out.split("\n").sort()).toEqual(["env:oracle", "role:test"]);
  });
});

describe("gnt node / group / network / job / cluster / os", () => {
  it("node role (get and set), node list-fields", async () => {
    mock("captures", 11);
    mockJob("captures-3node", 548);
    mock("captures", 345);
    expect((await gnt(["node", "role", "node1.ganeti.test"])).out).toBe("master");
    expect((await gnt(["node", "role", "--auto-promote", "node2.vc.ganeti.test", "drained"])).code).toBe(0);
    const f = await gnt(["instance", "list-fields", "name", "status"]);
    expect(f.out.split("\n")[0]).toMatch(/^Name\s+Type\s+Title\s+Description$/);
  });

  it("group add / rename; network add / connect", async () => {
    mockJob("captures", 243, { requestBody: { group_name: "capgrp", alloc_policy: "preferred" } });
    mockJob("captures", 262);
    mockJob("captures", 279, {
      requestBody: {
        network_name: "capnet",
        network: "10.250.3.0/24",
        gateway: "10.250.3.1",
        add_reserved_ips: ["10.250.3.2"],
        tags: ["net:cap"],
      },
    });
    mockJob("captures", 287);
    expect((await gnt(["group", "add", "--alloc-policy", "preferred", "capgrp"])).code).toBe(0);
    expect((await gnt(["group", "rename", "capgrp", "capgrp2"])).code).toBe(0);
    expect(
      (
        await gnt([
          "network",
          "add",
          "--network",
          "10.250.3.0/24",
          "--gateway",
          "10.250.3.1",
          "--add-reserved-ips",
          "10.250.3.2",
          "--tags",
          "net:cap",
          "capnet",
        ])
      ).code,
    ).toBe(0);
    expect((await gnt(["network", "connect", "-N", "mode=bridged,link=xen-br0", "capnet", "default"])).code).toBe(0);
  });

  it("job info: Ganeti's layout with dates, deltas, opcodes, input, result and log", async () => {
    const job = capture(38).response_body as Record<string, unknown>;
    const fields = [
      "id",
      "status",
      "ops",
      "opresult",
      "opstatus",
      "oplog",
      "opstart",
      "opexec",
      "opend",
      "received_ts",
      "start_ts",
      "end_ts",
    ];
    const values: Record<string, unknown> = {
      ...job,
      opstart: [[1795578580, 609968]],
      opexec: [[1795578580, 700000]],
      opend: [[1795578587, 319183]],
    };
    nock(BASE)
      .put("/2/query/job", { fields, qfilter: ["|", ["==", "id", 6]], filter: ["|", ["==", "id", 6]] })
      .reply(
        200,
        QR(
          fields.map((f) => [f, f, "other"] as [string, string, string]),
          [fields.map((f) => values[f])],
        ),
      );
    const info = await gnt(["job", "info", "6"]);
    expect(info.code).toBe(0);
    const out = info.out;
    expect(out.split("\n")[0]).toBe("- Job ID: 6");
    expect(out).toContain("  Status: success");
    expect(out).toMatch(/^ {2}Received: {9}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.014745$/m);
    expect(out).toMatch(/^ {2}Processing start: \S+ \S+ \(delta 1\.595223s\)$/m);
    expect(out).toContain("  Total processing time: 8.304438 seconds");
    expect(out).toMatch(/^ {4}- Opcode: OP_INSTANCE_CREATE$/m);
    expect(out).toMatch(/^ {6}Input fields: $/m);
    expect(out).toMatch(/^ {8}instance_name: inst1\.ganeti\.test$/m);
    expect(out).toMatch(/^ {6}Result: $/m);
    expect(out).toMatch(/^ {8}- node1\.ganeti\.test$/m);
    expect(out).toMatch(/^ {8}- Time: \S+ \S+$/m);
    expect(out).toMatch(/^ {10}Content: \[2, message, \* creating instance disks\.\.\.\]$/m);
  });

  it("job cancel; job watch of a finished job prints its log and result", async () => {
    mock("captures", 430);
    const cancel = await gnt(["job", "cancel", "62"]);
    expect(cancel.code).toBe(1);
    expect(cancel.out).toBe("Job 62 not found in queue");
    mock("captures", 38);
    const w = await gnt(["job", "watch", "6"]);
    expect(w.code).toBe(0);
    const lines = w.out.split("\n");
    expect(lines.slice(0, 2)).toEqual(["Output from job 6 follows", "-------------------------"]);
    expect(w.out).toMatch(/^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} \* creating instance disks\.\.\.$/m);
    expect(w.out).toMatch(/^- Result: \n {4}- node1\.ganeti\.test$/m);
  });

  it("cluster info (json), getmaster, os list", async () => {
    mock("captures", 5, 5, 7);
    const info = JSON.parse((await gnt(["--output", "json", "cluster", "info"])).out) as Record<string, unknown>;
    expect(info.name).toBe("cluster.ganeti.test");
    // The JSON is the RAPI's dict; the text says which engine replicates drbd disks, after the drbd helper.
    expect(info).not.toHaveProperty("drbd_replication_engine");
    mock("captures", 5);
    const lines = (await gnt(["cluster", "info"])).out.split("\n");
    const helper = lines.findIndex((l) => l.startsWith("drbd_usermode_helper:"));
    expect(lines[helper + 1]).toMatch(/^drbd_replication_engine: qemu-storage-daemon .*not the DRBD kernel driver\)$/);
    expect((await gnt(["cluster", "getmaster"])).out).toBe("node1.ganeti.test");
    expect((await gnt(["os", "list", "--no-headers"])).out.split("\n")).toEqual(capture(7).response_body);
  });
});

describe("errors and exit codes", () => {
  it("unknown command or missing argument → exit 2", async () => {
    expect((await gnt(["instance", "frobnicate"])).code).toBe(2);
    const r = await gnt(["instance", "startup"]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/missing required argument/);
  });

  it("connection refused → exit 3 with one line", async () => {
    nock(BASE)
      .get("/2/info")
      .times(3)
      .replyWithError(Object.assign(new Error("connect ECONNREFUSED 127.0.0.1:5080"), { code: "ECONNREFUSED" }));
    const r = await gnt(["cluster", "getmaster"]);
    expect(r.code).toBe(3);
    expect(r.err).toBe(
      "gnt: Cannot communicate with the master daemon at https://127.0.0.1:5080: connection refused.\n" +
        "Is the process running and listening for connections? If it listens elsewhere, name it with --url or GANETI_RAPI_URL " +
        '(on the master, "rapiUrl" in DATA_DIR/master.runtime.json).',
    );
  });

  it("401 → exit 1, and the password never printed", async () => {
    mockCapture(capture(415), { auth: false });
    const r = await gnt(["instance", "shutdown", "inst1.ganeti.test"], { GANETI_RAPI_PASSWORD: "wrong-pw" });
    expect(r.code).toBe(1);
    expect(r.err).toMatch(
      /^gnt: Authentication failed \(401\) for PUT \/2\/instances\/inst1\.ganeti\.test\/shutdown: give a RAPI user and password/,
    );
    expect(r.err + r.out).not.toContain("wrong-pw");
  });

  it("--help exits 0", async () => {
    const r = await gnt(["--help"]);
    expect(r.code).toBe(0);
    expect(r.out).toContain("Usage: gnt");
  });
});
