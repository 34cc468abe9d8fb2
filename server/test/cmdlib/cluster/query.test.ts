// OP_CLUSTER_QUERY and the pure cluster-info builder behind it and /2/info.
import { afterEach, describe, expect, it } from "vitest";
import { clusterInfo, hostArchitecture } from "../../../src/config/query/cluster-info.js";
import { testCluster, type TestCluster } from "../../harness/cluster.js";
import { runOp } from "../misc/run.js";

let c: TestCluster | undefined;
afterEach(async () => {
  await c?.cleanup();
  c = undefined;
});

describe("clusterInfo", () => {
  it("builds Ganeti's dict from the config alone and copies it", async () => {
    c = await testCluster();
    const data = c.config.data;
    const info = clusterInfo(data, ["64bits", "x86_64"]);
    expect(info["architecture"]).toEqual(["64bits", "x86_64"]);
    expect(info["name"]).toBe(data.cluster.cluster_name);
    expect(info["master"]).toBe(data.nodes[data.cluster.master_node]!.name);
    expect(info["default_hypervisor"]).toBe(data.cluster.enabled_hypervisors[0]);
    expect(info["primary_ip_version"]).toBe(data.cluster.primary_ip_family);
    // RAPI's aliases are not part of the LUXI/opcode dict.
    expect(info).not.toHaveProperty("vg_name");
    expect(info).not.toHaveProperty("drbd_helper");
    (info["enabled_hypervisors"] as string[]).push("mutated");
    expect(data.cluster.enabled_hypervisors).not.toContain("mutated");
  });

  it("maps the host architecture as Python's platform module does", () => {
    expect(hostArchitecture("x64")).toEqual(["64bits", "x86_64"]);
    expect(hostArchitecture("arm64")).toEqual(["64bits", "arm64"]);
    expect(hostArchitecture("ia32")).toEqual(["32bits", "ia32"]);
  });
});

describe("OP_CLUSTER_QUERY", () => {
  it("returns the cluster information dict", async () => {
    c = await testCluster();
    const res = (await runOp(c, { OP_ID: "OP_CLUSTER_QUERY" })) as Record<string, unknown>;
    expect(res).toEqual(clusterInfo(c.config.data));
  });
});
