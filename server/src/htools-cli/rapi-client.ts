// A minimal RAPI client for the htools CLIs (node:https only, so the bundled
// CLIs stay small and start fast): the reads of the -m backend and, for
// `hbal -X`, job submission and waiting.
import { readFileSync } from "node:fs";
import type http from "node:http";
import type https from "node:https";
import { HtoolsError } from "../htools/types.js";

const DEFAULT_RAPI_PORT = 5080;

// node:http and node:https are loaded on first use: loading them (TLS
// included) costs ~20 ms of start-up that the file backends never need.
const httpMod = (): typeof http => process.getBuiltinModule("node:http");
const httpsMod = (): typeof https => process.getBuiltinModule("node:https");

/** Ganeti's -m argument: HOST, HOST:PORT or a full http(s) URL; HTTPS on port 5080 by default. */
export function rapiBase(master: string): string {
  if (/^https?:\/\//.test(master)) return master.replace(/\/+$/, "");
  const colons = master.split(":").length - 1;
  if (master.startsWith("[")) return /\]:\d+$/.test(master) ? `https://${master}` : `https://${master}:${DEFAULT_RAPI_PORT}`;
  if (colons === 1) return `https://${master}`;
  if (colons > 1) return `https://[${master}]:${DEFAULT_RAPI_PORT}`; // a bare IPv6 address
  return `https://${master}:${DEFAULT_RAPI_PORT}`;
}

export interface RapiCredentials {
  user?: string;
  password?: string;
  /** PEM of the RAPI certificate (or its CA); without it the certificate is not verified (as Ganeti's htools). */
  ca?: Buffer;
}

/** A RAPI answer with an HTTP error status. */
class RapiHttpError extends HtoolsError {
  constructor(
    message: string,
    readonly status: number,
    readonly body: string,
  ) {
    super(message, "ERAPI");
  }
}

/** The `message` (and `explain`) of a RAPI error body, if it is one. */
function errorText(body: string): string {
  try {
    const j = JSON.parse(body) as { message?: unknown; explain?: unknown };
    const parts = [j.message, j.explain].filter((x) => typeof x === "string" && x.length > 0);
    if (parts.length > 0) return parts.join(": ");
  } catch {
    // not JSON: use the raw text
  }
  return body.trim().slice(0, 200);
}

export class RapiClient {
  readonly base: string;
  private readonly auth: string | undefined;
  private readonly agent: http.Agent;

  constructor(master: string, creds: RapiCredentials = {}) {
    this.base = rapiBase(master);
    this.auth = creds.user !== undefined ? "Basic " + Buffer.from(`${creds.user}:${creds.password ?? ""}`).toString("base64") : undefined;
    const tls: https.AgentOptions = creds.ca
      ? // The cluster certificate names the cluster, not the address we dial: check the chain only.
        { ca: creds.ca, checkServerIdentity: () => undefined }
      : { rejectUnauthorized: false };
    this.agent = this.base.startsWith("https:")
      ? new (httpsMod().Agent)({ keepAlive: true, ...tls })
      : new (httpMod().Agent)({ keepAlive: true });
  }

  get canWrite(): boolean {
    return this.auth !== undefined;
  }

  /** One request; resolves to the response text of a 2xx answer. */
  request(method: string, path: string, body?: unknown, timeoutMs = 60_000): Promise<string> {
    const url = `${this.base}${path}`;
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const headers: Record<string, string> = { Accept: "application/json" };
    if (payload) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(payload.length);
    }
    if (this.auth) headers["Authorization"] = this.auth;
    const mod = url.startsWith("https:") ? httpsMod() : httpMod();
    return new Promise((resolve, reject) => {
      const req = mod.request(url, { method, headers, agent: this.agent, timeout: timeoutMs }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          const status = res.statusCode ?? 0;
          if (status >= 200 && status < 300) resolve(text);
          else reject(new RapiHttpError(`RAPI error for '${url}': HTTP ${status}${text ? ` (${errorText(text)})` : ""}`, status, text));
        });
        res.on("error", reject);
      });
      req.on("timeout", () => req.destroy(new HtoolsError(`Timeout for '${url}'`, "ERAPI")));
      req.on("error", (e) =>
        reject(e instanceof HtoolsError ? e : new HtoolsError(`Curl error for '${url}', error ${e.message}`, "ERAPI")),
      );
      req.end(payload);
    });
  }

  async json(method: string, path: string, body?: unknown, timeoutMs?: number): Promise<unknown> {
    const text = await this.request(method, path, body, timeoutMs);
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new HtoolsError(`RAPI answer for '${this.base}${path}' is not JSON`, "ERAPI");
    }
  }

  close(): void {
    this.agent.destroy();
  }
}

interface CredentialOptions {
  user?: string;
  passwordFile?: string;
  caFile?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * Credentials from the flags, else the environment (GANETI_RAPI_USER,
 * GANETI_RAPI_PASSWORD, GANETI_RAPI_CA: the variables the gnt CLI reads).
 */
export function resolveCredentials(o: CredentialOptions): RapiCredentials {
  const env = o.env ?? process.env;
  const out: RapiCredentials = {};
  const user = o.user ?? env["GANETI_RAPI_USER"];
  if (user !== undefined && user !== "") out.user = user;
  if (o.passwordFile !== undefined) {
    // The first line of the file; a trailing newline is not part of the password.
    out.password = readFileSync(o.passwordFile, "utf8").split(/\r?\n/)[0] ?? "";
  } else if (env["GANETI_RAPI_PASSWORD"] !== undefined) out.password = env["GANETI_RAPI_PASSWORD"];
  if (out.password !== undefined && out.user === undefined) {
    throw new HtoolsError("a RAPI password was given without a user (--rapi-user or GANETI_RAPI_USER)", "EUSAGE");
  }
  const ca = o.caFile ?? env["GANETI_RAPI_CA"];
  if (ca !== undefined && ca !== "") out.ca = readFileSync(ca);
  return out;
}
