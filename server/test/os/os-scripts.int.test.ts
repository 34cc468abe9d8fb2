// Runs real OS scripts (child processes): our shipped noop definition,
// Debian's ganeti-os-noop (apt-get install ganeti-os-noop), and scripted
// definitions that record their environment or fail.
import { existsSync } from "node:fs";
import { readFile, readdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { NodeBackend } from "../../src/noded/backend/node-backend.js";
import { fileDisk, rpcInstance, tempDir } from "../noded/fixtures.js";
import { writeOs } from "./os-helpers.js";

const SHIPPED_OS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../os");
const DEBIAN_OS_DIR = "/usr/share/ganeti/os";

describe("OS scripts through the node backend", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  let backend: NodeBackend;
  let searchDir: string;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
    backend = new NodeBackend({ dataDir: path.join(dir, "data"), nodeName: "node1", fileStoragePaths: [dir] });
    searchDir = path.join(dir, "os");
  });
  afterEach(() => cleanup());

  it("ships valid busybox and noop OSes (API 20) and installs with noop", async () => {
    const infos = (await backend.handle("os_diagnose", { search_path: [SHIPPED_OS_DIR] })) as { name: string }[];
    expect(infos).toEqual([
      {
        name: "busybox",
        path: path.join(SHIPPED_OS_DIR, "busybox"),
        status: true,
        diagnose: "",
        variants: [],
        parameters: [],
        api_versions: [20],
        trusted: true,
      },
      {
        name: "noop",
        path: path.join(SHIPPED_OS_DIR, "noop"),
        status: true,
        diagnose: "",
        variants: [],
        parameters: [],
        api_versions: [20],
        trusted: true,
      },
    ]);
    const log = (await backend.handle("instance_os_add", {
      instance: rpcInstance(),
      reinstall: false,
      debug: 0,
      search_path: [SHIPPED_OS_DIR],
    })) as string;
    expect(path.dirname(log)).toBe(path.join(dir, "data", "log", "os"));
    expect(path.basename(log)).toMatch(/^add-noop-inst1\.example\.com-\d{4}-\d\d-\d\d_\d\d_\d\d_\d\d_\d{3}\.log$/);
    await expect(
      backend.handle("os_validate", { required: true, name: "noop", checks: ["parameters"], osparams: {}, search_path: [SHIPPED_OS_DIR] }),
    ).resolves.toBe(true);
  });

  it("works with Debian's ganeti-os-noop (API 10, no verify/parameters)", async () => {
    expect(existsSync(path.join(DEBIAN_OS_DIR, "noop")), "apt-get install ganeti-os-noop").toBe(true);
    const infos = (await backend.handle("os_diagnose", { search_path: [DEBIAN_OS_DIR] })) as {
      name: string;
      status: boolean;
      api_versions: number[];
    }[];
    expect(infos.find((i) => i.name === "noop")).toMatchObject({ status: true, api_versions: [5, 10] });
    await backend.handle("instance_os_add", { instance: rpcInstance(), reinstall: true, debug: 1, search_path: [DEBIAN_OS_DIR] });
    await backend.handle("instance_run_rename", {
      instance: rpcInstance({ name: "new.example.com" }),
      old_name: "inst1.example.com",
      debug: 0,
      search_path: [DEBIAN_OS_DIR],
    });
    // API < 20: nothing to verify.
    await expect(
      backend.handle("os_validate", { required: true, name: "noop", checks: ["parameters"], osparams: {}, search_path: [DEBIAN_OS_DIR] }),
    ).resolves.toBe(true);
  });

  it("passes Ganeti's environment, disk paths included, and INSTANCE_REINSTALL", async () => {
    const dump = "env | sort";
    await writeOs(searchDir, "recorder", {
      variants: "v1\nv2\n",
      parameters: "color the color\n",
      scripts: { create: dump, rename: dump },
    });
    const file = path.join(dir, "storage", "inst1", "disk0");
    const disk = fileDisk(file, 16);
    await backend.handle("blockdev_create", { disk, owner: "inst1.example.com", on_primary: true });
    const inst = rpcInstance({ os: "recorder+v2", osparams: { color: "blue" }, disks: [disk], disk_template: "file" });
    const log = (await backend.handle("instance_os_add", {
      instance: inst,
      reinstall: true,
      debug: 1,
      search_path: [searchDir],
    })) as string;
    const env = Object.fromEntries(
      (await readFile(log, "utf8"))
        .trim()
        .split("\n")
        .map((l) => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]),
    );
    expect(env).toMatchObject({
      OS_API_VERSION: "20",
      OS_NAME: "recorder",
      OS_VARIANT: "v2",
      INSTANCE_OS: "recorder+v2",
      OSP_COLOR: "blue",
      DEBUG_LEVEL: "1",
      INSTANCE_REINSTALL: "1",
      DISK_COUNT: "1",
      DISK_0_PATH: file,
      DISK_0_BACKEND_TYPE: "file:loop",
      NIC_COUNT: "0",
      LC_ALL: "C",
      PATH: "/sbin:/bin:/usr/sbin:/usr/bin",
    });
    expect(env).not.toHaveProperty("HOME");

    const renameLog = await backend.handle("instance_run_rename", {
      instance: { ...inst, name: "inst2.example.com" },
      old_name: "inst1.example.com",
      debug: 0,
      search_path: [searchDir],
    });
    expect(renameLog).toBeNull();
    const logs = await readdir(path.join(dir, "data", "log", "os"));
    const rename = logs.find((l) => l.startsWith("rename-recorder+v2-inst1.example.com-inst2.example.com-"));
    expect(rename).toBeDefined();
    const renameEnv = await readFile(path.join(dir, "data", "log", "os", rename!), "utf8");
    expect(renameEnv).toMatch(/^OLD_INSTANCE_NAME=inst1\.example\.com$/m);
    expect(renameEnv).toMatch(/^INSTANCE_NAME=inst2\.example\.com$/m);
  });

  it("fails with the tail of the log, and when a disk is missing", async () => {
    await writeOs(searchDir, "broken", { scripts: { create: 'echo "formatting disk"; echo "mkfs: no space left" >&2; exit 7' } });
    await expect(
      backend.handle("instance_os_add", { instance: rpcInstance({ os: "broken" }), reinstall: false, debug: 0, search_path: [searchDir] }),
    ).rejects.toThrow(
      "OS create script failed (exited with exit code 7), last lines in the log file:\nformatting disk\nmkfs: no space left",
    );
    const disk = fileDisk(path.join(dir, "absent", "disk0"), 1);
    await expect(
      backend.handle("instance_os_add", {
        instance: rpcInstance({ os: "broken", disks: [disk], disk_template: "file" }),
        reinstall: false,
        debug: 0,
        search_path: [searchDir],
      }),
    ).rejects.toThrow(/Block device error: .*No such file/);
  });

  it("runs verify with the parameters check and reports its output", async () => {
    await writeOs(searchDir, "picky", {
      parameters: "dhcp use dhcp\n",
      scripts: { verify: 'case "$OSP_DHCP" in yes|no|"") exit 0;; *) echo "Invalid value $OSP_DHCP for dhcp ($1)"; exit 1;; esac' },
    });
    const validate = (osparams: Record<string, unknown>) =>
      backend.handle("os_validate", { required: true, name: "picky", checks: ["parameters"], osparams, search_path: [searchDir] });
    await expect(validate({ dhcp: "yes" })).resolves.toBe(true);
    await expect(validate({ dhcp: "maybe" })).rejects.toThrow(
      "OS validation script failed (exited with exit code 1), output: Invalid value maybe for dhcp (parameters)",
    );
  });
});
