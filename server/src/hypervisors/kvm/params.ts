// kvm parameter checks on the node. The master already ran Ganeti's
// CheckParameterSyntax (the hvparams table in schema: types, per-parameter
// syntax, kvm's checks across parameters); the node runs it again on what it
// is asked to start, then Ganeti's ValidateParameters: the files and
// directories the parameters name (the table's `path` kinds) exist here.
import { promises as fs } from "node:fs";
import { HV_PARAMETERS, ParamError, validateHvParams } from "@ganeti-ts/schema";

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

/** Ganeti's ValidateParameters: null when valid, else its "fails validation" message. */
export async function validateKvmParameters(hv: Record<string, unknown>): Promise<string | null> {
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
  if (hv["security_model"] === "user") return "security_model 'user' is not supported by ganeti-ts";
  return null;
}
