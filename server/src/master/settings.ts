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
  const raw = JSON.parse(await readFile(file, "utf8")) as unknown;
  return MasterSettingsSchema.parse(raw);
}
