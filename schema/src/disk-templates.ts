// Disk templates as data: one row per Ganeti disk template with the facts
// the master, the allocator and the queries ask about it. Ganeti keeps the
// same facts as scattered sets (DTS_INT_MIRROR, DTS_GROWABLE, ...) and
// functions (diskTemplateToStorageType, templateMirrorType, ...); here each
// set is a column, so a new template is one row (plus its disk strategy on
// the master).
import type { DiskTemplate, StorageType } from "./common.js";
import { DISK_TEMPLATES } from "./disk-template-list.js";

/** How an instance's data survives the loss of its primary node (Ganeti's MirrorType). */
export type MirrorKind = "none" | "internal" | "external";

export interface DiskTemplateInfo {
  /** The storage type its space comes from (Ganeti's MAP_DISK_TEMPLATE_STORAGE_TYPE). */
  storageType: StorageType;
  /**
   * internal: copied by the cluster between a primary and a secondary node
   * (DTS_INT_MIRROR); external: reachable from every node, a SAN or nothing
   * to copy (DTS_EXT_MIRROR); none: on the primary only.
   */
  mirror: MirrorKind;
  /** Nodes holding the data: primary (+ secondary). */
  nodes: 1 | 2;
  /** A disk is an image file (DTS_FILEBASED). */
  fileBased: boolean;
  /** The image files live in a directory named after the instance (DTS_INSTANCE_DEPENDENT_PATH). */
  instanceDependentPath: boolean;
  /** The disks can be grown (DTS_GROWABLE). */
  growable: boolean;
  /** An instance moves to another node without copying its data (Ganeti's diskTemplateMovable). */
  movable: boolean;
  /** htools may move such instances between nodes (htools' movableDiskTemplates). */
  balancerMovable: boolean;
  /** The data sits on the nodes' own storage, which htools accounts (htools' localStorageTemplates). */
  localStorage: boolean;
  /** The space a disk takes counts against its storage (Ganeti's ComputeDiskSize: not diskless, not blockdev). */
  usesSpace: boolean;
  /** MiB taken per disk beyond its size (drbd: its metadata volume, DRBD_META_SIZE). */
  metaPerDisk: number;
  /** Based on LVM volume groups (DTS_LVM). */
  lvm: boolean;
  /** Offers block devices rather than files (DTS_BLOCK). */
  block: boolean;
  /** Disks can be snapshotted, so instances can be exported (DTS_SNAPSHOT_CAPABLE). */
  snapshot: boolean;
  /** Existing storage can (may) or must be adopted at creation (DTS_MAY_ADOPT, DTS_MUST_ADOPT). */
  adoption: "no" | "may" | "must";
  /** Free space is checked before creating disks (not in DTS_NO_FREE_SPACE_CHECK). */
  freeSpaceCheck: boolean;
  /** A disk can be moved to another node by copying it (DTS_COPYABLE). */
  copyable: boolean;
  /** Works with exclusive_storage (DTS_EXCL_STORAGE). */
  exclusiveStorage: boolean;
  /** Instances access the disks in user space through an access parameter (DTS_HAVE_ACCESS). */
  haveAccess: boolean;
  /** An instance can be converted from (DTS_NOT_CONVERTIBLE_FROM) / to (DTS_NOT_CONVERTIBLE_TO) it. */
  convertibleFrom: boolean;
  convertibleTo: boolean;
}

/** Ganeti's DRBD_META_SIZE: MiB of metadata volume per drbd disk. */
export const DRBD_META_SIZE = 128;

const row = (r: Partial<DiskTemplateInfo> & Pick<DiskTemplateInfo, "storageType" | "mirror">): DiskTemplateInfo => ({
  nodes: 1,
  fileBased: false,
  instanceDependentPath: false,
  growable: false,
  movable: false,
  balancerMovable: false,
  localStorage: false,
  usesSpace: true,
  metaPerDisk: 0,
  lvm: false,
  block: false,
  snapshot: false,
  adoption: "no",
  freeSpaceCheck: true,
  copyable: false,
  exclusiveStorage: false,
  haveAccess: false,
  convertibleFrom: true,
  convertibleTo: true,
  ...r,
});

