// hbal -X building blocks without a cluster: the opcode -> RAPI request
// mapping, the jobset executor (order, waiting, abort on failure) against a
// scripted job backend, and the resolution of -m / -L / credentials.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { iMoveToJob, type Opcode } from "@ganeti-ts/server/htools/alloc";
import { parseText } from "@ganeti-ts/server/htools/text";
import { HtoolsError } from "@ganeti-ts/server/htools/types";
import type { IMove } from "@ganeti-ts/server/htools/moves";
import { execJobSets, rapiRequestFor, type ExecMove, type JobBackend, type JobOutcome } from "@ganeti-ts/server/htools-cli/exec";
import { rapiBase, resolveCredentials } from "@ganeti-ts/server/htools-cli/rapi-client";
import { resolveLocalMaster } from "@ganeti-ts/server/htools-cli/common";

const tmp = mkdtempSync(path.join(tmpdir(), "gts-htools-exec-"));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

// Three nodes, one DRBD instance on node1:node2 and one shared-storage instance.
const CLUSTER = [
  "default|uuid-g1|preferred||",
  "",
  "node1.example.com|4096|0|4096|102400|102400|4|N|uuid-g1|1",
  "node2.example.com|4096|0|4096|102400|102400|4|N|uuid-g1|1",
  "node3.example.com|4096|0|4096|102400|102400|4|N|uuid-g1|1",
  "",
  "drbd1.example.com|512|1024|1|running|Y|node1.example.com|node2.example.com|drbd|",
  "shared1.example.com|512|1024|1|running|Y|node1.example.com||sharedfile|",
  "",
  "",
  "|128,1,1024,1,1,1|128,1,1024,1,1,1;32768,8,1048576,16,8,1|diskless,file,sharedfile,plain,drbd|4.0|32.0",
  "default|128,1,1024,1,1,1|128,1,1024,1,1,1;32768,8,1048576,16,8,1|diskless,file,sharedfile,plain,drbd|4.0|32.0",
  "",
].join("\n");

describe("opcodes of a move -> RAPI requests", () => {
  const cd = parseText(CLUSTER);
  const drbd = cd.instances.find((i) => i.name === "drbd1.example.com")!;
  const shared = cd.instances.find((i) => i.name === "shared1.example.com")!;
  const reqs = (inst: typeof drbd, mv: IMove) => iMoveToJob(cd.nodes, inst, mv).map((op) => rapiRequestFor(op));
  const migrate = { method: "PUT", path: "/2/instances/drbd1.example.com/migrate" };
  const replace = (node: string) => ({
    method: "POST",
    path: "/2/instances/drbd1.example.com/replace-disks",
    body: expect.objectContaining({ mode: "replace_new_secondary", remote_node: node }),
  });

  it("Failover is a migrate that may fall back to a failover", () => {
    const [r] = reqs(drbd, { kind: "Failover" });
    expect(r).toMatchObject({ ...migrate, body: { allow_failover: true, cleanup: false } });
    expect(r!.body).not.toHaveProperty("instance_name");
    expect(r!.body).not.toHaveProperty("OP_ID");
  });

  it("FailoverToAny names the target node", () => {
    expect(reqs(shared, { kind: "FailoverToAny", node: 2 })).toEqual([
      {
        method: "PUT",
        path: "/2/instances/shared1.example.com/migrate",
        body: expect.objectContaining({ target_node: "node3.example.com", allow_failover: true }),
      },
    ]);
  });

  it("the DRBD moves are chains of migrate and replace-disks", () => {
    expect(reqs(drbd, { kind: "ReplaceSecondary", node: 2 })).toEqual([replace("node3.example.com")]);
    expect(reqs(drbd, { kind: "ReplacePrimary", node: 2 })).toMatchObject([migrate, replace("node3.example.com"), migrate]);
    expect(reqs(drbd, { kind: "ReplaceAndFailover", node: 2 })).toMatchObject([replace("node3.example.com"), migrate]);
    expect(reqs(drbd, { kind: "FailoverAndReplace", node: 2 })).toMatchObject([migrate, replace("node3.example.com")]);
  });

  it("forthcoming instances fail over; --priority and --reason are passed on", () => {
    const [r] = iMoveToJob(cd.nodes, { ...shared, forthcoming: true }, { kind: "FailoverToAny", node: 1 }).map((op) =>
      rapiRequestFor(op, { priority: "high", reason: "weekly balance" }),
    );
    expect(r).toMatchObject({
      method: "PUT",
      path: "/2/instances/shared1.example.com/failover?reason=weekly%20balance",
      body: { target_node: "node2.example.com", priority: -10 },
    });
  });

  it("refuses opcodes no RAPI resource runs", () => {
    expect(() => rapiRequestFor({ OP_ID: "OP_NODE_EVACUATE", node_name: "x" })).toThrow(HtoolsError);
  });
});

