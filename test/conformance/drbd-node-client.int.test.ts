// Node-level operations on replicated (drbd) instances through Ganeti's own
// Python RAPI client (ganeti.rapi.client of Ganeti 3.0.2, /usr/bin/python3):
// drbd_node_client.py evacuates a node (secondaries to a given node and
// through hail, primaries through hail, mode "all" refused), migrates a
// node, splits the instances across groups (refused without force) and
// converts an instance to drbd with hail choosing the secondary, on a
// three-node local cluster with the fake hypervisor whose replication engine
// keeps real replicas. One vitest test per group of checks.
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe } from "vitest";
import { destroyDrbdCluster, groupTests, runDrbdClient, type ClientRun } from "./drbd-client-run.js";

const SCRIPT = fileURLToPath(new URL("./drbd_node_client.py", import.meta.url));
const GROUPS = [
  "setup",
  "evacuate-secondary-remote",
  "evacuate-secondary-hail",
  "evacuate-primary-hail",
  "node-migrate",
  "group-assign",
  "convert-iallocator",
  "cleanup",
];

describe("node evacuate, node migrate, group assign and conversion of drbd instances through Ganeti's Python RAPI client", () => {
  let r: ClientRun | undefined;
  beforeAll(async () => {
    r = await runDrbdClient(SCRIPT);
  }, 1_600_000);
  afterAll(() => destroyDrbdCluster(r?.cluster), 120_000);

  groupTests(GROUPS, () => r);
});
