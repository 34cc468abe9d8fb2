// OP_OOB_COMMAND on the LU harness with a test OOB program (a shell script
// standing in for IPMI): power state, health, the master and offline rules.
import { promises as fs } from "node:fs";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { runJob, runOp } from "../instance/helpers.js";

let c: TestCluster;
let oob: string;

/** Remembers each node's power state in a file beside it; reports health with one warning. */
const SCRIPT = `#!/bin/sh
state="$(dirname "$0")/$2.power"
case "$1" in
  power-on) echo on > "$state" ;;
  power-off) echo off > "$state" ;;
  power-cycle) ;;
  power-status) if [ "$(cat "$state" 2>/dev/null)" = off ]; then echo '{"powered": false}'; else echo '{"powered": true}'; fi ;;
  health) echo '[["disk0", "OK"], ["fan1", "WARNING"]]' ;;
  *) echo "unknown command $1" >&2; exit 1 ;;
esac
`;

beforeEach(async () => {
  c = await testCluster({ nodes: 2 });
  oob = path.join(c.root, "oob", "oob.sh");
  await fs.mkdir(path.dirname(oob), { recursive: true });
  await fs.writeFile(oob, SCRIPT, { mode: 0o755 });
  await runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2.example.com", ndparams: { oob_program: oob } });
});
afterEach(async () => {
  await c.cleanup();
});

const powered = () => c.config.findNode("node2.example.com")!.powered;

describe("OP_OOB_COMMAND", () => {
  it("power-status answers per node; nodes without oob_program are unavailable", async () => {
    expect(await runOp(c, { OP_ID: "OP_OOB_COMMAND", command: "power-status" })).toEqual([
      [
        [0, "node1.example.com"],
        [3, null],
      ],
      [
        [0, "node2.example.com"],
        [0, { powered: true }],
      ],
    ]);
  });

  it("power-off needs the node offline, records the state; power-on brings it back", async () => {
    await expect(runOp(c, { OP_ID: "OP_OOB_COMMAND", command: "power-off", node_names: ["node2.example.com"] })).rejects.toMatchObject({
      message: "Cannot power off node node2.example.com because it is not marked offline",
      code: "wrong_state",
    });
    await runOp(c, { OP_ID: "OP_NODE_SET_PARAMS", node_name: "node2.example.com", offline: true });
    expect(await runOp(c, { OP_ID: "OP_OOB_COMMAND", command: "power-off", node_names: ["node2.example.com"] })).toEqual([
      [
        [0, "node2.example.com"],
        [0, null],
      ],
    ]);
    expect(powered()).toBe(false);
    expect(await runOp(c, { OP_ID: "OP_OOB_COMMAND", command: "power-status", node_names: ["node2.example.com"] })).toEqual([
      [
        [0, "node2.example.com"],
        [0, { powered: false }],
      ],
    ]);
    await runOp(c, { OP_ID: "OP_OOB_COMMAND", command: "power-on", node_names: ["node2.example.com"], power_delay: 0 });
    expect(powered()).toBe(true);
  });

  it("refuses power-off of the master; health warnings go to the job log", async () => {
    await expect(runOp(c, { OP_ID: "OP_OOB_COMMAND", command: "power-off", node_names: ["node1.example.com"] })).rejects.toMatchObject({
      message: "Operating on the master node node1.example.com is not allowed for power-off; it does not support out-of-band operations",
    });
    const job = await runJob(c, [{ OP_ID: "OP_OOB_COMMAND", command: "health", node_names: ["node2.example.com"] }]);
    expect(job.ops[0]!.result).toEqual([
      [
        [0, "node2.example.com"],
        [
          0,
          [
            ["disk0", "OK"],
            ["fan1", "WARNING"],
          ],
        ],
      ],
    ]);
    expect(c.jobLog(job)).toContain(" - WARNING: Item 'fan1' on node 'node2.example.com' has status 'WARNING'");
  });

  it("a failing or misbehaving program gives no data and a warning", async () => {
    await fs.writeFile(oob, "#!/bin/sh\necho '{\"powered\": true}'\n", { mode: 0o755 });
    const job = await runJob(c, [{ OP_ID: "OP_OOB_COMMAND", command: "health", node_names: ["node2.example.com"] }]);
    expect(job.ops[0]!.result).toEqual([
      [
        [0, "node2.example.com"],
        [2, null],
      ],
    ]);
    expect(
      c
        .jobLog(job)
        .some((l) =>
          l.includes(
            "Payload returned by node 'node2.example.com' is not valid: Check of out-of-band payload failed due to command 'health' is expected to return a list",
          ),
        ),
    ).toBe(true);
    await fs.writeFile(oob, "#!/bin/sh\nexit 3\n", { mode: 0o755 });
    const failed = await runJob(c, [{ OP_ID: "OP_OOB_COMMAND", command: "power-status" }]);
    expect(failed.ops[0]!.result).toEqual([
      [
        [0, "node1.example.com"],
        [3, null],
      ],
      [
        [0, "node2.example.com"],
        [2, null],
      ],
    ]);
    expect(
      c
        .jobLog(failed)
        .some(
          (l) => l.startsWith(" - WARNING: Out-of-band RPC failed on node 'node2.example.com': ") && l.includes("exited with exit code 3"),
        ),
    ).toBe(true);
  });
});