/** A scripted job backend: records the order of submissions and completions. */
class FakeJobs implements JobBackend {
  events: string[] = [];
  submitted: Opcode[][] = [];
  private next = 1;
  constructor(
    readonly multiOpcode: boolean,
    private readonly outcome: (ops: Opcode[], id: number) => Omit<JobOutcome, "id"> | "reject-submit" = () => ({ status: "success" }),
  ) {}
  async submit(ops: Opcode[]): Promise<number> {
    const id = this.next;
    if (this.outcome(ops, id) === "reject-submit") {
      this.events.push(`reject:${ops[0]!["instance_name"]}`);
      throw new HtoolsError("RAPI error: HTTP 400", "ERAPI");
    }
    this.next++;
    this.submitted[id] = ops;
    this.events.push(`submit:${id}`);
    return id;
  }
  async wait(id: number, onLog: (msg: string) => void): Promise<JobOutcome> {
    onLog(`running ${id}`);
    // Finish on a later macrotask, so that every job of a jobset is in flight together.
    await new Promise<void>((resolve) => setImmediate(resolve));
    this.events.push(`done:${id}`);
    const o = this.outcome(this.submitted[id]!, id);
    return { id, ...(o === "reject-submit" ? { status: "success" } : o) };
  }
  close(): void {}
}

const op = (id: string, inst: string): Opcode => ({ OP_ID: id, instance_name: inst });
const mv = (inst: string, ...ids: string[]): ExecMove => ({ instance: inst, ops: ids.map((i) => op(i, inst)) });

function io(cancelled = () => false) {
  const o = { out: "", err: "" };
  return { o, io: { out: (s: string) => void (o.out += s), err: (s: string) => void (o.err += s), verbose: 1, cancelled } };
}

describe("execJobSets", () => {
  const sets = (): ExecMove[][] => [
    [mv("a", "OP_INSTANCE_MIGRATE", "OP_INSTANCE_REPLACE_DISKS"), mv("b", "OP_INSTANCE_MIGRATE")],
    [mv("c", "OP_INSTANCE_MIGRATE")],
  ];

  it("RAPI: one job per opcode, chained per move; a jobset starts when the previous one is done", async () => {
    const be = new FakeJobs(false);
    const { o, io: x } = io();
    await execJobSets(sets(), be, x);
    expect(o.out).toBe(
      "Executing jobset for instances a, b\nGot job IDs 1, 2\nGot job IDs 3\nExecuting jobset for instances c\nGot job IDs 4\n",
    );
    const at = (e: string) => be.events.indexOf(e);
    // Both first jobs are in flight before either finishes.
    expect(at("submit:2")).toBeLessThan(at("done:1"));
    // The second opcode of "a" waits for the first.
    expect(at("submit:3")).toBeGreaterThan(at("done:1"));
    // The next jobset waits for every job of this one.
    expect(at("submit:4")).toBeGreaterThan(Math.max(at("done:2"), at("done:3")));
    expect(be.submitted[3]!.map((x) => x.OP_ID)).toEqual(["OP_INSTANCE_REPLACE_DISKS"]);
  });

  it("LUXI: one job per move with all its opcodes", async () => {
    const be = new FakeJobs(true);
    const { o, io: x } = io();
    await execJobSets(sets(), be, x);
    expect(o.out).toContain("Got job IDs 1, 2\n");
    expect(be.submitted[1]!.map((x) => x.OP_ID)).toEqual(["OP_INSTANCE_MIGRATE", "OP_INSTANCE_REPLACE_DISKS"]);
    expect(be.submitted.filter(Boolean)).toHaveLength(3);
  });

  it("a failed job ends the jobset and aborts before the next one", async () => {
    const be = new FakeJobs(false, (_ops, id) =>
      id === 2 ? { status: "error", error: "OpPrereqError: Not enough memory" } : { status: "success" },
    );
    const { o, io: x } = io();
    const err = await execJobSets(sets(), be, x).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HtoolsError);
    expect((err as Error).message).toBe("hbal: Aborting due to job failures");
    // "a" still completes its chain (the jobset runs to its end); "c" never starts.
    expect(be.events).toContain("done:3");
    expect(be.submitted).toHaveLength(4);
    expect(o.out).toContain("Job 2 (b): error (OpPrereqError: Not enough memory)\n");
    expect(o.err).toBe("Not all jobs completed successfully: job 2 (b): error: OpPrereqError: Not enough memory\nAborting.\n");
  });

  it("a refused submission still waits for the jobs already submitted", async () => {
    const be = new FakeJobs(false, (ops) => (ops[0]!["instance_name"] === "b" ? "reject-submit" : { status: "success" }));
    const { o, io: x } = io();
    await expect(execJobSets(sets(), be, x)).rejects.toThrow("Aborting due to job failures");
    expect(o.out).toContain("Got job IDs 1\n");
    expect(be.events).toContain("done:1");
    expect(o.err).toContain("submitting the job of b: RAPI error: HTTP 400");
  });

  it("stops before the next jobset once cancelled", async () => {
    const be = new FakeJobs(false);
    const { o, io: x } = io(() => true);
    await execJobSets(sets(), be, x);
    expect(o.out).toBe("Exiting early due to user request, 2 jobset(s) remaining.\n");
    expect(be.events).toEqual([]);
  });
});

