// Ganeti OS definitions (man ganeti-os-interface): a directory per OS in the
// search path holding ganeti_api_version, the create/export/import/rename
// scripts, and (API 15+) variants.list, (API 20) parameters.list and verify.
// Found and checked the way Ganeti's backend does (_TryOSFromDisk), so that
// the same definitions (e.g. Debian's ganeti-os-noop) work unchanged.
import { promises as fs, constants as fsc } from "node:fs";
import path from "node:path";
import type { OsInfo } from "@ganeti-ts/schema";

export const OS_API_VERSIONS = [10, 15, 20] as const;
export const OS_API_V15 = 15;
export const OS_API_V20 = 20;

export type OsScript = "create" | "create_untrusted" | "export" | "import" | "rename" | "verify";

export interface OsDefinition {
  name: string;
  path: string;
  apiVersions: number[];
  variants: string[];
  parameters: [string, string][];
  /** Absolute paths of the scripts present. */
  scripts: Partial<Record<OsScript, string>>;
  /** false when only create_untrusted exists (Ganeti 2.16+). */
  trusted: boolean;
}

type OsLookup = { ok: true; os: OsDefinition } | { ok: false; reason: string };

/** Names an OS directory may have (Ganeti's EXT_PLUGIN_MASK). */
export const OS_NAME_RE = /^[a-zA-Z0-9_-]+$/;

/** "debootstrap+buster" → name and variant. */
export function splitOsName(full: string): { name: string; variant: string } {
  const i = full.indexOf("+");
  return i < 0 ? { name: full, variant: "" } : { name: full.slice(0, i), variant: full.slice(i + 1) };
}

function errText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `[Errno ${e.errno ?? "?"}] ${e.code}` : String(e.message ?? err);
}

async function isDir(p: string): Promise<boolean> {
  try {
    return (await fs.stat(p)).isDirectory();
  } catch {
    // Any stat failure means "not an OS directory here", as Ganeti's FindFile.
    return false;
  }
}

async function apiVersions(osDir: string): Promise<{ ok: true; versions: number[] } | { ok: false; reason: string }> {
  const file = path.join(osDir, "ganeti_api_version");
  let st;
  try {
    st = await fs.stat(file);
  } catch (err) {
    return { ok: false, reason: `Required file 'ganeti_api_version' not found under path ${osDir}: ${errText(err)}` };
  }
  if (!st.isFile()) return { ok: false, reason: `File 'ganeti_api_version' in ${osDir} is not a regular file` };
  let text: string;
  try {
    text = await fs.readFile(file, "utf8");
  } catch (err) {
    return { ok: false, reason: `Error while reading the API version file at ${file}: ${errText(err)}` };
  }
  const lines = text.split("\n").map((l) => l.trim());
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop();
  const versions = lines.map((l) => (/^[+-]?\d+$/.test(l) ? Number(l) : NaN));
  if (versions.some((v) => Number.isNaN(v))) {
    return { ok: false, reason: `API version(s) can't be converted to integer: ${JSON.stringify(lines)}` };
  }
  return { ok: true, versions };
}

/** Load and check one OS by name from the first search-path dir holding it. */
export async function findOs(fullName: string, searchPath: readonly string[]): Promise<OsLookup> {
  const { name } = splitOsName(fullName);
  // Ganeti's FindFile: only plain names ("." , "..", "a/b" would leave the search path), absolute directories.
  if (OS_NAME_RE.test(name)) {
    for (const dir of searchPath) {
      if (!path.isAbsolute(dir)) continue;
      const osDir = path.join(dir, name);
      if (await isDir(osDir)) return loadOsDir(name, osDir);
    }
  }
  return { ok: false, reason: `Directory for OS ${name} not found in search path` };
}

