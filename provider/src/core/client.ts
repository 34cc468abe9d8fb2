// Connection settings, resolved at call time (never at module scope, never
// stored on the provider object that Pulumi serializes into the state):
// stack config handed over by `configure()` first, then the environment.
import { readFileSync } from "node:fs";
import { GanetiClient, type GanetiClientOptions } from "@ganeti-ts/sdk";
import { ConfigurationError } from "./errors.js";

/** What `configure()` receives: Pulumi's dynamic-provider Config (namespaced keys). */
export interface ConfigSource {
  get(key: string): string | undefined;
}

/** Stack config keys and the environment variables that back them. */
export const CONFIG_KEYS = {
  url: { key: "ganeti:url", env: "GANETI_RAPI_URL" },
  user: { key: "ganeti:user", env: "GANETI_RAPI_USER" },
  password: { key: "ganeti:password", env: "GANETI_RAPI_PASSWORD" },
  caCert: { key: "ganeti:caCert", env: "GANETI_RAPI_CA" },
  fingerprint: { key: "ganeti:fingerprint", env: "GANETI_RAPI_FINGERPRINT" },
  insecure: { key: "ganeti:insecure", env: "GANETI_RAPI_INSECURE" },
} as const;

// The host process's config, set by configure(); lives only in memory of
// the process that runs the provider.
let configured: ConfigSource | undefined;

export function setConfig(config: ConfigSource | undefined): void {
  configured = config;
}

function setting(name: keyof typeof CONFIG_KEYS, env: NodeJS.ProcessEnv): string | undefined {
  const { key, env: envName } = CONFIG_KEYS[name];
  const v = configured?.get(key) ?? env[envName];
  return v === undefined || v === "" ? undefined : v;
}

function truthy(v: string | undefined): boolean {
  return v !== undefined && /^(1|true|yes|on)$/i.test(v);
}

/** Build SDK options from config/env. `caCert` is PEM text or a path to a PEM file. */
export function resolveClientOptions(env: NodeJS.ProcessEnv = process.env): GanetiClientOptions {
  const baseUrl = setting("url", env);
  if (!baseUrl) {
    throw new ConfigurationError(
      `no Ganeti RAPI URL: set \`pulumi config set ${CONFIG_KEYS.url.key} https://HOST:5080\` or ${CONFIG_KEYS.url.env}`,
    );
  }
  const opts: GanetiClientOptions = { baseUrl, userAgent: "ganeti-ts-pulumi" };
  const user = setting("user", env);
  const password = setting("password", env);
  if (user !== undefined) opts.username = user;
  if (password !== undefined) opts.password = password;
  if ((user === undefined) !== (password === undefined)) {
    throw new ConfigurationError(`set both ${CONFIG_KEYS.user.key} and ${CONFIG_KEYS.password.key} (or neither)`);
  }
  const ca = setting("caCert", env);
  if (ca !== undefined) opts.ca = ca.includes("-----BEGIN") ? ca : readFileSync(ca, "utf8");
  const fp = setting("fingerprint", env);
  if (fp !== undefined) opts.fingerprint = fp;
  if (truthy(setting("insecure", env))) opts.insecure = true;
  return opts;
}

/** Run `fn` with a fresh client; the client is closed afterwards. */
export async function withClient<T>(fn: (c: GanetiClient) => Promise<T>): Promise<T> {
  const client = new GanetiClient(resolveClientOptions());
  try {
    return await fn(client);
  } finally {
    client.close();
  }
}
