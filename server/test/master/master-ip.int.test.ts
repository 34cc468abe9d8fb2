// The master IP setup script interface: an external script gets start/stop
// and the MASTER_* variables; the default leaves a loopback master IP alone.
import { chmod, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { expect, it } from "vitest";
import { setupMasterIp } from "../../src/master/master-ip.js";

it("runs the cluster's own script with Ganeti's arguments and environment", async () => {
  const dir = await mkdtemp(path.join(tmpdir(), "gts-mip-"));
  try {
    const out = path.join(dir, "calls");
    const script = path.join(dir, "master-ip-setup");
    await writeFile(script, `#!/bin/sh\necho "$1 $MASTER_IP $MASTER_NETMASK $MASTER_NETDEV $CLUSTER_IP_VERSION" >> "${out}"\n`);
    await chmod(script, 0o755);
    const p = { ip: "192.0.2.100", netmask: 24, netdev: "br0", external: true, script };
    await setupMasterIp("start", p);
    await setupMasterIp("stop", { ...p, ip: "2001:db8::1", netmask: 64 });
    expect((await readFile(out, "utf8")).trim().split("\n")).toEqual(["start 192.0.2.100 24 br0 4", "stop 2001:db8::1 64 br0 6"]);
    await expect(setupMasterIp("start", { ...p, script: path.join(dir, "missing") })).rejects.toThrow();
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

it("leaves a loopback master IP alone by default", async () => {
  const r = await setupMasterIp("start", { ip: "127.0.0.11", netmask: 32, netdev: "lo", external: false, script: "/nonexistent" });
  expect(r).toMatch(/loopback address: nothing to start/);
});
