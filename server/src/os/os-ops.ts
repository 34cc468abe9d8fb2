// OS operations the backend calls: install (create/reinstall), rename, validate.
import path from "node:path";
import type { RpcInstance } from "@ganeti-ts/schema";
import { findOs, OS_API_V20, splitOsName, type OsDefinition } from "./os-definition.js";
import { osCoreEnv, osEnvironment, type OsDiskEnv } from "./os-env.js";
import { OsError } from "./os-error.js";
import { failReason, runScriptCapture, runScriptToLog, tailFile, timestampForFilename, type SpawnFn } from "./os-runner.js";

export interface OsOpsContext {
  /** <dataDir>/log/os */
  logDir: string;
  clock: () => number;
  spawn?: SpawnFn;
}

async function requireOs(fullName: string, searchPath: readonly string[]): Promise<OsDefinition> {
  const r = await findOs(fullName, searchPath);
  if (!r.ok) throw new OsError(r.reason);
  return r.os;
}

function logName(ctx: OsOpsContext, kind: string, osName: string, instance: string): string {
  // Names come from the cluster config; keep them from escaping the log dir.
  const safe = (s: string) => s.replace(/[/\0]/g, "_");
  return path.join(ctx.logDir, `${kind}-${safe(osName)}-${safe(instance)}-${timestampForFilename(ctx.clock())}.log`);
}

/** Run the create script (INSTANCE_REINSTALL=1 for reinstall). Returns the log file. */
export async function installOs(
  ctx: OsOpsContext,
  instance: RpcInstance,
  opts: { reinstall: boolean; debug: number; searchPath: readonly string[]; disks: OsDiskEnv[]; secret?: Record<string, unknown> },
): Promise<string> {
  const os = await requireOs(instance.os, opts.searchPath);
  const env = osEnvironment(instance, os, opts.debug, opts.disks, opts.secret);
  if (opts.reinstall) env["INSTANCE_REINSTALL"] = "1";
  // Untrusted-only definitions are run as is: we have no sandbox yet.
  const script = os.scripts.create ?? os.scripts.create_untrusted!;
  const logFile = logName(ctx, "add", instance.os, instance.name);
  const r = await runScriptToLog({ script, cwd: os.path, env, logFile, spawn: ctx.spawn });
  if (r.code !== 0) {
    const lines = await tailFile(logFile);
    throw new OsError(`OS create script failed (${failReason(r)}), last lines in the log file:\n${lines.join("\n")}`);
  }
  return logFile;
}

export async function renameOs(
  ctx: OsOpsContext,
  instance: RpcInstance,
  opts: { oldName: string; debug: number; searchPath: readonly string[]; disks: OsDiskEnv[] },
): Promise<string> {
  const os = await requireOs(instance.os, opts.searchPath);
  const env = osEnvironment(instance, os, opts.debug, opts.disks);
  env["OLD_INSTANCE_NAME"] = opts.oldName;
  const logFile = logName(ctx, "rename", instance.os, `${opts.oldName}-${instance.name}`);
  const r = await runScriptToLog({ script: os.scripts.rename!, cwd: os.path, env, logFile, spawn: ctx.spawn });
  if (r.code !== 0) {
    const lines = await tailFile(logFile);
    throw new OsError(`OS rename script failed (${failReason(r)}), last lines in the log file:\n${lines.join("\n")}`);
  }
  return logFile;
}

const VALIDATE_CHECKS = new Set(["parameters"]);

/** Ganeti's ValidateOS: false when the OS is absent and not required; throws when invalid. */
export async function validateOs(
  ctx: OsOpsContext,
  opts: { required: boolean; name: string; checks: string[]; osparams: Record<string, unknown>; searchPath: readonly string[] },
): Promise<boolean> {
  const unknown = opts.checks.filter((c) => !VALIDATE_CHECKS.has(c));
  if (unknown.length > 0) throw new OsError(`Unknown checks required for OS ${opts.name}: ${unknown.join(", ")}`);
  const r = await findOs(opts.name, opts.searchPath);
  if (!r.ok) {
    if (opts.required) throw new OsError(r.reason);
    return false;
  }
  const os = r.os;
  checkVariant(os, opts.name);
  if (Math.max(...os.apiVersions) < OS_API_V20) return true;
  if (opts.checks.includes("parameters")) {
    const supported = new Set(os.parameters.map(([n]) => n));
    const bad = Object.keys(opts.osparams).filter((p) => !supported.has(p));
    if (bad.length > 0) {
      throw new OsError(`The following parameters are not supported by the OS ${os.name}: ${bad.join(", ")}`);
    }
  }
  const env = osCoreEnv(opts.name, os, opts.osparams, 0);
  const res = await runScriptCapture({ script: os.scripts.verify!, args: opts.checks, cwd: os.path, env, spawn: ctx.spawn });
  if (res.code !== 0) throw new OsError(`OS validation script failed (${failReason(res)}), output: ${res.output}`);
  return true;
}

function checkVariant(os: OsDefinition, fullName: string): void {
  const { variant } = splitOsName(fullName);
  if (os.variants.length === 0) {
    if (variant) throw new OsError(`OS '${os.name}' does not support variants ('${variant}' passed)`);
    return;
  }
  if (!variant) throw new OsError(`OS name '${fullName}' must include a variant`);
  if (!os.variants.includes(variant)) throw new OsError(`OS '${os.name}' does not support variant '${variant}'`);
}
