// Node-local settings (<dataDir>/noded.json): resources the node reports
// instead of the real machine's, so a laptop can pretend to be an 8 GiB,
// 4-CPU node and allocation tests are deterministic. Node-local only: the
// master never reads this file.
import { promises as fs } from "node:fs";
import path from "node:path";
import { z } from "zod";
import { NodeBackendError } from "./errors.js";

export const NodeSettingsSchema = z
  .object({
    memory_total: z.number().int().nonnegative(),
    memory_dom0: z.number().int().nonnegative(),
    cpu_total: z.number().int().positive(),
    cpu_nodes: z.number().int().positive(),
    cpu_sockets: z.number().int().positive(),
    cpu_dom0: z.number().int().nonnegative(),
    /** Storage unit size by type ("file", "sharedfile"), MiB. */
    storage_size: z.record(z.string(), z.number().int().nonnegative()),
    bootid: z.string(),
    /**
     * Network namespace (a name under /run/netns) that holds this node's
     * instance networking: bridges are looked up there, taps and the
     * processes using them are created there. Unset: the daemon's own.
     */
    netns: z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/),
    /**
     * Node-local file storage: a cluster directory (e.g. the cluster's
     * file_storage_dir) mapped to where this node really keeps it. Disk
     * logical_ids stay the cluster's paths; every file this node touches
     * below a mapped directory lives below its local directory instead, so
     * two node daemons on one machine keep `file` images apart.
     */
    file_storage_map: z.record(z.string().startsWith("/"), z.string().startsWith("/")),
    /**
     * Where this node keeps a volume group's volumes (plain disks and drbd
     * children, one raw image file per volume): volume group → absolute
     * directory. Unmapped groups live in <dataDir>/volumes/<vg>.
     */
    volume_group_map: z.record(z.string(), z.string().startsWith("/")),
  })
  .partial()
  .strict();
export type NodeSettings = z.infer<typeof NodeSettingsSchema>;

/** The same overrides as constructor options (camelCase, like other options). */
export interface NodeOverrides {
  memoryTotal?: number;
  memoryDom0?: number;
  cpuTotal?: number;
  cpuNodes?: number;
  cpuSockets?: number;
  cpuDom0?: number;
  storageSize?: Record<string, number>;
  bootId?: string;
  netns?: string;
  fileStorageMap?: Record<string, string>;
  volumeGroupMap?: Record<string, string>;
}

export const SETTINGS_FILE = "noded.json";

export async function loadNodeSettings(dataDir: string, overrides: NodeOverrides = {}): Promise<NodeSettings> {
  const file = path.join(dataDir, SETTINGS_FILE);
  let fromFile: NodeSettings = {};
  let raw: string | null = null;
  try {
    raw = await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
      throw new NodeBackendError(`Cannot read ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  if (raw !== null) {
    try {
      fromFile = NodeSettingsSchema.parse(JSON.parse(raw));
    } catch (err) {
      throw new NodeBackendError(`Invalid node settings in ${file}: ${(err as Error).message}`, { cause: err });
    }
  }
  const fromOpts: NodeSettings = NodeSettingsSchema.parse(
    Object.fromEntries(
      Object.entries({
        memory_total: overrides.memoryTotal,
        memory_dom0: overrides.memoryDom0,
        cpu_total: overrides.cpuTotal,
        cpu_nodes: overrides.cpuNodes,
        cpu_sockets: overrides.cpuSockets,
        cpu_dom0: overrides.cpuDom0,
        storage_size: overrides.storageSize,
        bootid: overrides.bootId,
        netns: overrides.netns,
        file_storage_map: overrides.fileStorageMap,
        volume_group_map: overrides.volumeGroupMap,
      }).filter(([, v]) => v !== undefined),
    ),
  );
  return {
    ...fromFile,
    ...fromOpts,
    storage_size: { ...fromFile.storage_size, ...fromOpts.storage_size },
  };
}
