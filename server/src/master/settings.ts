// The master daemon's own settings (not cluster config): where it listens.
import { readFile } from "node:fs/promises";
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
    maxBodyBytes: z.number().int().positive().default(1024 * 1024),
    /** Time allowed for a client to send its request headers, ms. */
    headersTimeoutMs: z.number().int().positive().default(10_000),
    /** Time allowed for a client to send its whole request, body included, ms. */
    requestTimeoutMs: z.number().int().positive().default(30_000),
    /** Unfinished jobs anonymous requests may have caused at once (with anonymous reads allowed). */
    anonymousJobLimit: z.number().int().nonnegative().default(10),
    /** Plain HTTP (Ganeti's --no-ssl); HTTPS is the default. */
    noSsl: z.boolean().default(false),
  }),
  /** Seconds after which finalized jobs are archived (Ganeti's watcher: 6 h). */
  archiveAfterSeconds: z.number().default(6 * 3600),
});
export type MasterSettings = z.infer<typeof MasterSettingsSchema>;

export async function loadMasterSettings(file: string): Promise<MasterSettings> {
  const raw = JSON.parse(await readFile(file, "utf8")) as unknown;
  return MasterSettingsSchema.parse(raw);
}
