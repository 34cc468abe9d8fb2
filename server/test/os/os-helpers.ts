// Writes OS definition directories for tests.
import { chmod, mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

export interface FakeOsSpec {
  api?: string;
  scripts?: Record<string, string>; // name → shell body
  variants?: string | null;
  parameters?: string | null;
  mode?: number;
}

export async function writeOs(searchDir: string, name: string, spec: FakeOsSpec = {}): Promise<string> {
  const dir = path.join(searchDir, name);
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, "ganeti_api_version"), spec.api ?? "20\n");
  const scripts = spec.scripts ?? {};
  for (const s of ["create", "export", "import", "rename", "verify"]) {
    const body = scripts[s] ?? "exit 0";
    if (body === "<absent>") continue;
    await writeFile(path.join(dir, s), `#!/bin/sh\n${body}\n`);
    await chmod(path.join(dir, s), spec.mode ?? 0o755);
  }
  if (spec.variants !== null && spec.variants !== undefined) await writeFile(path.join(dir, "variants.list"), spec.variants);
  if (spec.parameters !== null) await writeFile(path.join(dir, "parameters.list"), spec.parameters ?? "");
  return dir;
}
