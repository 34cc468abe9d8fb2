// gnt instance info of a drbd disk, as Ganeti's _FormatBlockDevInfo prints it:
// both nodes with their minors, the port, each node's sync state (degraded,
// recovering with ETA), and the data/meta children.
import { describe, expect, it } from "vitest";
import { blockDevStatus, genericInfo, instanceInfo } from "../src/info.js";

const disk = {
  iv_name: "disk/0",
  dev_type: "drbd",
  logical_id: ["u1", "u2", 11000, 0, 1, null],
  drbd_info: { primary_node: "node1.example.com", primary_minor: 0, secondary_node: "node2.example.com", secondary_minor: 1, port: 11000 },
  pstatus: ["/run/ganeti-ts/d0", null, null, 42.5, 30, true, 1],
  sstatus: null,
  children: [
    {
      iv_name: null,
      dev_type: "plain",
      logical_id: ["xenvg", "abc.disk0_data"],
      drbd_info: null,
      pstatus: ["/vols/xenvg/abc.disk0_data", null, null, null, null, false, 1],
      sstatus: ["/vols/xenvg/abc.disk0_data", null, null, null, null, false, 4],
      children: [],
      mode: null,
      size: 1024,
      spindles: null,
      name: null,
      uuid: "c0",
    },
  ],
  mode: "rw",
  size: 1024,
  spindles: null,
  name: null,
  uuid: "d0",
};

describe("gnt instance info: drbd disks", () => {
  it("prints nodeA/nodeB/port, the primary's degraded resync and the children", () => {
    const text = genericInfo(
      instanceInfo({
        name: "i1",
        config_state: "up",
        run_state: "up",
        snodes: ["node2.example.com"],
        disk_template: "drbd",
        disks: [disk],
        nics: [],
      }),
    );
    const lines = text.split("\n");
    const at = lines.findIndex((l) => l.includes("- disk/0: drbd, size 1.0G"));
    expect(at).toBeGreaterThan(0);
    const block = lines.slice(at, at + 13).map((l) => l.trim());
    expect(block).toEqual([
      "- disk/0: drbd, size 1.0G",
      "access mode: rw",
      "nodeA: node1.example.com, minor=0",
      "nodeB: node2.example.com, minor=1",
      "port: 11000",
      "on primary: /run/ganeti-ts/d0 (N/A:N/A) *RECOVERING* 42.50%, ETA 30s, status *DEGRADED*",
      "name: None",
      "UUID: d0",
      "child devices:",
      "- child 0: plain, size 1.0G",
      "logical_id: xenvg/abc.disk0_data",
      "on primary: /vols/xenvg/abc.disk0_data (N/A:N/A)",
      "on secondary: /vols/xenvg/abc.disk0_data (N/A:N/A) *FAILED* (failed drive?)",
    ]);
  });

  it("a healthy mirror is in sync and ok; unknown ETA and local disk states are named", () => {
    expect(blockDevStatus("drbd", ["/d", null, null, null, null, false, 1])).toBe("/d (N/A:N/A) in sync, status ok");
    expect(blockDevStatus("drbd", ["/d", 147, 0, 5, null, true, 3])).toBe(
      "/d (147:0) *RECOVERING*  5.00%, ETA unknown, status *DEGRADED* *UNCERTAIN STATE*",
    );
    expect(blockDevStatus("drbd", ["/d", null, null, null, null, true, 4])).toBe("/d (N/A:N/A) in sync, status *DEGRADED* *MISSING DISK*");
    expect(blockDevStatus("file", ["/f", null, null, null, null, false, 1])).toBe("/f (N/A:N/A)");
  });
});
