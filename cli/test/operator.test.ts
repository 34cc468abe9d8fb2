// Operator experience: confirmation of destructive verbs, typo suggestions,
// Ganeti-worded errors, and parents of several jobs reporting each child.
import nock from "nock";
import { describe, expect, it } from "vitest";
import { ConnectionError, NotFoundError, RapiError } from "@ganeti-ts/sdk";
import { BASE, useNock } from "../../sdk/test/helpers/captures.js";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { describeError } from "../src/errors.js";
import { findLocalMaster, localAdminSocket, requireLocalMaster } from "../src/local-master.js";
import { suggestSimilar } from "../src/suggest.js";
import { gnt } from "./helpers.js";

useNock();

const INST = "inst1.example.com";

/** A finished job as GET /2/jobs/ID/wait and GET /2/jobs/ID answer it. */
function nockJob(id: number, status: "success" | "error", opresult: unknown[], opId = "OP_INSTANCE_MIGRATE", log: string[] = []): void {
  const oplog = log.map((m, i) => [i + 1, [1795578581, 0], "message", m]);
  nock(BASE)
    .get(`/2/jobs/${id}/wait`)
    .reply(200, { job_info: [status], log_entries: oplog });
  nock(BASE)
    .get(`/2/jobs/${id}`)
    .reply(200, {
      id,
      ops: [{ OP_ID: opId }],
      status,
      summary: [opId],
      opstatus: [status],
      opresult,
      oplog: [oplog],
      opstart: [[1795578580, 0]],
      opexec: [[1795578580, 500000]],
      opend: [[1795578582, 0]],
      received_ts: [1795578579, 0],
      start_ts: [1795578580, 0],
      end_ts: [1795578582, 0],
    });
}

/** A parent job (node migrate, evacuate, ...) whose result lists its children as [submitted, id or error]. */
const nockParent = (id: number, jobs: [boolean, number | string][], opId: string): void => nockJob(id, "success", [{ jobs }], opId);

/** PUT /2/query/node answering one node with its instance lists (the fields in the order given). */
function nodeQuery(node: string, lists: { pinst_list?: string[]; sinst_list?: string[] }): void {
  const cols = Object.entries(lists);
  const title = (f: string) => (f === "pinst_list" ? "PriInstances" : "SecInstances");
  nock(BASE)
    .put("/2/query/node")
    .reply(200, {
      fields: [
        { name: "name", title: "Node", kind: "text", doc: "" },
        ...cols.map(([f]) => ({ name: f, title: title(f), kind: "other", doc: "" })),
      ],
      data: [[[0, node], ...cols.map(([, v]) => [0, v])]],
    });
}

const instanceGet = (name = INST) =>
  nock(BASE)
    .put("/2/query/instance", { fields: ["name"], qfilter: ["==", "name", name], filter: ["==", "name", name] })
    .reply(200, { fields: [{ name: "name", title: "Instance", kind: "text", doc: "" }], data: name === INST ? [[[0, name]]] : [] });

