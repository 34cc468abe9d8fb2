// Install route 2: the Debian package (scripts/build-deb.sh) installed with
// dpkg into a fresh Debian 13 root (scripts/ensure-debian-root.sh: cached,
// used through an overlay so that it stays fresh), against Debian's nodejs;
// the commands, man pages, completion and a one-node cluster run in the
// root (chroot), and the systemd units pass `systemd-analyze verify`.
import { existsSync, lstatSync, readdirSync, readlinkSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import semver from "semver";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAndPack, oneNodeCluster, REPO, run } from "./helpers.js";

const UNITS = ["ganeti-ts-noded.service", "ganeti-ts-masterd.service", "ganeti-ts-watcher.service", "ganeti-ts-watcher.timer"];

let work = "";
let root = "";
let deb = "";
const mounted: string[] = [];
let packDir = "";

/** A command in the root, with a clean environment (nothing of the host's). */
const inRoot = (cmd: string[], env: Record<string, string> = {}) =>
  run(
    "chroot",
    [
      root,
      "env",
      "-i",
      "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
      "HOME=/root",
      "LANG=C.UTF-8",
      ...Object.entries(env).map(([k, v]) => `${k}=${v}`),
      ...cmd,
    ],
    { maxBuffer: 16 << 20 },
  );

/** Processes running inside our root (the cluster's daemons, if a test failed before destroying it). */
function processesInRoot(): number[] {
  const pids: number[] = [];
  for (const p of readdirSync("/proc")) {
    if (!/^\d+$/.test(p)) continue;
    try {
      if (readlinkSync(`/proc/${p}/root`) === root) pids.push(Number(p));
    } catch {
      // gone, or not ours to read
    }
  }
  return pids;
}

beforeAll(async () => {
  const base = (await run("bash", [path.join(REPO, "scripts/ensure-debian-root.sh")], { maxBuffer: 16 << 20 })).stdout.trim();
  let tarballs: string[];
  ({ dir: packDir, tarballs } = await buildAndPack());
  expect(tarballs.length).toBe(5);
  work = await mkdtemp(path.join(tmpdir(), "gts-deb-"));
  deb = (
    await run("bash", [path.join(REPO, "scripts/build-deb.sh"), path.join(work, "out"), "--tarballs", packDir], { maxBuffer: 16 << 20 })
  ).stdout.trim();
  for (const d of ["upper", "work", "root"]) await mkdir(path.join(work, d));
  root = path.join(work, "root");
  await run("mount", ["-t", "overlay", "overlay", "-o", `lowerdir=${base},upperdir=${work}/upper,workdir=${work}/work`, root]);
  mounted.unshift(root);
  await run("mount", ["-t", "proc", "proc", path.join(root, "proc")]);
  mounted.unshift(path.join(root, "proc"));
  await run("mount", ["--bind", "/dev", path.join(root, "dev")]);
  mounted.unshift(path.join(root, "dev"));
  await cp(deb, path.join(root, "tmp", path.basename(deb)));
  await inRoot(["dpkg", "-i", `/tmp/${path.basename(deb)}`]);
}, 1_200_000);

afterAll(async () => {
  for (const pid of root ? processesInRoot() : []) process.kill(pid, "SIGKILL");
  for (const m of mounted) await run("umount", [m]).catch(() => run("umount", ["-l", m]));
  if (work) await rm(work, { recursive: true, force: true });
  if (packDir) await rm(packDir, { recursive: true, force: true });
});

