import { describe, expect, it } from "vitest";
import {
  DISK_TEMPLATE_INFO,
  DISK_TEMPLATES,
  diskSpaceNeeded,
  diskTemplateInfo,
  diskTemplatesOfStorageType,
  diskTemplatesWhere,
  STORAGE_TYPES,
  type DiskTemplate,
  type DiskTemplateInfo,
} from "../src/index.js";

// Ganeti 3.0's sets (src/Ganeti/Constants.hs, Types.hs, HTools/Instance.hs),
// written out as data: each column of the table must reproduce its set.
const GANETI_SETS: Array<[string, (i: DiskTemplateInfo) => boolean, DiskTemplate[]]> = [
  ["DTS_INT_MIRROR", (i) => i.mirror === "internal", ["drbd"]],
  ["DTS_EXT_MIRROR", (i) => i.mirror === "external", ["diskless", "blockdev", "ext", "sharedfile", "rbd", "gluster"]],
  ["DTS_FILEBASED", (i) => i.fileBased, ["sharedfile", "file", "gluster"]],
  ["DTS_INSTANCE_DEPENDENT_PATH", (i) => i.instanceDependentPath, ["sharedfile", "file"]],
  ["DTS_GROWABLE", (i) => i.growable, ["sharedfile", "drbd", "plain", "ext", "file", "rbd", "gluster"]],
  ["DTS_LVM", (i) => i.lvm, ["plain", "drbd"]],
  ["DTS_BLOCK", (i) => i.block, ["plain", "drbd", "blockdev", "rbd", "ext"]],
  ["DTS_SNAPSHOT_CAPABLE", (i) => i.snapshot, ["plain", "drbd", "ext"]],
  ["DTS_MAY_ADOPT", (i) => i.adoption !== "no", ["blockdev", "plain"]],
  ["DTS_MUST_ADOPT", (i) => i.adoption === "must", ["blockdev"]],
  ["DTS_NO_FREE_SPACE_CHECK", (i) => !i.freeSpaceCheck, ["ext", "sharedfile", "file", "rbd", "gluster"]],
  ["DTS_COPYABLE", (i) => i.copyable, ["plain", "file"]],
  ["DTS_EXCL_STORAGE", (i) => i.exclusiveStorage, ["plain"]],
  ["DTS_HAVE_ACCESS", (i) => i.haveAccess, ["rbd", "gluster", "ext"]],
  ["DTS_NOT_CONVERTIBLE_FROM", (i) => !i.convertibleFrom, ["diskless"]],
  ["DTS_NOT_CONVERTIBLE_TO", (i) => !i.convertibleTo, ["diskless", "blockdev"]],
  ["diskTemplateMovable", (i) => i.movable, ["diskless", "sharedfile", "rbd", "ext", "gluster"]],
  ["htools movableDiskTemplates", (i) => i.balancerMovable, ["drbd", "blockdev", "sharedfile", "gluster", "rbd", "ext"]],
  ["htools localStorageTemplates", (i) => i.localStorage, ["drbd", "plain"]],
  ["htools requiredNodes = 2", (i) => i.nodes === 2, ["drbd"]],
];

const GANETI_STORAGE_TYPE: Record<DiskTemplate, string> = {
  ext: "ext",
  file: "file",
  sharedfile: "sharedfile",
  drbd: "lvm-vg",
  plain: "lvm-vg",
  rbd: "rados",
  diskless: "diskless",
  blockdev: "blockdev",
  gluster: "gluster",
};

describe("disk template table", () => {
  it("has one row per Ganeti disk template", () => {
    expect(Object.keys(DISK_TEMPLATE_INFO).sort()).toEqual([...DISK_TEMPLATES].sort());
  });

  it.each(GANETI_SETS)("reproduces Ganeti's %s", (_name, pred, expected) => {
    expect(diskTemplatesWhere(pred).sort()).toEqual([...expected].sort());
  });

  it("maps templates to Ganeti's storage types, all of them known storage types", () => {
    for (const t of DISK_TEMPLATES) {
      expect(DISK_TEMPLATE_INFO[t].storageType).toBe(GANETI_STORAGE_TYPE[t]);
      expect(STORAGE_TYPES).toContain(DISK_TEMPLATE_INFO[t].storageType);
    }
    expect(diskTemplatesOfStorageType("lvm-vg")).toEqual(["plain", "drbd"]);
    expect(diskTemplatesOfStorageType("rados")).toEqual(["rbd"]);
    expect(diskTemplatesOfStorageType("lvm-pv")).toEqual([]);
  });

  it("mirror kind agrees with the node count: only an internal mirror needs a second node", () => {
    for (const t of DISK_TEMPLATES) expect(DISK_TEMPLATE_INFO[t].nodes === 2).toBe(DISK_TEMPLATE_INFO[t].mirror === "internal");
  });

  it("computes the space an instance needs as Ganeti's ComputeDiskSize", () => {
    const disks = [{ size: 1024 }, { size: 512 }];
    expect(diskSpaceNeeded("drbd", disks)).toBe(1536 + 2 * 128);
    expect(diskSpaceNeeded("plain", disks)).toBe(1536);
    expect(diskSpaceNeeded("file", disks)).toBe(1536);
    expect(diskSpaceNeeded("diskless", [])).toBe(0);
    expect(diskSpaceNeeded("blockdev", disks)).toBe(0);
    expect(diskSpaceNeeded("unknown", disks)).toBe(0);
  });

  it("reads Ganeti's older drbd8 dev_type as drbd, and nothing for unknown names", () => {
    expect(diskTemplateInfo("drbd8")).toBe(DISK_TEMPLATE_INFO.drbd);
    expect(diskTemplateInfo("lvm")).toBeUndefined();
    expect(diskTemplateInfo("toString")).toBeUndefined();
  });
});
