// Job-log wording shared by the LUs: Ganeti's " - INFO: " / " - WARNING: "
// prefixes, error texts for warnings, and sizes as Ganeti prints them.
import { GanetiError } from "../../lib/errors.js";

export { logInfo, logWarning } from "./node.js";

/** Turn any error into its message (for warnings). */
export function errText(err: unknown): string {
  return err instanceof GanetiError || err instanceof Error ? err.message : String(err);
}

/** Ganeti's utils.FormatUnit(value, "h"). */
export function formatUnit(mib: number): string {
  if (mib < 1024) return `${Math.round(mib)}M`;
  if (mib < 1024 * 1024) return `${(mib / 1024).toFixed(1)}G`;
  return `${(mib / (1024 * 1024)).toFixed(1)}T`;
}

/** The "waiting for sync" lines Ganeti's WaitForSync prints around its progress. */
export function logDiskSync(ctx: { log(message: string): void }, instanceName: string, phase: "start" | "done"): void {
  if (phase === "start") ctx.log(` - INFO: Waiting for instance ${instanceName} to sync disks`);
  else ctx.log(` - INFO: Instance ${instanceName}'s disks are in sync`);
}
