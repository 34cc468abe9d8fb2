// Connection settings for the gnt CLI: flags > environment > config file >
// defaults. The config file is JSON (~/.config/ganeti-ts/config.json or
// --config): {"url", "user", "password", "ca", "fingerprint", "insecure", "timeout"}.
import { readFileSync, existsSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { GanetiClientOptions } from "@ganeti-ts/sdk";
import { CliError } from "./errors.js";

export interface ConnectionFlags {
  url?: string;
  user?: string;
  password?: string;
  ca?: string;
  fingerprint?: string;
  insecure?: boolean;
  timeout?: string | number;
  config?: string;
}

interface ResolvedConnection {
  url: string;
  user?: string;
  password?: string;
  ca?: string;
  fingerprint?: string;
  insecure: boolean;
  timeoutMs?: number;
  /** Where each value came from, for `gnt config` style diagnostics. */
  sources: Record<string, "flag" | "env" | "file" | "default">;
}

export const DEFAULT_URL = "https://127.0.0.1:5080";

export function defaultConfigPath(env: NodeJS.ProcessEnv): string {
  const base = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), ".config");
  return join(base, "ganeti-ts", "config.json");
}

function readConfigFile(path: string, explicit: boolean): Record<string, unknown> {
  if (!existsSync(path)) {
    if (explicit) throw new CliError(`config file ${path} not found`, 2);
    return {};
  }
  try {
    const data: unknown = JSON.parse(readFileSync(path, "utf8"));
    if (!data || typeof data !== "object" || Array.isArray(data)) throw new Error("not a JSON object");
    return data as Record<string, unknown>;
  } catch (err) {
    throw new CliError(`cannot read config file ${path}: ${(err as Error).message}`, 2);
  }
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === "string" && /^(1|true|yes|on)$/i.test(v));
}

export function resolveConnection(flags: ConnectionFlags, env: NodeJS.ProcessEnv): ResolvedConnection {
  const file = readConfigFile(flags.config ?? env.GANETI_TS_CONFIG ?? defaultConfigPath(env), Boolean(flags.config));
  const sources: ResolvedConnection["sources"] = {};
  const pick = (key: string, flag: unknown, envName: string, fileKey: string): string | undefined => {
    if (flag !== undefined && flag !== "") {
      sources[key] = "flag";
      return String(flag);
    }
    const e = env[envName];
    if (e !== undefined && e !== "") {
      sources[key] = "env";
      return e;
    }
    const f = file[fileKey];
    if (f !== undefined && f !== null && f !== "") {
      sources[key] = "file";
      return String(f);
    }
    return undefined;
  };
  const url = pick("url", flags.url, "GANETI_RAPI_URL", "url");
  const insecureRaw = pick("insecure", flags.insecure || undefined, "GANETI_RAPI_INSECURE", "insecure");
  const timeout = pick("timeout", flags.timeout, "GANETI_RAPI_TIMEOUT", "timeout");
  const out: ResolvedConnection = {
    url: url ?? DEFAULT_URL,
    insecure: truthy(insecureRaw),
    sources,
  };
  if (!url) sources.url = "default";
  const user = pick("user", flags.user, "GANETI_RAPI_USER", "user");
  const password = pick("password", flags.password, "GANETI_RAPI_PASSWORD", "password");
  const ca = pick("ca", flags.ca, "GANETI_RAPI_CA", "ca");
  const fingerprint = pick("fingerprint", flags.fingerprint, "GANETI_RAPI_FINGERPRINT", "fingerprint");
  if (user !== undefined) out.user = user;
  if (password !== undefined) out.password = password;
  if (ca !== undefined) out.ca = ca;
  if (fingerprint !== undefined) out.fingerprint = fingerprint;
  if (timeout !== undefined) {
    const secs = Number(timeout);
    if (!Number.isFinite(secs) || secs <= 0) throw new CliError(`invalid timeout ${JSON.stringify(timeout)} (seconds)`, 2);
    out.timeoutMs = Math.round(secs * 1000);
  }
  return out;
}

/** SDK client options from resolved settings. */
export function clientOptions(c: ResolvedConnection): GanetiClientOptions {
  // Several comma-separated URLs: the master candidates of an HA cluster.
  const [first, ...more] = c.url
    .split(",")
    .map((u) => u.trim())
    .filter(Boolean);
  const o: GanetiClientOptions = { baseUrl: first ?? c.url, userAgent: "ganeti-ts-gnt" };
  if (more.length > 0) o.baseUrls = more;
  if (c.user !== undefined) o.username = c.user;
  if (c.password !== undefined) o.password = c.password;
  if (c.fingerprint) o.fingerprint = c.fingerprint;
  else if (c.insecure) o.insecure = true;
  else if (c.ca) o.caFile = c.ca;
  if (c.timeoutMs !== undefined) o.timeoutMs = c.timeoutMs;
  return o;
}
