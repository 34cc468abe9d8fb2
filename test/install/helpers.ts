// Shared by the install-route tests: build the workspaces once, pack them
// (scripts/pack.sh: `npm pack --workspaces` on a copy of the built
// packages), read a tarball's files, and the one-node cluster each route
// runs with the installed gnt.
import { execFile } from "node:child_process";
import { createHash, randomBytes, randomInt } from "node:crypto";
import { mkdtemp, readFile, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { clusterInitArgs } from "../helpers/cluster.js";

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

/**
 * A one-node diskless cluster in `dataDir` as the install tests run it with
 * the installed gnt: `gnt cluster init`'s arguments (random ports, a random
 * 127.0.0.x node address, node1.example.com, user admin with a random
 * password) and `destroy`'s; once it runs, the master's runtime file and the
 * RAPI connection as environment variables. `hostRoot`: where `dataDir` is
 * seen from this process (the root the deb test chroots into).
 */
export function oneNodeCluster(dataDir: string, hostRoot = "/") {
  const password = randomBytes(12).toString("hex");
  return {
    initArgs: clusterInitArgs({
      dataDir,
      nodeAddress: `127.0.0.${randomInt(20, 250)}`,
      nodeName: "node1.example.com",
      user: "admin",
      password,
      diskTemplates: ["diskless"],
    }),
    destroyArgs: ["cluster", "destroy", "--yes-do-it", "--data-dir", dataDir],
    async runtime(): Promise<{ rapiUrl: string; pid: number }> {
      return JSON.parse(await readFile(path.join(hostRoot, dataDir, "master.runtime.json"), "utf8")) as { rapiUrl: string; pid: number };
    },
    connection(rapiUrl: string): Record<string, string> {
      return {
        GANETI_RAPI_URL: rapiUrl,
        GANETI_RAPI_USER: "admin",
        GANETI_RAPI_PASSWORD: password,
        GANETI_RAPI_CA: path.join(dataDir, "rapi.pem"),
      };
    },
  };
}
