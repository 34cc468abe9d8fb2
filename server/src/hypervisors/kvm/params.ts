// kvm parameter checks on the node. The master already ran Ganeti's
// CheckParameterSyntax (the hvparams table in schema: types, per-parameter
// syntax, kvm's checks across parameters); the node runs it again on what it
// is asked to start, then Ganeti's ValidateParameters: the files and
// directories the parameters name (the table's `path` kinds) exist here.
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import { HV_PARAMETERS, ParamError, validateHvParams } from "@ganeti-ts/schema";
import { lookupUser } from "../../lib/users.js";

/** CheckParameterSyntax on filled kvm parameters: null when valid, else Ganeti's message. */
export function checkKvmParameterRules(hv: Record<string, unknown>): string | null {
  try {
    validateHvParams("kvm", hv, { partial: false });
    return null;
  } catch (err) {
    if (err instanceof ParamError) return err.message;
    throw err;
  }
}

async function exists(p: string): Promise<boolean> {
  return fs.stat(p).then(
    () => true,
    () => false,
  );
}
async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isFile(),
    () => false,
  );
}
async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then(
    (s) => s.isDirectory(),
    () => false,
  );
}
const isUrl = (v: string) => /^(https?|ftp):\/\//.test(v);

/** What the node's own checks look at (tests point them elsewhere). */
export interface KvmNodeEnv {
  /** The node's SPICE TLS certificate (with key) and CA certificate. */
  spiceCert?: string;
  spiceCaCert?: string;
  /** vhost-net's device. */
  vhostNet?: string;
  passwd?: string;
}

const truthy = (v: unknown): boolean => v === true || v === "true" || v === "True";

/** Ganeti's ValidateParameters: null when valid, else its "fails validation" message. */
export async function validateKvmParameters(hv: Record<string, unknown>, env: KvmNodeEnv = {}): Promise<string | null> {
  for (const [name, spec] of Object.entries(HV_PARAMETERS["kvm"] ?? {})) {
    if (!spec.path) continue;
    const v = hv[name];
    const value = typeof v === "string" ? v : "";
    if (!value && !spec.required) continue;
    const fail = (err: string) => `Parameter '${name}' fails validation: ${err} (current value: '${value}')`;
    if (spec.path === "file" && !(await isFile(value))) return fail("not found or not a file");
    if (spec.path === "dir" && !(await isDir(value))) return fail("not found or not a directory");
    if (spec.path === "file-or-url" && !isUrl(value) && !(await isFile(value))) return fail("not found or not a file or URL");
  }
  // What this node can do (Ganeti fails these when it starts the instance; here the LU's check already refuses them).
  if (truthy(hv["vhost_net"]) && !(await exists(env.vhostNet ?? "/dev/vhost-net")))
    return "vhost_net is configured but it is not available";
  const domain = typeof hv["security_domain"] === "string" ? hv["security_domain"] : "";
  if (hv["security_model"] === "user" && domain && (await lookupUser(domain, env.passwd)) === null)
    return `Unknown security domain user ${domain}`;
  if (hv["security_model"] === "pool")
    return "security_model 'pool' is not supported by ganeti-ts: its nodes have no uid pool to run qemu from";
  const spice = typeof hv["spice_bind"] === "string" && !hv["vnc_bind_address"] ? hv["spice_bind"] : "";
  if (spice && !net.isIP(spice) && !os.networkInterfaces()[spice])
    return `SPICE: The bind address '${spice}' is neither an IP address nor a network interface of this node`;
  if (spice && truthy(hv["spice_use_tls"])) {
    for (const f of [env.spiceCert, env.spiceCaCert]) {
      if (!f || !(await isFile(f))) return `SPICE TLS needs the node's certificate files: '${f ?? "spice.pem"}' is missing`;
    }
  }
  return null;
}
