import { describe, expect, it } from "vitest";
import { buildInitialConfig } from "../../src/config/initial-config.js";
import { verifyConfig } from "../../src/config/verify.js";

const fresh = () =>
  buildInitialConfig({
    clusterName: "c.test",
    master: { name: "n1.test", ip: "127.0.0.1", rpcPort: 1811 },
    fileStorageDir: "/tmp/f",
    sharedFileStorageDir: "/tmp/s",
    osSearchPath: [],
  });

describe("verifyConfig (a stored document checked whole)", () => {
  it("finds nothing wrong in a fresh cluster's config", () => {
    expect(verifyConfig(fresh())).toEqual([]);
  });

  it("names broken references, bad names and values", () => {
    const d = fresh();
    const node = Object.values(d.nodes)[0]!;
    d.instances["i1"] = {
      uuid: "i1",
      serial_no: 1,
      ctime: 0,
      mtime: 0,
      tags: [],
      name: "a/b",
      primary_node: "gone",
      secondary_nodes: [],
      os: "noop",
      hypervisor: "fake",
      hvparams: {},
      beparams: { maxmem: -1 },
      osparams: {},
      osparams_private: {},
      admin_state: "up",
      admin_state_source: "admin",
      nics: [],
      disks: ["d-missing"],
      disk_template: "file",
      disks_active: false,
      network_port: null,
    };
    node.group = "no-such-group";
    expect(verifyConfig(d)).toEqual([
      // Ganeti's consistency checks (verifyConfigData) ...
      "instance 'a/b' has invalid primary node 'gone'",
      "Instance 'a/b' has invalid disk 'd-missing'",
      `Node '${node.name}' has invalid group 'no-such-group'`,
      // ... and what a badly validated document shows besides.
      'instance i1: invalid name "a/b"',
      "instance a/b: beparams.maxmem = -1 is not a valid value",
    ]);
    expect(verifyConfig({ nodes: 1 })[0]).toMatch(/^schema: /);
  });
});