export const DISK_TEMPLATE_INFO: Readonly<Record<DiskTemplate, Readonly<DiskTemplateInfo>>> = {
  diskless: row({
    storageType: "diskless",
    mirror: "external",
    movable: true,
    usesSpace: false,
    convertibleFrom: false,
    convertibleTo: false,
  }),
  file: row({
    storageType: "file",
    mirror: "none",
    fileBased: true,
    instanceDependentPath: true,
    growable: true,
    freeSpaceCheck: false,
    copyable: true,
  }),
  sharedfile: row({
    storageType: "sharedfile",
    mirror: "external",
    fileBased: true,
    instanceDependentPath: true,
    growable: true,
    movable: true,
    balancerMovable: true,
    freeSpaceCheck: false,
  }),
  plain: row({
    storageType: "lvm-vg",
    mirror: "none",
    growable: true,
    localStorage: true,
    lvm: true,
    block: true,
    snapshot: true,
    adoption: "may",
    copyable: true,
    exclusiveStorage: true,
  }),
  drbd: row({
    storageType: "lvm-vg",
    mirror: "internal",
    nodes: 2,
    growable: true,
    balancerMovable: true,
    localStorage: true,
    metaPerDisk: DRBD_META_SIZE,
    lvm: true,
    block: true,
    snapshot: true,
  }),
  blockdev: row({
    storageType: "blockdev",
    mirror: "external",
    balancerMovable: true,
    usesSpace: false,
    block: true,
    adoption: "must",
    convertibleTo: false,
  }),
  rbd: row({
    storageType: "rados",
    mirror: "external",
    growable: true,
    movable: true,
    balancerMovable: true,
    block: true,
    freeSpaceCheck: false,
    haveAccess: true,
  }),
  ext: row({
    storageType: "ext",
    mirror: "external",
    growable: true,
    movable: true,
    balancerMovable: true,
    block: true,
    snapshot: true,
    freeSpaceCheck: false,
    haveAccess: true,
  }),
  gluster: row({
    storageType: "gluster",
    mirror: "external",
    fileBased: true,
    growable: true,
    movable: true,
    balancerMovable: true,
    freeSpaceCheck: false,
    haveAccess: true,
  }),
};

export function isDiskTemplate(t: string): t is DiskTemplate {
  return Object.hasOwn(DISK_TEMPLATE_INFO, t);
}

/**
 * A template's row, or undefined for an unknown name. A disk's dev_type is a
 * template name, except Ganeti's older "drbd8" for drbd.
 */
export function diskTemplateInfo(template: string): Readonly<DiskTemplateInfo> | undefined {
  const t = template === "drbd8" ? "drbd" : template;
  return isDiskTemplate(t) ? DISK_TEMPLATE_INFO[t] : undefined;
}

/** The templates whose row satisfies `pred`, in Ganeti's order (DISK_TEMPLATES). */
export function diskTemplatesWhere(pred: (info: Readonly<DiskTemplateInfo>) => boolean): DiskTemplate[] {
  return DISK_TEMPLATES.filter((t) => pred(DISK_TEMPLATE_INFO[t]));
}

/** The templates taking their space from a storage type (Ganeti's MAP_STORAGE_TYPE_DISK_TEMPLATES). */
export function diskTemplatesOfStorageType(storageType: string): DiskTemplate[] {
  return diskTemplatesWhere((i) => i.storageType === storageType);
}

/** MiB an instance's disks take on each node holding them (Ganeti's ComputeDiskSize). */
export function diskSpaceNeeded(template: string, disks: ReadonlyArray<{ size: number }>): number {
  const info = diskTemplateInfo(template);
  if (!info || !info.usesSpace) return 0;
  return disks.reduce((sum, d) => sum + d.size + info.metaPerDisk, 0);
}

/** A template's mirror kind; undefined for an unknown name. */
export function templateMirror(template: string): MirrorKind | undefined {
  return diskTemplateInfo(template)?.mirror;
}

/** Ganeti's DTS_MIRRORED: the data survives the primary (internal or external mirror). */
export function isMirroredTemplate(template: string): boolean {
  const m = templateMirror(template);
  return m === "internal" || m === "external";
}
