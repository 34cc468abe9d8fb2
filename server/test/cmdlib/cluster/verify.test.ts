// Cluster verification through the real job queue and LUs on in-process
// node backends: a clean cluster verifies clean, and each problem made
// behind the master's back is reported with Ganeti's code and text.
import { promises as fs } from "node:fs";
import path from "node:path";
import type { JobRecord } from "@ganeti-ts/schema";
import { afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { generateClusterCert, type ClusterCert } from "../../../src/lib/certs.js";
import { isFinal } from "../../../src/jobs/job.js";
import { NodeBackend } from "../../../src/noded/backend/node-backend.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { createOp, inst, runJob, runOp } from "../instance/helpers.js";

let c: TestCluster;
let cert: ClusterCert;

beforeAll(async () => {
  cert = await generateClusterCert("cluster.example.com");
}, 60_000);

/** Every node holds the cluster certificate, as `gnt cluster init` and `gnt node add` leave them. */
async function installCert(pem: string): Promise<void> {
  for (const b of c.backends.values()) {
    await fs.mkdir(b.dataDir, { recursive: true });
    await fs.writeFile(path.join(b.dataDir, "server.pem"), pem);
  }
}

beforeEach(async () => {
  c = await testCluster({ nodes: 2 });
  await installCert(cert.pem);
});
afterEach(async () => {
  await c.cleanup();
});

const fakeState = (node: string, instance: string) => path.join(c.backendOf(node).dataDir, "hypervisors", "fake", `${instance}.json`);

/** Run OP_CLUSTER_VERIFY and every job it submitted; their records in order. */
async function verify(over: Record<string, unknown> = {}): Promise<{ jobs: JobRecord[]; log: string[]; ok: boolean }> {
  const res = (await runOp(c, { OP_ID: "OP_CLUSTER_VERIFY", ...over })) as { jobs: [boolean, number][] };
  const jobs: JobRecord[] = [];
  for (const [ok, id] of res.jobs) {
    expect(ok).toBe(true);
    jobs.push(await waitJob(id));
  }
  const log = jobs.flatMap((j) => c.jobLog(j));
  const ok = jobs.every((j) => j.ops.every((o) => o.status === "success" && o.result === true));
  return { jobs, log, ok };
}

describe("OP_CLUSTER_VERIFY", () => {
  it("submits a config job and one group job depending on it; a clean cluster verifies clean", async () => {
    await runOp(c, createOp("web1"));
    const { jobs, log, ok } = await verify();
    expect(jobs.map((j) => j.ops[0]!.input["OP_ID"])).toEqual(["OP_CLUSTER_VERIFY_CONFIG", "OP_CLUSTER_VERIFY_GROUP"]);
    expect(jobs[1]!.ops[0]!.input["depends"]).toEqual([[jobs[0]!.id, []]]);
    expect(jobs.map((j) => j.ops[0]!.result)).toEqual([true, true]);
    expect(ok).toBe(true);
    expect(log.filter((l) => l.startsWith("*"))).toEqual([
      "* Verifying cluster config",
      "* Verifying cluster certificate files",
      "* Verifying hypervisor parameters",
      "* Verifying all nodes belong to an existing group",
      "* Verifying group 'default'",
      "* Gathering data (2 nodes)",
      "* Gathering information about nodes (2 nodes)",
      "* Gathering disk information (2 nodes)",
      "* Verifying configuration file consistency",
      "* Verifying node status",
      "* Verifying instance status",
      "* Verifying orphan volumes",
      "* Verifying N+1 Memory redundancy",
      "* Other Notes",
      "* Hooks Results",
    ]);
    expect(log.filter((l) => l.includes("ERROR") || l.includes("WARNING"))).toEqual([]);
  });

  it("an instance whose process died is EINSTANCEDOWN (plain and --error-codes formats)", async () => {
    await runOp(c, createOp("web1"));
    await fs.rm(fakeState("node1.example.com", "web1"));
    const plain = await verify();
    expect(plain.ok).toBe(false);
    expect(plain.log).toContain("  - ERROR: instance web1: instance not running on its primary node node1.example.com");
    const coded = await verify({ error_codes: true });
    expect(coded.log).toContain("  - ERROR:EINSTANCEDOWN:instance:web1:instance not running on its primary node node1.example.com");
    // --ignore-errors demotes the code to a warning: the group verifies true.
    const ignored = await verify({ error_codes: true, ignore_errors: ["EINSTANCEDOWN"] });
    expect(ignored.log).toContain("  - WARNING:EINSTANCEDOWN:instance:web1:instance not running on its primary node node1.example.com");
    expect(ignored.ok).toBe(true);
  });

  it("an instance started behind the master's back is EINSTANCEWRONGNODE; an unknown one ENODEORPHANINSTANCE", async () => {
    await runOp(c, createOp("web1"));
    const state = await fs.readFile(fakeState("node1.example.com", "web1"), "utf8");
    await fs.mkdir(path.dirname(fakeState("node2.example.com", "x")), { recursive: true });
    await fs.writeFile(fakeState("node2.example.com", "web1"), state);
    await fs.writeFile(fakeState("node2.example.com", "ghost1"), state.replaceAll("web1", "ghost1"));
    const { log, ok } = await verify({ error_codes: true });
    expect(ok).toBe(false);
    expect(log).toContain("  - ERROR:EINSTANCEWRONGNODE:instance:web1:instance should not run on node node2.example.com");
    expect(log).toContain("  - ERROR:ENODEORPHANINSTANCE:node:node2.example.com:node is running unknown instance ghost1");
  });

  it("a node daemon that does not answer is ENODERPC", async () => {
    const node2 = c.config.findNode("node2.example.com")!;
    c.backends.delete(node2.uuid);
    const { log, ok } = await verify({ error_codes: true });
    expect(ok).toBe(false);
    expect(log.some((l) => l.startsWith("  - ERROR:ENODERPC:node:node2.example.com:while contacting node: "))).toBe(true);
    expect(log.some((l) => l.startsWith("  - ERROR:ECLUSTERFILECHECK") || l.startsWith("  - ERROR:ENODEFILECHECK:node:node2"))).toBe(true);
  });

  it("a corrupt config reference is ECLUSTERCFG and ECLUSTERDANGLINGNODES", async () => {
    await runOp(c, createOp("web1"));
    await c.config.mutate((d) => {
      const n2 = Object.values(d.nodes).find((n) => n.name === "node2.example.com")!;
      n2.group = "00000000-0000-0000-0000-000000000000";
    });
    const { jobs, log } = await verify({ error_codes: true });
    expect(jobs[0]!.ops[0]!.result).toBe(false);
    expect(log).toContain(
      "  - ERROR:ECLUSTERCFG:cluster:None:Node 'node2.example.com' has invalid group '00000000-0000-0000-0000-000000000000'",
    );
    expect(log).toContain(
      "  - ERROR:ECLUSTERDANGLINGNODES:node:None:the following nodes (and their instances) belong to a non existing group: node2.example.com ()",
    );
  });

  it("N+1: failover instances that do not fit elsewhere are ENODEN1; --skip-nplusone skips the check", async () => {
    for (const name of ["big1", "big2"]) {
      await runOp(c, createOp(name, { start: false, beparams: { minmem: 5000, maxmem: 5000 } }));
    }
    const { log, ok } = await verify({ error_codes: true });
    expect(ok).toBe(false);
    expect(log).toContain(
      "  - ERROR:ENODEN1:node:node2.example.com:not enough memory to accomodate instance failovers should node node1.example.com fail (10000MiB needed, 8192MiB available)",
    );
    const skipped = await verify({ skip_checks: ["nplusone_mem"] });
    expect(skipped.ok).toBe(true);
    expect(skipped.log).not.toContain("* Verifying N+1 Memory redundancy");
  });

  it("a certificate close to expiry is ECLUSTERCERT; differing copies ECLUSTERFILECHECK", async () => {
    const soon = await generateClusterCert("cluster.example.com", 10);
    await fs.writeFile(path.join(c.backendOf("node1.example.com").dataDir, "server.pem"), soon.pem);
    const { log, ok } = await verify({ error_codes: true });
    const file = path.join(c.backendOf("node1.example.com").dataDir, "server.pem");
    expect(log).toContain(`  - WARNING:ECLUSTERCERT:cluster:None:While verifying ${file}: Certificate expires in about 9 days`);
    expect(
      log.some((l) =>
        l.startsWith("  - ERROR:ECLUSTERFILECHECK:cluster:None:File server.pem found with 2 different checksums (variant 1 on "),
      ),
    ).toBe(true);
    expect(ok).toBe(false);
  }, 60_000);

  it("a node whose clock is off by more than 150 s is ENODETIME", async () => {
    const n2 = c.config.findNode("node2.example.com")!;
    const old = c.backends.get(n2.uuid)!;
    c.backends.set(
      n2.uuid,
      new NodeBackend({
        dataDir: old.dataDir,
        nodeName: old.nodeName,
        clock: () => Date.now() + 600_000,
        overrides: { memoryTotal: 8192, memoryDom0: 0 },
      }),
    );
    const { log, ok } = await verify({ error_codes: true });
    expect(ok).toBe(false);
    expect(
      log.some((l) =>
        /^ {2}- ERROR:ENODETIME:node:node2\.example\.com:Node time diverges by at least \d+\.\ds from master node time$/.test(l),
      ),
    ).toBe(true);
  });

  it("a group name restricts the verify to that group, with no config job", async () => {
    const { jobs, ok } = await verify({ group_name: "default" });
    expect(jobs.map((j) => j.ops[0]!.input["OP_ID"])).toEqual(["OP_CLUSTER_VERIFY_GROUP"]);
    expect(ok).toBe(true);
  });

  it("orphan file images are ENODEORPHANLV warnings; a missing image EINSTANCEMISSINGDISK", async () => {
    await runOp(c, createOp("file1", { disk_template: "file", disks: [{ size: 16 }] }));
    const disk = c.config.disk(inst(c, "file1").disks[0]!);
    const image = String(disk.logical_id[1]);
    const orphan = path.join(path.dirname(image), "left-over.file.disk9");
    await fs.writeFile(orphan, "");
    const first = await verify({ error_codes: true });
    expect(first.log).toContain(`  - WARNING:ENODEORPHANLV:node:node1.example.com:volume ${orphan} is unknown`);
    expect(first.ok).toBe(true);
    await fs.rm(image);
    const second = await verify({ error_codes: true });
    expect(second.log).toContain(`  - ERROR:EINSTANCEMISSINGDISK:instance:file1:volume ${image} missing on node node1.example.com`);
  });
});

describe("verify-disks and repair-disk-sizes", () => {
  it("OP_CLUSTER_VERIFY_DISKS submits one OP_GROUP_VERIFY_DISKS per group with Ganeti's result shape", async () => {
    await runOp(c, createOp("file1", { disk_template: "file", disks: [{ size: 16 }] }));
    const res = (await runOp(c, { OP_ID: "OP_CLUSTER_VERIFY_DISKS" })) as { jobs: [boolean, number][] };
    expect(res.jobs).toHaveLength(1);
    const job = await waitJob(res.jobs[0]![1]);
    expect(job.ops[0]!.input["OP_ID"]).toBe("OP_GROUP_VERIFY_DISKS");
    expect(job.ops[0]!.result).toEqual([{}, [], {}]);

    const image = String(c.config.disk(inst(c, "file1").disks[0]!).logical_id[1]);
    await fs.rm(image);
    const node1 = c.config.findNode("node1.example.com")!;
    const direct = await runOp(c, { OP_ID: "OP_GROUP_VERIFY_DISKS", group_name: "default" });
    expect(direct).toEqual([{}, [], { file1: [[node1.uuid, image]] }]);
  });

  it("OP_CLUSTER_REPAIR_DISK_SIZES corrects the recorded size from the node", async () => {
    await runOp(c, createOp("file1", { disk_template: "file", disks: [{ size: 16 }] }));
    const image = String(c.config.disk(inst(c, "file1").disks[0]!).logical_id[1]);
    await fs.truncate(image, 32 * 1024 * 1024);
    const job = await runJob(c, [{ OP_ID: "OP_CLUSTER_REPAIR_DISK_SIZES", instances: [] }]);
    expect(job.ops[0]!.result).toEqual([["file1", 0, "size", 32]]);
    expect(c.jobLog(job)).toContain(" - INFO: Disk 0 of instance file1 has mismatched size, correcting: recorded 16, actual 32");
    expect(c.config.disk(inst(c, "file1").disks[0]!).size).toBe(32);
    expect(await runOp(c, { OP_ID: "OP_CLUSTER_REPAIR_DISK_SIZES", instances: ["file1"] })).toEqual([]);
  });
});

/** Wait for a job the test did not submit itself (passing the last status and log serial back). */
async function waitJob(id: number): Promise<JobRecord> {
  let info: unknown[] | null = null;
  let serial = 0;
  for (;;) {
    const job = (await c.queue.getJob(id))!;
    if (isFinal(job)) return job;
    const res = await c.queue.waitForChange(id, ["status"], info, serial, 60_000);
    if (!res) throw new Error(`job ${id} vanished`);
    info = res.job_info;
    for (const l of res.log_entries) serial = Math.max(serial, l[0]);
  }
}
