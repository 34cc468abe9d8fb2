// The master daemon's own settings (not cluster config): where it listens.
import { readFile } from "node:fs/promises";
import { z } from "zod";

export const MasterSettingsSchema = z.object({
  rapi: z.object({
    address: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(5080),
    /** Ganeti's --require-authentication: GETs need credentials too. */
    requireAuthentication: z.boolean().default(false),
    /** Plain HTTP (Ganeti's --no-ssl); HTTPS is the default. */
    noSsl: z.boolean().default(false),
  }),
  /**
   * Where config and jobs live: "file" (this data dir, the default) or
   * "etcd" (shared by the master candidates, for failover). `managed`: the
   * candidates run the etcd members themselves (members lists them).
   */
  store: z
    .object({
      kind: z.enum(["file", "etcd"]).default("file"),
      endpoints: z.array(z.string()).default([]),
      prefix: z.string().default("ganeti/"),
      managed: z.boolean().default(false),
      /** Seconds a master's leadership outlives its last keepalive (failover takes about this long). */
      leaseTtl: z.number().int().min(2).default(10),
    })
    .default({ kind: "file", endpoints: [], prefix: "ganeti/", managed: false, leaseTtl: 10 }),
  /** Ganeti's external master IP setup script, used when the cluster's use_external_mip_script is on. */
  masterIpSetupScript: z.string().default("/etc/ganeti/scripts/master-ip-setup"),
  /** Seconds after which finalized jobs are archived (Ganeti's watcher: 6 h). */
  archiveAfterSeconds: z.number().default(6 * 3600),
});
export type MasterSettings = z.infer<typeof MasterSettingsSchema>;

export async function loadMasterSettings(file: string): Promise<MasterSettings> {
  const raw = JSON.parse(await readFile(file, "utf8")) as unknown;
  return MasterSettingsSchema.parse(raw);
}
