// The master daemon's own settings (not cluster config): where it listens.
import { readFile } from "node:fs/promises";
import path from "node:path";
import { writeFileAtomic } from "../lib/atomic-file.js";
import { ConfigurationError } from "../lib/errors.js";
import { z } from "zod";

export const MasterSettingsSchema = z.object({
  rapi: z.object({
    address: z.string().default("127.0.0.1"),
    port: z.number().int().min(0).max(65535).default(5080),
    /**
     * Ganeti's --require-authentication: GETs need credentials too. `gnt
     * cluster init` writes true unless --allow-anonymous-reads is given; a
     * settings file without the key (older clusters) keeps Ganeti's default.
     */
    requireAuthentication: z.boolean().default(false),
    /** Largest request body accepted, bytes. */
    maxBodyBytes: z
      .number()
      .int()
      .positive()
      .default(1024 * 1024),
    /** Time allowed for a client to send its request headers, ms. */
    headersTimeoutMs: z.number().int().positive().default(10_000),
    /** Time allowed for a client to send its whole request, body included, ms. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Unfinished jobs anonymous requests may have caused at once (with anonymous reads allowed). */
    anonymousJobLimit: z.number().int().nonnegative().default(10),
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
  /**
   * Run a watcher pass every this many seconds inside the master (0: never;
   * then run `gnt watcher` from cron or a systemd timer, as Ganeti does).
   */
  watcherIntervalSeconds: z.number().min(0).default(0),
});
export type MasterSettings = z.infer<typeof MasterSettingsSchema>;

export async function loadMasterSettings(file: string): Promise<MasterSettings> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT")
      throw new ConfigurationError(`Cannot read ${file}: ${(err as Error).message}`, { cause: err });
    // No settings at all: this directory never held a cluster.
    throw new ConfigurationError(
      `${file} does not exist: ${path.dirname(file)} is not a cluster data directory (create one with 'gnt cluster init')`,
      { cause: err },
    );
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigurationError(`The master settings ${file} are not valid JSON: ${(err as Error).message}`, { cause: err });
  }
  const parsed = MasterSettingsSchema.safeParse(raw);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join(".") || "(top)"}: ${i.message}`).join("; ");
    throw new ConfigurationError(`The master settings ${file} are not valid: ${issues}`, { cause: parsed.error });
  }
  return parsed.data;
}

/** Record the port a daemon bound when asked for port 0, so that a restart binds it again. */
export async function saveMasterRapiPort(file: string, settings: MasterSettings, port: number): Promise<void> {
  await writeFileAtomic(file, JSON.stringify({ ...settings, rapi: { ...settings.rapi, port } }, null, 2));
}
