// kvm's parameter rules (Ganeti's CheckParameterSyntax helpers) and the
// node-side checks (ValidateParameters: the named files exist).
import { describe, expect, it } from "vitest";
import { DEFAULT_HVPARAMS } from "../../../src/config/defaults.js";
import { checkKvmParameterRules, validateKvmParameters } from "../../../src/hypervisors/kvm/params.js";

const hv = (over: Record<string, unknown> = {}) => ({ ...DEFAULT_HVPARAMS.kvm, ...over }) as Record<string, unknown>;

describe("kvm parameter rules", () => {
  it("accepts Ganeti's defaults", () => {
    expect(checkKvmParameterRules(hv())).toBeNull();
  });
  it("refuses what Ganeti refuses, with its messages", () => {
    expect(checkKvmParameterRules(hv({ boot_order: "cdrom" }))).toBe("Cannot boot from cdrom without an ISO path");
    expect(checkKvmParameterRules(hv({ root_path: "" }))).toBe("Need a root partition for the instance, if a kernel is defined");
    expect(checkKvmParameterRules(hv({ root_path: "", kernel_path: "" }))).toBeNull();
    expect(checkKvmParameterRules(hv({ serial_speed: 12345 }))).toMatch(
      /^Invalid serial console speed, must be one of: 75, 110, .*, 460800$/,
    );
    expect(checkKvmParameterRules(hv({ serial_speed: 12345, serial_console: false }))).toBeNull();
    expect(checkKvmParameterRules(hv({ security_model: "user" }))).toBe("A security domain (user to run kvm as) must be specified");
    expect(checkKvmParameterRules(hv({ security_domain: "nobody" }))).toBe(
      "Cannot have a security domain when the security model is 'none' or 'pool'",
    );
    expect(checkKvmParameterRules(hv({ vnc_x509_verify: true }))).toBe("vnc_x509_path must be defined, if vnc_x509_verify is");
    expect(checkKvmParameterRules(hv({ spice_use_tls: true }))).toBe("SPICE: spice_use_tls requires spice_bind to be set");
    expect(checkKvmParameterRules(hv({ disk_aio: "native" }))).toBe(
      "When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.",
    );
    expect(checkKvmParameterRules(hv({ disk_aio: "native", disk_cache: "none" }))).toBeNull();
  });
});

describe("kvm parameters on the node", () => {
  it("the files and directories named must exist", async () => {
    const ok = hv({ kvm_path: "/bin/sh", kernel_path: "/bin/sh", initrd_path: "" });
    expect(await validateKvmParameters(ok)).toBeNull();
    expect(await validateKvmParameters({ ...ok, kernel_path: "/boot/vmlinuz-3-kvmU-nonexistent" })).toBe(
      "Parameter 'kernel_path' fails validation: not found or not a file (current value: '/boot/vmlinuz-3-kvmU-nonexistent')",
    );
    expect(await validateKvmParameters({ ...ok, kvm_path: "/nonexistent/kvm" })).toMatch(/^Parameter 'kvm_path' fails validation/);
    expect(await validateKvmParameters({ ...ok, initrd_path: "/tmp" })).toMatch(
      /^Parameter 'initrd_path' fails validation: not found or not a file/,
    );
    expect(await validateKvmParameters({ ...ok, mem_path: "/bin/sh" })).toBe(
      "Parameter 'mem_path' fails validation: not found or not a directory (current value: '/bin/sh')",
    );
    expect(await validateKvmParameters({ ...ok, cdrom_image_path: "http://example.com/x.iso" })).toBeNull();
  });
});

describe("kvm parameters this node cannot honour are refused (at the LU, through the node's check)", () => {
  const ok = hv({ kvm_path: "/bin/sh", kernel_path: "/bin/sh", initrd_path: "" });
  it("vhost_net without vhost-net, an unknown security domain, the uid pool, SPICE without its address or certificates", async () => {
    expect(await validateKvmParameters({ ...ok, vhost_net: true }, { vhostNet: "/nonexistent/vhost-net" })).toBe(
      "vhost_net is configured but it is not available",
    );
    expect(await validateKvmParameters({ ...ok, vhost_net: true }, { vhostNet: "/bin/sh" })).toBeNull();
    expect(await validateKvmParameters({ ...ok, security_model: "user", security_domain: "no-such-user-gts" })).toBe(
      "Unknown security domain user no-such-user-gts",
    );
    expect(await validateKvmParameters({ ...ok, security_model: "user", security_domain: "root" })).toBeNull();
    expect(await validateKvmParameters({ ...ok, security_model: "pool" })).toMatch(/^security_model 'pool' is not supported by ganeti-ts/);
    expect(await validateKvmParameters({ ...ok, spice_bind: "no-such-if0" })).toMatch(/^SPICE: The bind address 'no-such-if0' is neither/);
    expect(await validateKvmParameters({ ...ok, spice_bind: "127.0.0.1" })).toBeNull();
    expect(
      await validateKvmParameters(
        { ...ok, spice_bind: "127.0.0.1", spice_use_tls: true },
        { spiceCert: "/nonexistent/spice.pem", spiceCaCert: "/bin/sh" },
      ),
    ).toBe("SPICE TLS needs the node's certificate files: '/nonexistent/spice.pem' is missing");
  });
});
