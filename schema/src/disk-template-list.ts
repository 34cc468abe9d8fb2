// Ganeti's disk template names as a plain list, in a module without zod:
// code that needs only the names and the disk-template table (the htools
// bundles) then loads neither zod nor the schemas, which would cost each of
// their starts tens of milliseconds (docs/htools.md, "Start-up").
export const DISK_TEMPLATES = ["diskless", "file", "sharedfile", "plain", "drbd", "blockdev", "rbd", "ext", "gluster"] as const;