async function loadOsDir(name: string, osDir: string): Promise<OsLookup> {
  const api = await apiVersions(osDir);
  if (!api.ok) return api;
  const versions = api.versions;
  if (!versions.some((v) => (OS_API_VERSIONS as readonly number[]).includes(v))) {
    return {
      ok: false,
      reason: `API version mismatch for path '${osDir}': found ${JSON.stringify(versions)}, want ${JSON.stringify(OS_API_VERSIONS)}.`,
    };
  }
  const maxApi = Math.max(...versions);
  // file → required?
  const files = new Map<string, boolean>([
    ["create", false],
    ["create_untrusted", false],
    ["export", true],
    ["import", true],
    ["rename", true],
  ]);
  if (maxApi >= OS_API_V15) files.set("variants.list", false);
  if (maxApi >= OS_API_V20) {
    files.set("verify", true);
    files.set("parameters.list", true);
  }
  const scriptNames = new Set(["create", "create_untrusted", "export", "import", "rename", "verify"]);
  const present = new Map<string, string>();
  for (const [file, required] of files) {
    const full = path.join(osDir, file);
    let st;
    try {
      st = await fs.stat(full);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && !required) continue;
      return { ok: false, reason: `File '${file}' under path '${osDir}' is missing (${errText(err)})` };
    }
    if (!st.isFile()) return { ok: false, reason: `File '${file}' under path '${osDir}' is not a regular file` };
    if (scriptNames.has(file) && (st.mode & fsc.S_IXUSR) === 0) {
      return { ok: false, reason: `File '${file}' under path '${osDir}' is not executable` };
    }
    present.set(file, full);
  }
  if (!present.has("create") && !present.has("create_untrusted")) {
    return { ok: false, reason: `A create script (trusted or untrusted) under path '${osDir}' must exist` };
  }
  let variants: string[] = [];
  const variantsFile = present.get("variants.list");
  if (variantsFile) {
    try {
      variants = (await fs.readFile(variantsFile, "utf8"))
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "" && !l.startsWith("#"));
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") {
        return { ok: false, reason: `Error while reading the OS variants file at ${variantsFile}: ${errText(err)}` };
      }
    }
  }
  let parameters: [string, string][] = [];
  const paramsFile = present.get("parameters.list");
  if (paramsFile) {
    try {
      parameters = (await fs.readFile(paramsFile, "utf8"))
        .split("\n")
        .map((l) => l.trim())
        .filter((l) => l !== "")
        .map((l) => {
          const m = /^(\S+)\s*(.*)$/.exec(l)!;
          return [m[1]!, m[2]!] as [string, string];
        });
    } catch (err) {
      return { ok: false, reason: `Error while reading the OS parameters file at ${paramsFile}: ${errText(err)}` };
    }
  }
  const scripts: Partial<Record<OsScript, string>> = {};
  for (const s of scriptNames) {
    const p = present.get(s);
    if (p) scripts[s as OsScript] = p;
  }
  return {
    ok: true,
    os: {
      name,
      path: osDir,
      apiVersions: versions,
      variants,
      parameters,
      scripts,
      trusted: !scripts.create_untrusted,
    },
  };
}

/** Every (potential) OS in the search path, valid or not (Ganeti's DiagnoseOS). */
export async function diagnoseOs(searchPath: readonly string[]): Promise<OsInfo[]> {
  const out: OsInfo[] = [];
  for (const dir of searchPath) {
    if (!(await isDir(dir))) continue;
    const names = (await fs.readdir(dir)).filter((n) => !n.startsWith(".")).sort();
    for (const name of names) {
      const osDir = path.join(dir, name);
      const r = (await isDir(osDir))
        ? await loadOsDir(name, osDir)
        : ({ ok: false, reason: `Directory for OS ${name} not found in search path` } as const);
      out.push(
        r.ok
          ? {
              name,
              path: osDir,
              status: true,
              diagnose: "",
              variants: r.os.variants,
              parameters: r.os.parameters,
              api_versions: r.os.apiVersions,
              trusted: r.os.trusted,
            }
          : { name, path: osDir, status: false, diagnose: r.reason, variants: [], parameters: [], api_versions: [], trusted: true },
      );
    }
  }
  return out;
}
