// examples/sdk-scripts/create-and-wait.ts against mocked clusters built from
// the captures (3 nodes: migrates; 1 node: explains and skips the migration).
import nock from "nock";
import { describe, expect, it } from "vitest";
import { GanetiClient } from "../src/index.js";
import { main } from "../../examples/sdk-scripts/create-and-wait.js";
import { BASE, capture, mock, useNock, type CaptureSet } from "./helpers/captures.js";

useNock();

const WAIT0 = { fields: ["status"], previous_job_info: null, previous_log_serial: null };

function job(id: number, opId: string, result: unknown, log: string): void {
  const base = capture(38).response_body as Record<string, unknown>;
  nock(BASE)
    .get(`/2/jobs/${id}/wait`, WAIT0)
    .reply(200, { job_info: ["success"], log_entries: [[1, [1795578581, 0], "message", log]] })
    .get(`/2/jobs/${id}`)
    .reply(200, { ...base, id, ops: [{ OP_ID: opId }], opresult: [result], oplog: [[[1, [1795578581, 0], "message", log]]] });
}

function cluster(set: CaptureSet, infoSeq: number, nodesSeq: number): { master: string; other?: string } {
  mock(set, infoSeq, nodesSeq);
  nock(BASE).get("/2/os").reply(200, ["noop"]);
  const master = (capture(infoSeq, set).response_body as { master: string }).master;
  const nodes = (capture(nodesSeq, set).response_body as { name: string }[]).map((n) => n.name);
  return { master, ...(nodes.find((n) => n !== master) ? { other: nodes.find((n) => n !== master)! } : {}) };
}

function run(args: string[]): Promise<string[]> {
  const lines: string[] = [];
  return main(
    ["--url", BASE, "--user", "admin", "--password", "secret", "--insecure", "--name", "demo.example.com", ...args],
    {},
    {
      createClient: (o) => new GanetiClient({ ...o, sleep: async () => undefined }),
      print: (l) => lines.push(l),
    },
  ).then(() => lines);
}

describe("examples/sdk-scripts/create-and-wait.ts", () => {
  it("3 nodes: create, modify, migrate to another node, remove", async () => {
    const { master, other } = cluster("captures-3node", 5, 561);
    nock(BASE)
      .post(
        "/2/instances",
        (b: Record<string, unknown>) => b.__version__ === 1 && b.instance_name === "demo.example.com" && b.pnode === master,
      )
      .reply(200, "101")
      .put("/2/instances/demo.example.com/modify", { beparams: { vcpus: 2 } })
      .reply(200, "102")
      .put("/2/instances/demo.example.com/migrate", { target_node: other })
      .reply(200, "103")
      .delete("/2/instances/demo.example.com", {})
      .reply(200, "104");
    job(101, "OP_INSTANCE_CREATE", [master], "* creating instance disks...");
    job(102, "OP_INSTANCE_SET_PARAMS", [["be/vcpus", 2]], "modifying");
    job(103, "OP_INSTANCE_MIGRATE", null, "* migrating instance");
    job(104, "OP_INSTANCE_REMOVE", null, "removing");
    const lines = await run([]);
    expect(lines).toContain(`created on ${master}`);
    expect(lines).toContain("  changed be/vcpus -> 2");
    expect(lines).toContain(`migrating demo.example.com to ${other}`);
    expect(lines).toContain("  [create] job 101 #1: * creating instance disks...");
    expect(lines.at(-1)).toBe("done");
  });

  it("1 node: prints why it skips the migration", async () => {
    const { master } = cluster("captures", 5, 9);
    nock(BASE)
      .post("/2/instances")
      .reply(200, "201")
      .put("/2/instances/demo.example.com/modify")
      .reply(200, "202")
      .delete("/2/instances/demo.example.com")
      .reply(200, "203");
    job(201, "OP_INSTANCE_CREATE", [master], "created");
    job(202, "OP_INSTANCE_SET_PARAMS", [["be/vcpus", 2]], "modified");
    job(203, "OP_INSTANCE_REMOVE", null, "removed");
    const lines = await run([]);
    expect(lines).toContain("skipping migrate: the cluster has a single usable node (migration needs two)");
    expect(lines.at(-1)).toBe("done");
  });
});