describe("the Debian package", () => {
  it("depends on a nodejs that our engines accept, and Debian's satisfies it", async () => {
    const fields = (await run("dpkg-deb", ["-f", deb, "Package", "Version", "Architecture", "Depends"])).stdout;
    expect(fields).toContain("Package: ganeti-ts");
    expect(fields).toContain("Version: 0.1.0-1");
    expect(fields).toContain("Architecture: all");
    const dep = /Depends: nodejs \(>= ([\d.]+)\)/.exec(fields)?.[1];
    const engines = (JSON.parse(await readFile(path.join(REPO, "package.json"), "utf8")) as { engines: { node: string } }).engines.node;
    expect(dep).toBe(semver.minVersion(engines)?.version.replace(/\.0$/, ""));
    const debianNode = (await inRoot(["dpkg-query", "-W", "-f", "${Version}", "nodejs"])).stdout.replace(/[+~].*$/, "");
    expect(semver.satisfies(debianNode, engines), `Debian's nodejs ${debianNode}`).toBe(true);
  });

  it("puts gnt, the htools and the daemons on PATH, running on Debian's node", async () => {
    expect((await inRoot(["gnt", "--version"])).stdout.trim()).toBe("0.1.0");
    for (const tool of ["hbal", "hail", "hspace", "hinfo", "hcheck", "harep"])
      expect((await inRoot([tool, "--help"])).stdout).toContain(`Usage: ${tool}`);
    for (const d of ["ganeti-ts-masterd", "ganeti-ts-noded"]) expect((await inRoot([d, "--help"])).stdout).toContain(`Usage: ${d}`);
    // Ganeti's tool names are gnt under another name.
    expect((await inRoot(["gnt-instance", "list", "--help"])).stdout).toContain("Usage: gnt instance list");
    expect((await inRoot(["gnt-node", "--help"])).stdout).toContain("Usage: gnt node");
    // postinst rewrote gnt's code cache for this node.
    expect((await inRoot(["gnt", "--version"], { GNT_CODE_CACHE: "report" })).stderr).toContain("code cache accepted");
    expect(existsSync(path.join(root, "usr/lib/ganeti-ts/node_modules/tsx"))).toBe(false);
  }, 300_000);

  it("has man pages generated from the command tree, and bash completion for gnt", async () => {
    const page = (await inRoot(["man", "-P", "cat", "8", "gnt-instance"], { MANWIDTH: "100" })).stdout;
    expect(page).toContain("gnt instance add [options] <name>");
    expect(page).toContain("--disk-template <template>");
    expect((await inRoot(["man", "-P", "cat", "8", "gnt"], { MANWIDTH: "100" })).stdout).toContain("gnt-node(8)");
    const complete = async (line: string[]) =>
      (
        await inRoot([
          "bash",
          "-c",
          `source /usr/share/bash-completion/completions/gnt; COMP_WORDS=(${line.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${line.length - 1}; _gnt; echo "\${COMPREPLY[*]}"`,
        ])
      ).stdout.trim();
    expect(await complete(["gnt", "ins"])).toBe("instance");
    expect((await complete(["gnt", "instance", ""])).split(" ")).toEqual(expect.arrayContaining(["add", "list", "remove", "migrate"]));
    expect(await complete(["gnt", "--output", ""])).toBe("table json");
    expect(await complete(["gnt", "instance", "add", "--disk-t"])).toBe("--disk-template");
  });

  it("ships systemd units that pass systemd-analyze verify, enabled by postinst", async () => {
    const unitPaths = UNITS.map((u) => `/usr/lib/systemd/system/${u}`);
    const { stdout, stderr } = await inRoot(["systemd-analyze", "verify", ...unitPaths]);
    expect(stdout + stderr).toBe("");
    // The links name paths inside the root (existsSync would follow them on the host).
    const wants = (dir: string, unit: string) => readlinkSync(path.join(root, "etc/systemd/system", dir, unit));
    expect(wants("multi-user.target.wants", "ganeti-ts-masterd.service")).toBe("/usr/lib/systemd/system/ganeti-ts-masterd.service");
    expect(wants("multi-user.target.wants", "ganeti-ts-noded.service")).toBe("/usr/lib/systemd/system/ganeti-ts-noded.service");
    expect(wants("timers.target.wants", "ganeti-ts-watcher.timer")).toBe("/usr/lib/systemd/system/ganeti-ts-watcher.timer");
  });

  it("runs a one-node cluster in /var/lib/ganeti-ts, then removes cleanly", async () => {
    const dataDir = "/var/lib/ganeti-ts";
    const cluster = oneNodeCluster(dataDir, root);
    await inRoot(["gnt", ...cluster.initArgs]);
    try {
      const rt = await cluster.runtime();
      const cmdline = (await readFile(`/proc/${rt.pid}/cmdline`, "utf8")).split("\0");
      expect(cmdline.slice(0, 2)).toEqual(["/usr/bin/node", "/usr/lib/ganeti-ts/node_modules/@ganeti-ts/server/dist/daemon-main.js"]);
      const env = { GANETI_DATA_DIR: dataDir, ...cluster.connection(rt.rapiUrl) };
      expect((await inRoot(["gnt", "node", "list"], env)).stdout).toContain("node1.example.com");
      expect((await inRoot(["gnt", "instance", "list"], env)).stdout).toMatch(/^Instance\s/);
      // The watcher unit's command, through the master's control socket.
      await inRoot(["gnt", "watcher"], { GANETI_DATA_DIR: dataDir });
    } finally {
      await inRoot(["gnt", ...cluster.destroyArgs]);
    }
    expect(processesInRoot()).toEqual([]);
    await inRoot(["dpkg", "--purge", "ganeti-ts"]);
    expect(existsSync(path.join(root, "usr/bin/gnt"))).toBe(false);
    expect(existsSync(path.join(root, "usr/lib/ganeti-ts"))).toBe(false);
    expect(() => lstatSync(path.join(root, "etc/systemd/system/multi-user.target.wants/ganeti-ts-masterd.service"))).toThrow();
  }, 600_000);
});
