// gnt node list-storage and gnt node volumes, printed as Ganeti's gnt-node
// prints them (its column titles, sizes with units, allocatable as Y/N).
import nock from "nock";
import { describe, expect, it } from "vitest";
import { BASE, capture, mockCapture, mockJob, useNock } from "../../sdk/test/helpers/captures.js";
import { gnt } from "./helpers.js";

useNock();

describe("gnt node list-storage", () => {
  it("a captured Ganeti storage job: Ganeti's titles, sizes with units, Y/N", async () => {
    mockJob("captures", 23);
    const r = await gnt(["node", "list-storage", "-t", "file", "-o", "name,size,used,free,allocatable", "node1.ganeti.test"]);
    expect(r.code).toBe(0);
    expect(r.out.split("\n")).toEqual([
      "Name                       Size Used  Free Allocatable",
      "/srv/ganeti/file-storage 252.0G   0M 78.3G Y",
    ]);
  });

  it("--separator gives MiB, --no-headers drops the titles", async () => {
    mockJob("captures", 23);
    const r = await gnt([
      "node",
      "list-storage",
      "-t",
      "file",
      "-o",
      "name,size,used,free,allocatable",
      "--separator",
      "|",
      "--no-headers",
      "node1.ganeti.test",
    ]);
    expect(r.out).toBe("/srv/ganeti/file-storage|258020|0|80188|Y");
  });
});

describe("gnt node volumes", () => {
  it("submits OP_NODE_QUERYVOLS and prints Ganeti's table", async () => {
    // The job's exchanges: a captured job's wait, with this job's result.
    nock(BASE)
      .post("/2/ganeti-ts/node-volumes", { output_fields: ["node", "phys", "vg", "name", "size", "instance"], nodes: [] })
      .reply(200, "5");
    for (let i = 24; i <= 26; i++) mockCapture(capture(i));
    const last = capture(27);
    const rows = [
      ["node1.example.com", "/var/lib/ganeti-ts/volumes/xenvg", "xenvg", "a1.disk0_data", "1024", "d1.example.com"],
      ["node1.example.com", "/var/lib/ganeti-ts/volumes/xenvg", "xenvg", "a1.disk0_meta", "128", "d1.example.com"],
      ["node1.example.com", "/var/lib/ganeti-ts/volumes/xenvg", "xenvg", "stray", "10", "-"],
    ];
    mockCapture(last, { response: { ...(last.response_body as object), opresult: [rows] } });
    const r = await gnt(["node", "volumes"]);
    expect(r.code).toBe(0);
    expect(r.out.split("\n")).toEqual([
      "Node              PhysDev                          VG    Name          Size Instance",
      "node1.example.com /var/lib/ganeti-ts/volumes/xenvg xenvg a1.disk0_data 1.0G d1.example.com",
      "node1.example.com /var/lib/ganeti-ts/volumes/xenvg xenvg a1.disk0_meta 128M d1.example.com",
      "node1.example.com /var/lib/ganeti-ts/volumes/xenvg xenvg stray          10M -",
    ]);
  });
});

describe("gnt cluster modify for drbd", () => {
  it("--vg-name and --drbd-usermode-helper go to the RAPI as vg_name and drbd_helper", async () => {
    nock(BASE)
      .put("/2/modify", { vg_name: "xenvg", drbd_helper: "/bin/true", enabled_disk_templates: ["drbd", "plain", "file"] })
      .reply(200, "42");
    const r = await gnt([
      "cluster",
      "modify",
      "--submit",
      "--enabled-disk-templates",
      "drbd,plain,file",
      "--vg-name",
      "xenvg",
      "--drbd-usermode-helper",
      "/bin/true",
    ]);
    expect(r).toMatchObject({ code: 0, out: "42" });
  });
});
