// Finding the master on this machine, as every local verb does: the data
// directory in $GANETI_DATA_DIR, else the packaged default, else ./.demo
// (the `make demo` cluster). A data directory holds a master when it has the
// master's settings (master.json).
import { accessSync, constants, existsSync, readFileSync } from "node:fs";
import path from "node:path";
import { dataPaths } from "@ganeti-ts/server/master/paths";
import { CliError, EXIT } from "./errors.js";

/** Where a packaged install keeps the master's state. */
export const DEFAULT_DATA_DIR = "/var/lib/ganeti-ts";

function holdsMaster(dir: string): boolean {
  return existsSync(dataPaths(dir).masterSettings);
}

/** The local master's data directory, or null when this machine has none (or it cannot be told). */
export function findLocalMaster(env: NodeJS.ProcessEnv, cwd = process.cwd()): string | null {
  const given = env["GANETI_DATA_DIR"];
  if (given) return holdsMaster(given) ? path.resolve(given) : null;
  for (const dir of [DEFAULT_DATA_DIR, path.join(cwd, ".demo")]) if (holdsMaster(dir)) return path.resolve(dir);
  return null;
}

/** The master's data directory for a local verb: the option, else the local master, else a message saying how to name it. */
export function requireLocalMaster(option: string | undefined, env: NodeJS.ProcessEnv, flag = "--master-data-dir"): string {
  if (option) {
    if (!holdsMaster(option)) {
      throw new CliError(
        `${path.resolve(option)} is not a master's data directory (no ${path.basename(dataPaths(option).masterSettings)})`,
      );
    }
    return path.resolve(option);
  }
  const found = findLocalMaster(env);
  if (found) return found;
  const given = env["GANETI_DATA_DIR"];
  throw new CliError(
    given
      ? `GANETI_DATA_DIR=${given} holds no master (no master.json): give the master's data directory with ${flag} DIR`
      : `No master found on this machine (looked at $GANETI_DATA_DIR, ${DEFAULT_DATA_DIR} and ./.demo): ` +
          `give the master's data directory with ${flag} DIR or set GANETI_DATA_DIR`,
    EXIT.USAGE,
  );
}

export type AdminSocketAccess = { socket: string; usable: true } | { socket: string; usable: false; why: string };

/**
 * The local master's admin socket (RAPI for root, no credentials), if this
 * machine runs a master. `usable` is false when this user may not connect
 * (the socket is its owner's only, mode 0600).
 */
export function localAdminSocket(
  env: NodeJS.ProcessEnv,
  check: (p: string) => void = (p) => accessSync(p, constants.R_OK | constants.W_OK),
): AdminSocketAccess | null {
  const dir = findLocalMaster(env);
  if (!dir) return null;
  const socket = dataPaths(dir).adminSocket;
  try {
    check(socket);
    return { socket, usable: true };
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return null;
    return { socket, usable: false, why: code ?? String(err) };
  }
}

/** The RAPI URL the local master really listens on (its runtime file), if any. */
export function localRapiUrl(env: NodeJS.ProcessEnv): { url: string; ca: string | null } | null {
  const dir = findLocalMaster(env);
  if (!dir) return null;
  try {
    const rt = JSON.parse(readFileSync(path.join(dir, "master.runtime.json"), "utf8")) as { rapiUrl?: unknown };
    if (typeof rt.rapiUrl !== "string") return null;
    const ca = dataPaths(dir).rapiCert;
    return { url: rt.rapiUrl, ca: existsSync(ca) ? ca : null };
  } catch {
    return null;
  }
}
