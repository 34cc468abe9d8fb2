// The schema's parameter tables agree with the defaults a new cluster gets:
// every default passes the full check, and every parameter has a default.
import { BE_PARAMETER_TYPES, DISK_PARAMETER_TYPES, HV_PARAMETERS, HYPERVISORS, ND_PARAMETER_TYPES, NIC_PARAMETER_TYPES, validateBeParams, validateHvParams } from "@ganeti-ts/schema";
import { describe, expect, it } from "vitest";
import { DEFAULT_BEPARAMS, DEFAULT_DISKPARAMS, DEFAULT_HVPARAMS, DEFAULT_NDPARAMS, DEFAULT_NICPARAMS } from "../../src/config/defaults.js";

describe("parameter tables vs. Ganeti 3.0's defaults", () => {
  it.each([...HYPERVISORS])("%s: the defaults pass CheckParameterSyntax and list every parameter", (hv) => {
    const defaults = (DEFAULT_HVPARAMS as Record<string, Record<string, unknown>>)[hv]!;
    expect(validateHvParams(hv, defaults, { partial: false })).toEqual(defaults);
    expect(Object.keys(HV_PARAMETERS[hv]!).sort()).toEqual(Object.keys(defaults).sort());
  });
  it("disk template parameters have a type each", () => {
    for (const params of Object.values(DEFAULT_DISKPARAMS as Record<string, Record<string, unknown>>))
      for (const k of Object.keys(params)) expect(DISK_PARAMETER_TYPES.has(k), k).toBe(true);
  });
  it("backend, NIC and node parameters have a type each", () => {
    expect(validateBeParams({ ...DEFAULT_BEPARAMS })).toEqual(DEFAULT_BEPARAMS);
    expect(Object.keys(DEFAULT_BEPARAMS).every((k) => BE_PARAMETER_TYPES.has(k))).toBe(true);
    expect(Object.keys(DEFAULT_NICPARAMS).sort()).toEqual([...NIC_PARAMETER_TYPES.keys()].sort());
    expect(Object.keys(DEFAULT_NDPARAMS).sort()).toEqual([...ND_PARAMETER_TYPES.keys()].sort());
  });
  it("kvm: Ganeti's checks across parameters on the filled dict", () => {
    const DEFAULT_KVM = DEFAULT_HVPARAMS.kvm as Record<string, unknown>;
    const full = (over: Record<string, unknown>) => validateHvParams("kvm", { ...DEFAULT_KVM, ...over }, { partial: false });
    expect(full({})).toEqual(DEFAULT_KVM);
    expect(() => full({ boot_order: "cdrom" })).toThrow("Cannot boot from cdrom without an ISO path");
    expect(() => full({ root_path: "" })).toThrow("Need a root partition for the instance, if a kernel is defined");
    expect(() => full({ security_model: "user" })).toThrow("A security domain (user to run kvm as) must be specified");
    expect(() => full({ security_domain: "kvm" })).toThrow("Cannot have a security domain when the security model is 'none' or 'pool'");
    expect(() => full({ serial_speed: 12345 })).toThrow("Invalid serial console speed, must be one of: 75, 110,");
    expect(() => full({ vnc_x509_verify: true })).toThrow("vnc_x509_path must be defined, if vnc_x509_verify is");
    expect(() => full({ spice_use_tls: true })).toThrow("SPICE: spice_use_tls requires spice_bind to be set");
    expect(() => full({ spice_bind: "10.0.0.1", spice_ip_version: 6 })).toThrow("SPICE: Got an IPv4 address (10.0.0.1), but the specified IP version is 6");
    expect(() => full({ disk_aio: "native" })).toThrow("When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.");
    expect(full({ disk_aio: "native", disk_cache: "none" })).toMatchObject({ disk_aio: "native" });
  });
});
