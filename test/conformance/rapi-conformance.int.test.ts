// Conformance with Ganeti's own Python RAPI client (ganeti.rapi.client of
// Ganeti 3.0.2, /usr/bin/python3): rapi_conformance.py drives a real local
// cluster through every client method that makes sense on the fake
// hypervisor, plus a bad-input matrix over raw HTTPS, and compares shapes with
// the oracle captures. One vitest test per group of checks.
import { execFile, execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { writeFile } from "node:fs/promises";
import path from "node:path";
import { startLocalCluster, type LocalCluster } from "../helpers/cluster.js";
import { guestAssets, killGuestsUnder } from "../../server/test/harness/kvm-guest.js";

const run = promisify(execFile);
const PY = "/usr/bin/python3";
const SCRIPT = fileURLToPath(new URL("./rapi_conformance.py", import.meta.url));

interface Check {
  group: string;
  check: string;
  ok: boolean;
  detail?: unknown;
}

type Scenario = "one" | "three";

function groupsOf(scenario: Scenario): string[] {
  const out = execFileSync(
    PY,
    [SCRIPT, "--list-groups", "--scenario", scenario, "--host", "-", "--port", "0", "--user", "-", "--password", "-", "--data-dir", "-"],
    {
      encoding: "utf8",
    },
  );
  return JSON.parse(out) as string[];
}

function describeScenario(title: string, scenario: Scenario, nodes: number) {
  describe(title, () => {
    let cluster: LocalCluster | undefined;
    let checks: Check[] = [];
    let stderr = "";

    beforeAll(async () => {
      // br-conf: the networks group connects a network on it and adds a NIC there.
      // The oracle's Ganeti serves anonymous reads (its RAPI default); new clusters here refuse them unless asked.
      cluster = await startLocalCluster({ nodes, bridges: ["xen-br0", "br0", "br-conf"], initArgs: ["--allow-anonymous-reads"] });
      // The kvm group boots the test guest (three nodes only).
      const kvmArgs: string[] = [];
      if (scenario === "three") {
        const a = await guestAssets();
        const file = path.join(cluster.dataDir, "kvm-assets.json");
        await writeFile(file, JSON.stringify({ qemu: a.qemu, kernel: a.kernel, initrd: a.initrd }));
        kvmArgs.push("--kvm-assets", file);
      }
      const res = await run(
        PY,
        [
          SCRIPT,
          "--host",
          cluster.host,
          "--port",
          String(cluster.port),
          "--user",
          cluster.user,
          "--password",
          cluster.password,
          "--data-dir",
          cluster.dataDir,
          "--scenario",
          scenario,
          ...kvmArgs,
        ],
        { maxBuffer: 64 << 20, timeout: 600_000 },
      );
      stderr = res.stderr;
      checks = res.stdout
        .split("\n")
        .filter((l) => l.trim().startsWith("{"))
        .map((l) => JSON.parse(l) as Check);
    }, 900_000);

    afterAll(async () => {
      if (cluster) await killGuestsUnder(path.dirname(cluster.dataDir));
      await cluster?.destroy();
    }, 120_000);

    for (const group of groupsOf(scenario)) {
      it(group, () => {
        const mine = checks.filter((c) => c.group === group);
        expect(mine.length, `group ${group} produced no checks; stderr:\n${stderr.slice(-3000)}`).toBeGreaterThan(1);
        const failed = mine.filter((c) => !c.ok).map((c) => `${c.check}: ${JSON.stringify(c.detail ?? null)}`);
        expect(failed).toEqual([]);
      });
    }
  });
}

describeScenario("RAPI conformance with Ganeti's Python client, one node", "one", 1);
describeScenario("RAPI conformance with Ganeti's Python client, three nodes", "three", 3);
