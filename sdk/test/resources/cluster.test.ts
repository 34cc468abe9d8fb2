import { describe, expect, it } from "vitest";
import { capture, mock, mockCapture, testClient, useNock } from "../helpers/captures.js";

useNock();

describe("client.cluster", () => {
  it("version() → GET /version", async () => {
    mock("captures", 2);
    expect(await testClient().cluster.version()).toBe(2);
  });

  it("features() → GET /2/features", async () => {
    mock("captures", 6);
    const f = await testClient().cluster.features();
    expect(f).toContain("instance-create-reqv1");
  });

  it("features() treats 404 as no features (old servers)", async () => {
    mockCapture(capture(6), { status: 404, response: { code: 404, message: "Not Found", explain: "Nothing matches the given URI" } });
    expect(await testClient().cluster.features()).toEqual([]);
  });

  it("info() → GET /2/info parsed", async () => {
    mock("captures", 5);
    const info = await testClient().cluster.info();
    expect(info.name).toBe("cluster.ganeti.test");
    expect(info.software_version).toBe("3.0.2");
    expect(info.enabled_disk_templates).toContain("diskless");
    // unknown keys survive (loose objects)
    expect((info as Record<string, unknown>).ssh_key_type).toBe("rsa");
  });

  it("redistributeConfig() → PUT /2/redistribute-config and waits", async () => {
    mock("captures", [408, 412]);
    const h = testClient().cluster.redistributeConfig();
    expect(await h).toBe(capture(408).response_body);
    expect(await h.wait()).toEqual([null]);
  });

  it("modify() → PUT /2/modify with the body", async () => {
    const c = { ...capture(408), path: "/2/modify", request_body: { candidate_pool_size: 5 }, response_body: 77 };
    mockCapture(c);
    expect(await testClient().cluster.modify({ candidate_pool_size: 5 })).toBe(77);
  });

  it("verify(), verifyDisks(), repairDiskSizes() → POST /2/ganeti-ts/... (extension) with the body", async () => {
    const base = { ...capture(408), method: "POST" };
    mockCapture({
      ...base,
      path: "/2/ganeti-ts/verify",
      request_body: { error_codes: true, skip_checks: ["nplusone_mem"] },
      response_body: 78,
    });
    expect(await testClient().cluster.verify({ error_codes: true, skip_checks: ["nplusone_mem"] })).toBe(78);
    mockCapture({ ...base, path: "/2/ganeti-ts/verify-disks", request_body: {}, response_body: 79 });
    expect(await testClient().cluster.verifyDisks()).toBe(79);
    mockCapture({ ...base, path: "/2/ganeti-ts/repair-disk-sizes", request_body: { instances: ["web1"] }, response_body: 80 });
    expect(await testClient().cluster.repairDiskSizes({ instances: ["web1"] })).toBe(80);
    mockCapture({ ...base, path: "/2/ganeti-ts/oob", request_body: { command: "power-status", node_names: ["n2"] }, response_body: 81 });
    expect(await testClient().nodes.oob({ command: "power-status", node_names: ["n2"] })).toBe(81);
  });
});
