// The helper brings up a real three-node cluster and tears it down.
import { afterAll, beforeAll, expect, it } from "vitest";
import { startLocalCluster, type LocalCluster } from "./cluster.js";

let c: LocalCluster;
beforeAll(async () => {
  c = await startLocalCluster({ nodes: 3 });
}, 180_000);
afterAll(async () => {
  await c?.destroy();
});

it("serves the RAPI over HTTPS and knows all three nodes", async () => {
  const res = await fetch(`${c.url}/2/nodes`).catch((e: unknown) => e);
  // Node's fetch refuses the self-signed certificate: TLS is really on.
  expect(res).toBeInstanceOf(Error);
  const { stdout } = await c.gnt(["node", "list", "--no-headers", "-o", "name"]);
  expect(stdout.trim().split("\n")).toEqual(c.nodes);
});
