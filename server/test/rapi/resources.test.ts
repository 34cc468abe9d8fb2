import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { ADMIN, loadCapture, makeEnv, normalize, type Env } from "./harness.js";

let env: Env;
beforeEach(async () => {
  env = await makeEnv();
});
afterEach(async () => env.close());

const put = (url: string, body?: unknown, method = "PUT") =>
  env.app.inject({ method: method as "PUT", url, headers: ADMIN, payload: body === undefined ? "" : JSON.stringify(body) });
const lastOp = () => env.queue.submitted.at(-1)?.[0] as Record<string, unknown>;

describe("opcode-backed endpoints", () => {
  it("startup: static params, reason trail, body ignored", async () => {
    const r = await put("/2/instances/inst1/startup?force=1&reason=maint", { bogus: 1 });
    expect(r.json()).toBe(1);
    const op = lastOp();
    expect(op).toMatchObject({ OP_ID: "OP_INSTANCE_STARTUP", instance_name: "inst1", force: true, dry_run: false, no_remember: false });
    expect(op["reason"]).toEqual([
      ["gnt:user", "maint", 1795578578954922752],
      ["gnt:library:rlib2:instances_name_startup", "", 1795578578954922752],
    ]);
  });
  it("shutdown: body params and static overwrite 400", async () => {
    await put("/2/instances/inst1/shutdown?no_remember=1", { timeout: 5 });
    expect(lastOp()).toMatchObject({ OP_ID: "OP_INSTANCE_SHUTDOWN", timeout: 5, no_remember: true });
    const r = await put("/2/instances/inst1/shutdown", { instance_name: "x", reason: [] });
    expect(r.statusCode).toBe(400);
    expect(r.json().message).toBe("Can&#x27;t overwrite static parameters {&#x27;instance_name&#x27;, &#x27;reason&#x27;}");
  });
  it("group modify: renames, both given → 400, bad value → capture 261", async () => {
    await put("/2/groups/default/modify", { custom_ndparams: { spindle_count: 2 } });
    expect(lastOp()).toMatchObject({ OP_ID: "OP_GROUP_SET_PARAMS", group_name: "default", ndparams: { spindle_count: 2 } });
    const both = await put("/2/groups/default/modify", { custom_ndparams: {}, ndparams: {} });
    expect(both.json().message).toBe("Parameter &#x27;custom_ndparams&#x27; was renamed to &#x27;ndparams&#x27;, but both are specified");
    const c = loadCapture(261);
    const bad = await put("/2/groups/capgrp/modify", c.request_body);
    expect(bad.statusCode).toBe(400);
    expect(bad.json()).toEqual(c.response_body);
  });
  it("cluster modify: compression_tools is forbidden (403)", async () => {
    const r = await put("/2/modify", { compression_tools: ["gzip"] });
    expect(r.statusCode).toBe(403);
    expect(r.json().message).toBe("The parameter compression_tools cannot be set via RAPI");
  });
  it("tags: from the query string only", async () => {
    await put("/2/instances/inst1/tags?tag=a&tag=b&dry-run=1", ["ignored"]);
    expect(lastOp()).toMatchObject({ OP_ID: "OP_TAGS_SET", kind: "instance", name: "inst1", tags: ["a", "b"], dry_run: true });
    await env.app.inject({ method: "DELETE", url: "/2/tags?tag=x", headers: ADMIN });
    expect(lastOp()).toMatchObject({ OP_ID: "OP_TAGS_DEL", kind: "cluster", name: null, tags: ["x"] });
  });
  it("instance create v1: renames, dry-run, unknown parameter 400", async () => {
    const body = {
      __version__: 1,
      mode: "create",
      name: "inst1.ganeti.test",
      disk_template: "diskless",
      disks: [],
      nics: [{}],
      os: "noop",
      hvparams: { usb_devices: "a b" },
    };
    expect((await put("/2/instances?dry-run=1", body, "POST")).statusCode).toBe(200);
    expect(lastOp()).toMatchObject({
      OP_ID: "OP_INSTANCE_CREATE",
      instance_name: "inst1.ganeti.test",
      os_type: "noop",
      dry_run: true,
      hvparams: { usb_devices: "a,b" },
    });
    expect(lastOp()["reason"]).toEqual([["gnt:library:rlib2:instances", "", 1795578578954922752]]);
  });
  it("reinstall: one job of three opcodes; legacy query form; errors", async () => {
    await put("/2/instances/inst1/reinstall", { os: "noop", osparams: { a: "1" } }, "POST");
    expect(env.queue.submitted.at(-1)?.map((o) => o.OP_ID)).toEqual([
      "OP_INSTANCE_SHUTDOWN",
      "OP_INSTANCE_REINSTALL",
      "OP_INSTANCE_STARTUP",
    ]);
    expect(env.queue.submitted.at(-1)?.[1]).toMatchObject({ os_type: "noop", osparams: { a: "1" } });
    await put("/2/instances/inst1/reinstall?os=noop&nostartup=1", undefined, "POST");
    expect(env.queue.submitted.at(-1)?.map((o) => o.OP_ID)).toEqual(["OP_INSTANCE_SHUTDOWN", "OP_INSTANCE_REINSTALL"]);
    expect((await put("/2/instances/inst1/reinstall?os=x", { os: "y" }, "POST")).json().message).toBe(
      "Can&#x27;t combine query and body parameters",
    );
    expect((await put("/2/instances/inst1/reinstall", { start: "yes" }, "POST")).statusCode).toBe(400);
  });
  it("node role PUT: string body, mapping, master refused", async () => {
    await put("/2/nodes/node1.ganeti.test/role?auto-promote=1", "drained");
    expect(lastOp()).toMatchObject({
      OP_ID: "OP_NODE_SET_PARAMS",
      drained: true,
      master_candidate: null,
      offline: null,
      auto_promote: true,
    });
    expect((await put("/2/nodes/node1.ganeti.test/role", "master")).json().message).toBe("Can&#x27;t set &#x27;master&#x27; role");
    expect((await put("/2/nodes/node1.ganeti.test/role", { role: "x" })).json().message).toBe(
      "Body contents: Type is &#x27;dict&#x27;, but &#x27;str&#x27; is expected",
    );
  });
  it("node migrate legacy/v1 and storage", async () => {
    await put("/2/nodes/node1.ganeti.test/migrate?live=0", undefined, "POST");
    expect(lastOp()).toMatchObject({ OP_ID: "OP_NODE_MIGRATE", mode: "non-live" });
    await put("/2/nodes/node1.ganeti.test/migrate", { mode: "live", iallocator: "hail" }, "POST");
    expect(lastOp()).toMatchObject({ mode: "live", iallocator: "hail" });
    expect((await put("/2/nodes/n1/migrate?live=1&mode=live", undefined, "POST")).statusCode).toBe(400);
    await env.app.inject({ url: "/2/nodes/node1.ganeti.test/storage?storage_type=file&output_fields=name,size", headers: ADMIN });
    expect(lastOp()).toMatchObject({
      OP_ID: "OP_NODE_QUERY_STORAGE",
      nodes: ["node1.ganeti.test"],
      output_fields: ["name", "size"],
      storage_type: "file",
    });
    const miss = await env.app.inject({ url: "/2/nodes/node1.ganeti.test/storage", headers: ADMIN });
    expect(miss.json().message).toBe("Missing the required &#x27;output_fields&#x27; parameter");
  });
  it("instance info returns a job (even for an unknown instance)", async () => {
    const r = await env.app.inject({ url: "/2/instances/nosuch/info?static=1" });
    expect(r.json()).toBe(1);
    expect(lastOp()).toMatchObject({ OP_ID: "OP_INSTANCE_QUERY_DATA", instances: ["nosuch"], static: true });
  });
});

