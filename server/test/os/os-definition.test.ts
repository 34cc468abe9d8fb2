import { EventEmitter } from "node:events";
import { writeSync } from "node:fs";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { diagnoseOs, findOs, splitOsName } from "../../src/os/os-definition.js";
import { osEnvironment } from "../../src/os/os-env.js";
import { installOs, validateOs } from "../../src/os/os-ops.js";
import type { SpawnFn } from "../../src/os/os-runner.js";
import { rpcInstance, tempDir } from "../noded/fixtures.js";
import { writeOs } from "./os-helpers.js";

describe("OS definitions", () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => ({ dir, cleanup } = await tempDir()));
  afterEach(() => cleanup());

  it("splits variants off OS names", () => {
    expect(splitOsName("debootstrap+buster")).toEqual({ name: "debootstrap", variant: "buster" });
    expect(splitOsName("noop")).toEqual({ name: "noop", variant: "" });
  });

  it("loads a valid API 20 definition with variants and parameters", async () => {
    await writeOs(dir, "deb", {
      variants: "# comment\nbuster\n\nbullseye\n",
      parameters: "dhcp Whether to use dhcp\nroot_size\tRoot size in GiB\n",
    });
    const r = await findOs("deb+buster", [path.join(dir, "missing"), dir]);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.os.variants).toEqual(["buster", "bullseye"]);
    expect(r.os.parameters).toEqual([
      ["dhcp", "Whether to use dhcp"],
      ["root_size", "Root size in GiB"],
    ]);
    expect(r.os.apiVersions).toEqual([20]);
    expect(r.os.trusted).toBe(true);
  });

  it("diagnoses invalid definitions with Ganeti's reasons", async () => {
    await writeOs(dir, "good");
    await writeOs(dir, "noexec", { mode: 0o644 });
    await writeOs(dir, "oldapi", { api: "5\n" });
    await writeOs(dir, "noparams", { parameters: null });
    await writeOs(dir, "api10", { api: "5\n10\n", parameters: null, scripts: { verify: "<absent>" } });
    await writeOs(dir, "nocreate", { scripts: { create: "<absent>" } });
    await writeOs(dir, "badapi", { api: "twenty\n" });
    const infos = await diagnoseOs([dir, path.join(dir, "nonexistent")]);
    const by = Object.fromEntries(infos.map((i) => [i.name, i]));
    expect(Object.keys(by)).toEqual(["api10", "badapi", "good", "nocreate", "noexec", "noparams", "oldapi"]);
    expect(by["good"]).toMatchObject({ status: true, diagnose: "", api_versions: [20], variants: [], parameters: [] });
    expect(by["api10"]).toMatchObject({ status: true, api_versions: [5, 10] });
    expect(by["noexec"]!.diagnose).toMatch(/File 'create' under path '.*noexec' is not executable/);
    expect(by["oldapi"]!.diagnose).toMatch(/API version mismatch for path '.*oldapi': found \[5\], want \[10,15,20\]/);
    expect(by["noparams"]!.diagnose).toMatch(/File 'parameters.list' under path '.*' is missing/);
    expect(by["nocreate"]!.diagnose).toMatch(/A create script \(trusted or untrusted\) under path .* must exist/);
    expect(by["badapi"]!.diagnose).toMatch(/can't be converted to integer/);
    expect(by["badapi"]).toMatchObject({ status: false, variants: [], parameters: [], api_versions: [] });
  });

  it("reports a missing OS", async () => {
    expect(await findOs("nope", [dir])).toEqual({ ok: false, reason: "Directory for OS nope not found in search path" });
  });

  it("builds Ganeti's script environment", async () => {
    await writeOs(dir, "deb", { variants: "buster\nbullseye\n", parameters: "dhcp x\n" });
    const r = await findOs("deb", [dir]);
    if (!r.ok) throw new Error(r.reason);
    const inst = rpcInstance({
      os: "deb",
      osparams: { dhcp: "yes", "root-size": 8 },
      osparams_private: { secret: "s3" },
      hvparams: { disk_type: "paravirtual", nic_type: "e1000", kernel_path: "" },
      beparams: { maxmem: 512, minmem: 256, vcpus: 2 },
      disks: [
        {
          uuid: "d-uuid",
          dev_type: "file",
          size: 1024,
          mode: "rw",
          name: "root",
          logical_id: ["loop", "/srv/inst1/disk0"],
          params: {},
        },
      ],
      nics: [
        {
          uuid: "n-uuid",
          name: null,
          mac: "aa:00:00:11:22:33",
          ip: "192.0.2.10",
          mode: "bridged",
          link: "br0",
          vlan: "",
          network: "net-uuid",
          network_name: "net1",
        },
      ],
    });
    const env = osEnvironment(inst, r.os, 1, [{ path: "/srv/inst1/disk0", backendType: "file:loop" }]);
    expect(env).toMatchObject({
      OS_API_VERSION: "20",
      OS_NAME: "deb",
      OS_VARIANT: "buster", // first listed variant when none given
      DEBUG_LEVEL: "1",
      OSP_DHCP: "yes",
      OSP_ROOT_SIZE: "8",
      OSP_SECRET: "s3",
      PATH: "/sbin:/bin:/usr/sbin:/usr/bin",
      INSTANCE_NAME: "inst1.example.com",
      INSTANCE_OS: "deb",
      HYPERVISOR: "fake",
      DISK_COUNT: "1",
      DISK_0_PATH: "/srv/inst1/disk0",
      DISK_0_ACCESS: "rw",
      DISK_0_UUID: "d-uuid",
      DISK_0_NAME: "root",
      DISK_0_SIZE: "1024",
      DISK_0_FRONTEND_TYPE: "paravirtual",
      DISK_0_BACKEND_TYPE: "file:loop",
      NIC_COUNT: "1",
      NIC_0_MAC: "aa:00:00:11:22:33",
      NIC_0_IP: "192.0.2.10",
      NIC_0_MODE: "bridged",
      NIC_0_BRIDGE: "br0",
      NIC_0_LINK: "br0",
      NIC_0_NETWORK_NAME: "net1",
      NIC_0_NETWORK_UUID: "net-uuid",
      NIC_0_FRONTEND_TYPE: "e1000",
      INSTANCE_BE_maxmem: "512",
      INSTANCE_HV_disk_type: "paravirtual",
      INSTANCE_HV_kernel_path: "",
    });
    expect(env).not.toHaveProperty("NIC_0_NAME");
  });

  it("fails a create with the log tail, via an injected spawn", async () => {
    await writeOs(dir, "deb");
    const calls: { cmd: string; env: NodeJS.ProcessEnv | undefined; cwd: unknown }[] = [];
    const spawn: SpawnFn = (cmd, _args, options) => {
      calls.push({ cmd, env: options.env, cwd: options.cwd });
      const fd = (options.stdio as unknown[])[1] as number;
      writeSync(fd, Array.from({ length: 30 }, (_, i) => `line ${i + 1}`).join("\n") + "\n");
      const child = new EventEmitter();
      setImmediate(() => child.emit("exit", 3, null));
      return child as never;
    };
    const ctx = { logDir: path.join(dir, "log", "os"), clock: () => Date.UTC(2024, 0, 2, 3, 4, 5), spawn };
    const err = await installOs(ctx, rpcInstance({ os: "deb" }), { reinstall: true, debug: 0, searchPath: [dir], disks: [] }).catch(
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    const msg = (err as Error).message;
    expect(msg).toMatch(/^OS create script failed \(exited with exit code 3\), last lines in the log file:\nline 11\n/);
    expect(msg.endsWith("line 30")).toBe(true);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.cmd).toBe(path.join(dir, "deb", "create"));
    expect(calls[0]!.cwd).toBe(path.join(dir, "deb"));
    expect(calls[0]!.env).toMatchObject({ INSTANCE_REINSTALL: "1", LC_ALL: "C" });
    expect(calls[0]!.env).not.toHaveProperty("HOME"); // clean environment
  });

  it("validates variants and parameters before running verify", async () => {
    await writeOs(dir, "deb", { variants: "buster\n", parameters: "dhcp x\n" });
    await writeOs(dir, "plain");
    const ctx = { logDir: dir, clock: Date.now };
    const v = (name: string, osparams: Record<string, unknown> = {}, required = true) =>
      validateOs(ctx, { required, name, checks: ["parameters"], osparams, searchPath: [dir] });
    await expect(v("deb")).rejects.toThrow("OS name 'deb' must include a variant");
    await expect(v("deb+sid")).rejects.toThrow("OS 'deb' does not support variant 'sid'");
    await expect(v("plain+x")).rejects.toThrow("OS 'plain' does not support variants ('x' passed)");
    await expect(v("deb+buster", { foo: 1 })).rejects.toThrow("The following parameters are not supported by the OS deb: foo");
    await expect(v("missing", {}, false)).resolves.toBe(false);
    await expect(v("missing")).rejects.toThrow(/not found in search path/);
    await expect(validateOs(ctx, { required: true, name: "plain", checks: ["disks"], osparams: {}, searchPath: [dir] })).rejects.toThrow(
      /Unknown checks required for OS plain: disks/,
    );
    expect(await readFile(path.join(dir, "deb", "variants.list"), "utf8")).toBe("buster\n");
  });
});