describe("confirmation of destructive verbs", () => {
  it("instance remove without --force and without a terminal refuses, saying how to confirm; nothing is submitted", async () => {
    instanceGet();
    const r = await gnt(["instance", "remove", INST]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`This will remove the volumes of the instance ${INST} (including mirrors), thus removing all the data`);
    expect(r.err).toContain("stdin is not a terminal");
    expect(r.err).toContain("--force");
  });

  it("on a terminal: the question ends in y/[n]/?; 'n' (or nothing) aborts, 'y' removes", async () => {
    instanceGet();
    const asked: string[] = [];
    let r = await gnt(["instance", "remove", INST], {}, "gnt", { answers: ["n"], asked });
    expect(r.code).toBe(1);
    expect(asked[0]).toMatch(/Continue\?\ny\/\[n\]\/\?: $/);
    // Ganeti wraps the question at 70 columns.
    expect(asked[0]!.split("\n").every((l) => l.length <= 70)).toBe(true);

    instanceGet();
    nock(BASE).delete(`/2/instances/${INST}`).reply(200, "77");
    nockJob(77, "success", [null], "OP_INSTANCE_REMOVE");
    r = await gnt(["instance", "remove", INST], {}, "gnt", { answers: ["?", "y"], asked });
    expect(r.code).toBe(0);
    expect(r.err).toContain("y - Perform the operation");
  });

  it("--force / -f skips the question", async () => {
    nock(BASE).delete(`/2/instances/${INST}`).reply(200, "78");
    nockJob(78, "success", [null], "OP_INSTANCE_REMOVE");
    expect((await gnt(["instance", "remove", "-f", INST])).code).toBe(0);
  });

  it("an unknown instance is reported before any question (Ganeti's wording)", async () => {
    instanceGet("nosuch.example.com");
    const r = await gnt(["instance", "remove", "nosuch.example.com"], {}, "gnt", { answers: ["y"] });
    expect(r).toMatchObject({ code: 1, err: "gnt: Instance 'nosuch.example.com' not known" });
  });

  it("reinstall, failover and migrate ask too", async () => {
    for (const [verb, text] of [
      ["reinstall", `This will reinstall the instance '${INST}' (and keep the same OS) which removes all data. Continue?`],
      ["failover", `Failover will happen to image ${INST}. This requires a shutdown of the instance. Continue?`],
      ["migrate", `Instance ${INST} will be migrated. Note that migration might impact the instance`],
    ] as const) {
      instanceGet();
      const r = await gnt(["instance", verb, INST]);
      expect(r.code, verb).toBe(1);
      expect(r.err).toContain(text);
    }
  });

  it("node powercycle asks (--yes-do-it or --force confirm), exit 2 like Ganeti", async () => {
    const r = await gnt(["node", "powercycle", "node2.example.com"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain("Are you sure you want to hard powercycle node node2.example.com?");
    expect(r.err).toContain("--yes-do-it");
    nock(BASE).post("/2/nodes/node2.example.com/powercycle").reply(200, "90");
    nockJob(90, "success", ["ok"], "OP_NODE_POWERCYCLE");
    expect((await gnt(["node", "powercycle", "--yes-do-it", "node2.example.com"])).code).toBe(0);
  });

  it("node migrate asks naming the instances; exit 13 (Ganeti's EXIT_CONFIRMATION) when not confirmed", async () => {
    nodeQuery("node1.example.com", { pinst_list: ["web10", "web2"] });
    const r = await gnt(["node", "migrate", "node1.example.com"]);
    expect(r.code).toBe(13);
    expect(r.err).toContain("Migrate instance(s) web2, web10?");
  });

  it("cluster destroy and node remove refuse without a terminal (Ganeti's --yes-do-it)", async () => {
    const d = await gnt(["cluster", "destroy", "--data-dir", "/nonexistent/gnt-test-cluster"], {}, "gnt", { local: true });
    expect(d.code).toBe(1);
    expect(d.err).toContain("Destroying a cluster is irreversible");
    expect(d.err).toContain("--yes-do-it");
    const n = await gnt(["node", "remove", "--master-data-dir", "/nonexistent/gnt-test-master", "node2"], {}, "gnt", { local: true });
    expect(n.code).toBe(2);
    expect(n.err).toContain("is not a master's data directory");
  });
});

describe("typo suggestions never propose a destructive verb", () => {
  it("a harmless verb is suggested, a destructive one never", async () => {
    const list = await gnt(["instance", "lsit"]);
    expect(list.code).toBe(2);
    expect(list.err).toContain("(Did you mean list?)");
    for (const [noun, typo] of [
      ["instance", "remov"],
      ["instance", "reinstal"],
      ["instance", "migrat"],
      ["instance", "failovr"],
      ["node", "evacuat"],
      ["node", "powercycl"],
      ["node", "remov"],
      ["cluster", "destory"],
      ["instance", "shutdwn"],
    ] as const) {
      const r = await gnt([noun, typo], {}, "gnt", { local: true });
      expect(r.code, typo).toBe(2);
      expect(r.err, typo).toContain(`unknown command '${typo}'`);
      expect(r.err, typo).not.toMatch(/Did you mean/);
    }
  });

  it("suggestSimilar keeps commander's wording", () => {
    expect(suggestSimilar("lst", ["list", "info"])).toBe("\n(Did you mean list?)");
    expect(suggestSimilar("zzzzzz", ["list", "info"])).toBe("");
  });
});

describe("errors read like Ganeti's and say what to do", () => {
  const conn = (code: string, message: string, cause?: string) =>
    new ConnectionError(`GET /2/info: ${message}`, code, { cause: Object.assign(new Error(cause ?? message), { code }) });

  it("404 of an object: Ganeti's 'not known' / 'not found' text", () => {
    const nf = (path: string) => new NotFoundError({ status: 404, message: "Not Found", explain: "", method: "GET", path });
    expect(describeError(nf("/2/instances/web1")).line).toBe("Instance 'web1' not known");
    expect(describeError(nf("/2/nodes/n9")).line).toBe("Node 'n9' not known");
    expect(describeError(nf("/2/groups/g")).line).toBe("Node group 'g' not found");
    expect(describeError(nf("/2/jobs/99")).line).toBe("Job ID 99 not found");
  });

  it("other RAPI errors: the server's message, no raw status tuple", () => {
    const e = new RapiError({ status: 400, message: "Invalid alloc_policy 'x'", explain: "", method: "PUT", path: "/2/groups/g/modify" });
    expect(describeError(e).line).toBe("Invalid alloc_policy 'x' (400 for PUT /2/groups/g/modify)");
  });

  it("refused connection, http:// against https, https:// against http, wrong CA, missing CA file", () => {
    const refused = describeError(conn("ECONNREFUSED", "connect ECONNREFUSED 127.0.0.1:5080"), { url: "https://127.0.0.1:5080" });
    expect(refused.exitCode).toBe(3);
    expect(refused.line).toMatch(/connection refused\.\nIs the process running and listening for connections\? .*--url or GANETI_RAPI_URL/);
    expect(describeError(conn("ECONNRESET", "socket hang up"), { url: "http://127.0.0.1:5080" }).line).toContain(
      "it probably speaks HTTPS (the RAPI's default). Use https://127.0.0.1:5080.",
    );
    expect(describeError(conn("EPROTO", "write EPROTO ... wrong version number"), { url: "https://127.0.0.1:5080" }).line).toContain(
      "does not speak HTTPS (a cluster created with --no-ssl serves plain HTTP). Use http://127.0.0.1:5080.",
    );
    const wrongCa = describeError(conn("DEPTH_ZERO_SELF_SIGNED_CERT", "self-signed certificate"), {
      url: "https://127.0.0.1:5080",
      ca: "/etc/other.pem",
    });
    expect(wrongCa.line).toContain("is not signed by the CA file /etc/other.pem (self-signed certificate)");
    expect(wrongCa.line).toContain("--ca DATA_DIR/rapi.pem");
    const missing = Object.assign(new Error("ENOENT: no such file or directory, open '/x.pem'"), { code: "ENOENT", path: "/x.pem" });
    expect(describeError(missing, { ca: "/x.pem" }).line).toBe(
      "The CA file /x.pem does not exist (--ca / GANETI_RAPI_CA): give the cluster's rapi.pem.",
    );
  });

  it("a failed job's error is worded, never a raw tuple", async () => {
    nock(BASE).post("/2/nodes/node1.example.com/migrate").reply(200, "5");
    nockJob(5, "error", [["OpPrereqError", ["Node 'node1.example.com' has no instances", "wrong_state"]]], "OP_NODE_MIGRATE");
    nodeQuery("node1.example.com", { pinst_list: ["a"] });
    const r = await gnt(["node", "migrate", "-f", "node1.example.com"]);
    expect(r.code).toBe(1);
    expect(r.err).toBe("gnt: Job 5 failed: OpPrereqError: Node 'node1.example.com' has no instances (wrong_state)");
  });

  it("on the master, a user who may not use the admin socket is told to retry as root or give credentials", async () => {
    const r = await gnt(["instance", "list"], { GANETI_RAPI_URL: "", GANETI_RAPI_USER: "" }, "gnt", {
      adminSocket: () => ({ socket: "/var/lib/ganeti-ts/rapi.sock", usable: false, why: "EACCES" }),
    });
    expect(r.code).toBe(1);
    expect(r.err).toContain("permissions to connect to the master's local socket /var/lib/ganeti-ts/rapi.sock (EACCES)");
    expect(r.err).toContain("Retry as root, or give RAPI credentials");
  });
});

describe("parents of several jobs report every child", () => {
  it("node migrate: each child's id, status and error; exit 1 when any failed", async () => {
    nodeQuery("node1.example.com", { pinst_list: ["a", "b", "c"] });
    nock(BASE).post("/2/nodes/node1.example.com/migrate").reply(200, "10");
    nockParent(
      10,
      [
        [true, 11],
        [true, 12],
        [true, 13],
      ],
      "OP_NODE_MIGRATE",
    );
    nockJob(11, "success", [null], "OP_INSTANCE_MIGRATE", ["* migrating instance a"]);
    nockJob(12, "error", [["OpExecError", ["Could not migrate instance b: target down"]]], "OP_INSTANCE_MIGRATE");
    nockJob(13, "success", [null], "OP_INSTANCE_MIGRATE");
    const r = await gnt(["node", "migrate", "-f", "node1.example.com"]);
    expect(r.code).toBe(1);
    expect(r.out).toContain("Submitted jobs 11, 12, 13");
    expect(r.out).toContain("* migrating instance a");
    expect(r.out).toMatch(/^Job 11: success$/m);
    expect(r.out).toMatch(/^Job 13: success$/m);
    expect(r.err).toMatch(/^Job 12: error: OpExecError: Could not migrate instance b: target down$/m);
    expect(r.out.split("\n").at(-1)).toBe("There were 1 errors during the node migration.");
  });

  it("--output json lists every child", async () => {
    nodeQuery("node1.example.com", { pinst_list: ["a"], sinst_list: [] });
    nock(BASE).post("/2/nodes/node1.example.com/evacuate").reply(200, "20");
    nockParent(
      20,
      [
        [true, 21],
        [false, "job queue full"],
      ],
      "OP_NODE_EVACUATE",
    );
    nockJob(21, "success", [null], "OP_INSTANCE_REPLACE_DISKS");
    const r = await gnt(["--output", "json", "node", "evacuate", "-f", "node1.example.com"]);
    expect(r.code).toBe(1);
    expect(JSON.parse(r.out)).toEqual({
      jobs: [
        { job_id: 21, status: "success" },
        { job_id: null, status: "not submitted", error: "job queue full" },
      ],
      failed: 1,
    });
  });
});

describe("node evacuate -n", () => {
  it("evacuates secondaries only, as Ganeti's client does, and says so", async () => {
    nodeQuery("node2.example.com", { sinst_list: ["d1"] });
    let body: unknown;
    nock(BASE)
      .post("/2/nodes/node2.example.com/evacuate", (b: unknown) => ((body = b), true))
      .reply(200, "30");
    nockParent(30, [[true, 31]], "OP_NODE_EVACUATE");
    nockJob(31, "success", [null], "OP_INSTANCE_REPLACE_DISKS");
    const r = await gnt(["node", "evacuate", "-f", "-n", "node3.example.com", "node2.example.com"]);
    expect(r.err).toContain("New secondary node given (disabling iallocator), hence evacuating secondary instances only.");
    expect(body).toEqual({ mode: "secondary-only", remote_node: "node3.example.com" });
    expect(r.out.split("\n").at(-1)).toBe("All instances evacuated successfully.");
    expect(r.code).toBe(0);
  });
});

describe("instance modify -t drbd -I", () => {
  it("sends the iallocator that chooses the new secondary", async () => {
    let body: unknown;
    nock(BASE)
      .put("/2/instances/c1.example.com/modify", (b: unknown) => ((body = b), true))
      .reply(200, "40");
    nockJob(40, "success", [[["disk_template", "drbd"]]], "OP_INSTANCE_SET_PARAMS");
    const r = await gnt(["instance", "modify", "-t", "drbd", "-I", "hail", "c1.example.com"]);
    expect(body).toEqual({ disk_template: "drbd", iallocator: "hail" });
    expect(r.out).toBe("Modified instance c1.example.com\n - disk_template -> drbd");
    expect(r.code).toBe(0);
  });
});

describe("Python tuples from the RAPI are never shown", () => {
  it("a 500 carrying ('message', 'ecode') reads as the message and its ECODE", () => {
    const e = new RapiError({
      status: 500,
      message: "('Instance name nosuch.example.com not found', 'unknown_entity')",
      explain: "",
      method: "PUT",
      path: "/2/query/instance",
    });
    expect(describeError(e).line).toBe("Instance name nosuch.example.com not found (unknown_entity)");
  });

  it("node info of an unknown node", async () => {
    nock(BASE).put("/2/query/node").reply(500, { code: 500, message: "('Node name nosuch not found', 'unknown_entity')", explain: "" });
    const r = await gnt(["node", "info", "nosuch"]);
    expect(r).toMatchObject({ code: 1, err: "gnt: Node name nosuch not found (unknown_entity)" });
  });
});

describe("finding the local master", () => {
  it("GANETI_DATA_DIR, ./.demo, or a message naming the option; node remove then asks", async () => {
    const root = mkdtempSync(path.join(tmpdir(), "gnt-local-master-"));
    try {
      const master = path.join(root, "m");
      const empty = path.join(root, "e");
      mkdirSync(master);
      mkdirSync(empty);
      writeFileSync(path.join(master, "master.json"), "{}");
      expect(findLocalMaster({ GANETI_DATA_DIR: master })).toBe(master);
      expect(findLocalMaster({ GANETI_DATA_DIR: empty })).toBeNull();
      expect(findLocalMaster({}, empty)).toBeNull();
      mkdirSync(path.join(empty, ".demo"));
      writeFileSync(path.join(empty, ".demo", "master.json"), "{}");
      expect(findLocalMaster({}, empty)).toBe(path.join(empty, ".demo"));
      expect(() => requireLocalMaster(undefined, { GANETI_DATA_DIR: path.join(root, "none") })).toThrow(
        /holds no master \(no master\.json\): give the master's data directory with --master-data-dir DIR/,
      );
      expect(requireLocalMaster(master, {})).toBe(master);
      // The socket's permission check decides whether this user may use it.
      const denied = localAdminSocket({ GANETI_DATA_DIR: master }, () => {
        throw Object.assign(new Error("denied"), { code: "EACCES" });
      });
      expect(denied).toEqual({ socket: path.join(master, "rapi.sock"), usable: false, why: "EACCES" });
      expect(localAdminSocket({ GANETI_DATA_DIR: master })).toBeNull(); // no socket: the master is not running

      const r = await gnt(["node", "remove", "--master-data-dir", master, "node2.example.com"], {}, "gnt", { local: true });
      expect(r.code).toBe(1);
      expect(r.err).toContain("This will remove node node2.example.com from the cluster and stop its daemons. Continue?");
      expect(r.err).toContain("--force");
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });
});

describe("any verb whose job submits children reports each one", () => {
  it("a parent result {jobs: [...]} is followed child by child, not stopped at the first failure", async () => {
    nock(BASE).put("/2/redistribute-config").reply(200, "30");
    nockParent(
      30,
      [
        [true, 31],
        [true, 32],
      ],
      "OP_CLUSTER_REDIST_CONF",
    );
    nockJob(31, "error", [["OpExecError", ["first child failed"]]], "OP_X");
    nockJob(32, "success", [null], "OP_X");
    const r = await gnt(["cluster", "redist-conf"]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/^Job 31: error: OpExecError: first child failed$/m);
    expect(r.out).toMatch(/^Job 32: success$/m);
    expect(r.out.split("\n").at(-1)).toBe("1 of 2 jobs failed.");
  });
});
