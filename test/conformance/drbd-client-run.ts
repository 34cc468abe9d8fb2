// The drbd conformance drivers' shared part: a three-node local cluster with
// the fake hypervisor (the replication engine keeps real replicas), one of
// the Python scripts run against it with Ganeti's own RAPI client, and its
// report (one JSON object per check, in groups) turned into vitest tests.
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { expect, it } from "vitest";
import { killDaemons } from "../../server/test/storage/replication-fixture.js";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);

export interface Check {
  group: string;
  check: string;
  ok: boolean;
  detail?: unknown;
}

export interface ClientRun {
  cluster: LocalCluster;
  checks: Check[];
  /** The report's other lines (what a script leaves for its driver to look at). */
  others: Record<string, unknown>[];
  stderr: string;
}

/** Starts the cluster and runs `script` (/usr/bin/python3) against it to its end. */
export async function runDrbdClient(script: string): Promise<ClientRun> {
  const c = await startLocalCluster({ nodes: 3, secondaryIps: true, diskTemplates: ["drbd", "plain", "diskless", "file"] });
  const res = await run(
    "/usr/bin/python3",
    [script, "--host", c.host, "--port", String(c.port), "--user", c.user, "--password", c.password],
    {
      maxBuffer: 64 << 20,
      timeout: 1_500_000,
    },
  ).catch((err: { stdout?: string; stderr?: string }) => ({ stdout: err.stdout ?? "", stderr: `${err.stderr ?? ""}\n${String(err)}` }));
  const lines = res.stdout
    .split("\n")
    .filter((l) => l.trim().startsWith("{"))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  return {
    cluster: c,
    checks: lines.filter((l) => "check" in l) as unknown as Check[],
    others: lines.filter((l) => !("check" in l)),
    stderr: res.stderr,
  };
}

/** Stops the cluster and every storage daemon its nodes started. */
export async function destroyDrbdCluster(c: LocalCluster | undefined): Promise<void> {
  if (!c) return;
  for (const n of c.nodes) await killDaemons(c.nodeDir(n));
  await c.destroy();
}

/** One vitest test per group: it ran (more than its start) and no check failed. */
export function groupTests(groups: readonly string[], result: () => ClientRun | undefined): void {
  for (const group of groups) {
    it(group, () => {
      const r = result();
      const mine = (r?.checks ?? []).filter((x) => x.group === group);
      expect(mine.length, `group ${group} produced no checks; stderr:\n${(r?.stderr ?? "").slice(-3000)}`).toBeGreaterThan(1);
      const failed = mine.filter((x) => !x.ok).map((x) => `${x.check}: ${JSON.stringify(x.detail ?? null)}`);
      expect(failed).toEqual([]);
    });
  }
}
