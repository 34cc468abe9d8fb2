// kvm parameter checks on the node, after Ganeti's ValidateParameters: the
// cross-parameter rules (shared with the master, in schema) plus what only
// the node can see: the files and directories the parameters name exist.
import { promises as fs } from "node:fs";
import { checkKvmParameterRules, KVM_DIR_PARAMS, KVM_FILE_OR_URL_PARAMS, KVM_FILE_PARAMS } from "@ganeti-ts/schema";

export { checkKvmParameterRules };

async function isFile(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isFile(), () => false);
}
async function isDir(p: string): Promise<boolean> {
  return fs.stat(p).then((s) => s.isDirectory(), () => false);
}

/** null when valid, else Ganeti's "fails validation" message. */
export async function validateKvmParameters(hv: Record<string, unknown>): Promise<string | null> {
  const fail = (name: string, err: string) => `Parameter '${name}' fails validation: ${err} (current value: '${String(hv[name])}')`;
  const given = (name: string) => {
    const v = hv[name];
    return typeof v === "string" && v !== "" ? v : null;
  };
  for (const name of KVM_FILE_PARAMS) {
    const v = given(name);
    if (v === null) {
      if (name === "kvm_path") return fail(name, "not found or not a file");
      continue;
    }
    if (!(await isFile(v))) return fail(name, "not found or not a file");
  }
  for (const name of KVM_FILE_OR_URL_PARAMS) {
    const v = given(name);
    if (v !== null && !/^(https?|ftp):\/\//.test(v) && !(await isFile(v))) return fail(name, "not found or not a file or URL");
  }
  for (const name of KVM_DIR_PARAMS) {
    const v = given(name);
    if (v !== null && !(await isDir(v))) return fail(name, "not found or not a directory");
  }
  if (hv["security_model"] === "user") return "security_model 'user' is not supported by ganeti-ts";
  return null;
}
