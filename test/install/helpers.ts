// Shared by the install-route tests: build the workspaces once, pack them
// (scripts/pack.sh: `npm pack --workspaces` on a copy of the built
// packages), and read a tarball's files.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

export const run = promisify(execFile);
export const REPO = fileURLToPath(new URL("../..", import.meta.url));
export const PUBLISHED = ["schema", "sdk", "server", "cli", "provider"] as const;

/** `npm run build` (one at a time: the install tests may run in parallel), then the tarballs in a fresh temp dir. */
export async function buildAndPack(): Promise<{ dir: string; tarballs: string[] }> {
  const lock = path.join(tmpdir(), `ganeti-ts-build-${createHash("sha256").update(REPO).digest("hex").slice(0, 12)}.lock`);
  await run("flock", [lock, "npm", "run", "--silent", "build"], { cwd: REPO, maxBuffer: 64 << 20 });
  const dir = await mkdtemp(path.join(tmpdir(), "gts-pack-"));
  await run("bash", [path.join(REPO, "scripts/pack.sh"), dir], { cwd: REPO, maxBuffer: 64 << 20 });
  const tarballs = (await readdir(dir)).filter((f) => f.endsWith(".tgz")).map((f) => path.join(dir, f));
  return { dir, tarballs };
}

/** The file list of a tarball (paths inside, without "package/"). */
export async function tarFiles(tgz: string): Promise<string[]> {
  const { stdout } = await run("tar", ["-tzf", tgz], { maxBuffer: 64 << 20 });
  return stdout
    .split("\n")
    .filter(Boolean)
    .map((f) => f.replace(/^package\//, ""));
}

/** One file of a tarball as text. */
export async function tarRead(tgz: string, file: string): Promise<string> {
  const { stdout } = await run("tar", ["-xzOf", tgz, `package/${file}`], { maxBuffer: 64 << 20 });
  return stdout;
}