describe("objects", () => {
  it("nodes, groups, features, info, role", async () => {
    expect((await env.app.inject({ url: "/2/nodes" })).json()).toEqual([{ id: "node1.ganeti.test", uri: "/2/nodes/node1.ganeti.test" }]);
    const node = (await env.app.inject({ url: "/2/nodes/node1.ganeti.test" })).json();
    const cap = loadCapture(10).response_body as Record<string, unknown>;
    expect(Object.keys(node).sort()).toEqual(Object.keys(cap).sort());
    expect(node).toMatchObject({ role: "M", mtotal: 24105, dtotal: 258019, secondary_ip: "10.250.0.11", sptotal: null });
    expect((await env.app.inject({ url: "/2/nodes/node1.ganeti.test/role" })).json()).toBe("master");
    expect((await env.app.inject({ url: "/2/nodes/nosuch" })).statusCode).toBe(404);
    expect((await env.app.inject({ url: "/2/groups" })).json()).toEqual([{ name: "default", uri: "/2/groups/default" }]);
    const g = (await env.app.inject({ url: "/2/groups/default" })).json();
    expect(Object.keys(g).sort()).toEqual(Object.keys(loadCapture(14).response_body as object).sort());
    expect(new Set((await env.app.inject({ url: "/2/features" })).json())).toEqual(new Set(loadCapture(6).response_body as string[]));
    const info = (await env.app.inject({ url: "/2/info" })).json();
    expect(Object.keys(info).sort()).toEqual(Object.keys(loadCapture(5).response_body as object).sort());
    expect(env.rpc.calls.filter((c) => c.name === "node_info")).toHaveLength(2);
  });
  it("instances bulk: one RPC per node, shapes, status, offline node gives null", async () => {
    const now = 1;
    await env.config.mutate((d) => {
      const node = Object.values(d.nodes)[0]!;
      for (let k = 1; k <= 3; k++) {
        const uuid = `i${k}`;
        d.instances[uuid] = {
          uuid,
          name: `inst${k}.ganeti.test`,
          primary_node: node.uuid,
          secondary_nodes: [],
          os: "noop",
          hypervisor: "fake",
          hvparams: {},
          beparams: { minmem: 128, maxmem: 128 },
          osparams: {},
          osparams_private: {},
          admin_state: k === 3 ? "down" : "up",
          admin_state_source: "admin",
          nics: [{ uuid: `n${k}`, name: null, mac: "aa:00:00:00:00:0" + k, ip: null, network: null, nicparams: {} }],
          disks: [],
          disk_template: "diskless",
          disks_active: true,
          network_port: null,
          serial_no: 1,
          ctime: now,
          mtime: now,
          tags: [],
        };
      }
    });
    env.rpc.running.set("node1.ganeti.test", { "inst1.ganeti.test": { memory: 128, vcpus: 1, state: "running" } });
    const list = (await env.app.inject({ url: "/2/instances?bulk=1" })).json() as Array<Record<string, unknown>>;
    expect(env.rpc.calls.filter((c) => c.name === "all_instances_info")).toHaveLength(1);
    expect(list.map((i) => i["status"])).toEqual(["running", "ERROR_down", "ADMIN_down"]);
    const cap = (loadCapture(83).response_body as Array<Record<string, unknown>>)[0]!;
    expect(normalize(list[0], /^(uuid|ctime|mtime|serial_no|nic\.uuids|nic\.macs|custom_beparams)$/)).toEqual(
      normalize(cap, /^(uuid|ctime|mtime|serial_no|nic\.uuids|nic\.macs|custom_beparams)$/),
    );
    env.rpc.down.add("node1.ganeti.test");
    const down = (await env.app.inject({ url: "/2/instances/inst1.ganeti.test" })).json();
    expect(down).toMatchObject({ status: "ERROR_nodedown", oper_state: null, oper_ram: null });
    const con = await env.app.inject({ url: "/2/instances/inst1.ganeti.test/console", headers: ADMIN });
    expect(con.statusCode).toBe(503);
    env.rpc.down.clear();
    const ok = await env.app.inject({ url: "/2/instances/inst1.ganeti.test/console", headers: ADMIN });
    expect(ok.json()).toEqual(loadCapture(96).response_body);
    expect((await env.app.inject({ url: "/2/instances?lock=1" })).statusCode).toBe(500);
  });
  it("jobs: unknown id is 200 with nulls; list; cancel", async () => {
    expect((await env.app.inject({ url: "/2/jobs/999999" })).json()).toEqual(loadCapture(360).response_body);
    await put("/2/tags?tag=a");
    expect((await env.app.inject({ url: "/2/jobs" })).json()).toEqual([{ id: 1, uri: "/2/jobs/1" }]);
    const bulk = (await env.app.inject({ url: "/2/jobs?bulk=1" })).json();
    expect(Object.keys(bulk[0]).sort()).toEqual(["end_ts", "id", "ops", "opstatus", "received_ts", "start_ts", "status", "summary"]);
    expect((await env.app.inject({ method: "DELETE", url: "/2/jobs/1", headers: ADMIN })).json()).toEqual([true, "Job 1 canceled"]);
  });
  it("/2/os waits for OP_OS_DIAGNOSE and renders variants", async () => {
    const orig = env.queue.submit.bind(env.queue);
    env.queue.submit = async (ops) => {
      const id = await orig(ops);
      env.queue.finish(id, [
        [
          ["debootstrap", ["default", "minimal"]],
          ["noop", []],
        ],
      ]);
      return id;
    };
    expect((await env.app.inject({ url: "/2/os" })).json()).toEqual(["debootstrap+default", "debootstrap+minimal", "noop"]);
  });
  it("filters CRUD through the config", async () => {
    const uuid = (
      await put("/2/filters", { priority: 1, action: "REJECT", predicates: [["jobid", [">", "id", "watermark"]]] }, "POST")
    ).json();
    expect(typeof uuid).toBe("string");
    expect(env.config.data.filters[uuid]).toMatchObject({ priority: 1, action: "REJECT" });
    expect((await env.app.inject({ url: "/2/filters" })).json()).toEqual([{ uuid, uri: `/2/filters/${uuid}` }]);
    expect((await env.app.inject({ url: `/2/filters/${uuid}` })).json()).toMatchObject({ uuid, priority: 1 });
    expect((await put("/2/filters", { bogus: 1 }, "POST")).json().message).toBe(
      "Invalid body parameters: filter rule doesn&#x27;t support the parameter &#x27;bogus&#x27;",
    );
    expect((await put("/2/filters", [], "POST")).json().message).toBe("Invalid body contents, not a dictionary");
    expect((await put("/2/filters", { priority: "x" }, "POST")).json().message).toBe(
      "&#x27;priority&#x27; parameter: Type is &#x27;str&#x27;, but &#x27;int&#x27; is expected",
    );
    expect((await env.app.inject({ method: "DELETE", url: `/2/filters/${uuid}`, headers: ADMIN })).json()).toBeNull();
    expect(env.config.data.filters[uuid]).toBeUndefined();
  });
});