describe("where -m and -L go", () => {
  it("-m HOST[:PORT] or URL", () => {
    expect(rapiBase("cluster.example.com")).toBe("https://cluster.example.com:5080");
    expect(rapiBase("127.0.0.1:4321")).toBe("https://127.0.0.1:4321");
    expect(rapiBase("https://127.0.0.1:4321/")).toBe("https://127.0.0.1:4321");
    expect(rapiBase("::1")).toBe("https://[::1]:5080");
    expect(rapiBase("[::1]:4321")).toBe("https://[::1]:4321");
  });

  it("-L: a RAPI URL, a data dir (runtime file), a socket, $GANETI_DATA_DIR, or the default", () => {
    writeFileSync(path.join(tmp, "master.runtime.json"), JSON.stringify({ pid: 1, rapiUrl: "https://127.0.0.1:4444" }));
    expect(resolveLocalMaster("https://127.0.0.1:1234", {})).toEqual({ rapi: "https://127.0.0.1:1234", socket: null });
    expect(resolveLocalMaster(tmp, {})).toEqual({ rapi: "https://127.0.0.1:4444", socket: path.join(tmp, "master.sock") });
    expect(resolveLocalMaster(path.join(tmp, "master.sock"), {})).toEqual({
      rapi: "https://127.0.0.1:4444",
      socket: path.join(tmp, "master.sock"),
    });
    expect(resolveLocalMaster(true, { GANETI_DATA_DIR: tmp })).toEqual({
      rapi: "https://127.0.0.1:4444",
      socket: path.join(tmp, "master.sock"),
    });
    expect(resolveLocalMaster(true, {})).toEqual({ rapi: "https://127.0.0.1:5080", socket: null });
  });

  it("credentials: flags first, then the environment; the password file's first line", () => {
    const pw = path.join(tmp, "pw");
    writeFileSync(pw, "s3cret\n");
    expect(resolveCredentials({ user: "u", passwordFile: pw, env: { GANETI_RAPI_USER: "e", GANETI_RAPI_PASSWORD: "x" } })).toEqual({
      user: "u",
      password: "s3cret",
    });
    expect(resolveCredentials({ env: { GANETI_RAPI_USER: "e", GANETI_RAPI_PASSWORD: "x" } })).toEqual({ user: "e", password: "x" });
    expect(resolveCredentials({ env: {} })).toEqual({});
    expect(() => resolveCredentials({ env: { GANETI_RAPI_PASSWORD: "x" } })).toThrow(/without a user/);
  });
});