describe("/2/query", () => {
  it("fields, unknown field, errors as captured", async () => {
    const f = (await env.app.inject({ url: "/2/query/node/fields" })).json();
    expect(f).toEqual(loadCapture(344).response_body);
    const c345 = loadCapture(345);
    expect((await env.app.inject({ url: "/2/query/instance/fields?fields=name,status" })).json()).toEqual(c345.response_body);
    const c347 = loadCapture(347);
    const bad = await put("/2/query/instance", c347.request_body);
    expect(bad.statusCode).toBe(502);
    expect(bad.json()).toEqual(c347.response_body);
    const c348 = loadCapture(348);
    expect((await put("/2/query/nosuchresource", c348.request_body)).json()).toEqual(c348.response_body);
    const unk = (await put("/2/query/node", { fields: ["name", "no_such_field"] })).json();
    expect(unk).toEqual({
      fields: [
        { name: "name", title: "Node", kind: "text", doc: "Node name" },
        { name: "no_such_field", title: "no_such_field", kind: "unknown", doc: "Unknown field 'no_such_field'" },
      ],
      data: [
        [
          [0, "node1.ganeti.test"],
          [1, null],
        ],
      ],
    });
    const missing = await put("/2/query/node", { fields: ["name"], qfilter: ["=", "name", "x"] });
    expect(missing.statusCode).toBe(500);
    expect(missing.json().message).toBe("(&#x27;Node name x not found&#x27;, &#x27;unknown_entity&#x27;)");
    expect((await env.app.inject({ url: "/2/query/node", headers: ADMIN })).json().message).toBe(
      "Missing &#x27;fields&#x27; query argument",
    );
  });
});
