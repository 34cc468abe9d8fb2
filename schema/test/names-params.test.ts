import { describe, expect, it } from "vitest";
import {
  checkObjectName,
  checkOsName,
  FilterUuidSchema,
  forceParamTypes,
  HostnameSchema,
  HV_PARAMETERS,
  HVS_PARAMETER_TYPES,
  InvalidNameError,
  isNormAbsPath,
  isUuid,
  jsonDepthExceeds,
  JsonObjectSchema,
  normalizeHostname,
  ParamError,
  validateBeParams,
  validateHvParams,
  validateOpcodeParams,
} from "../src/index.js";

describe("host names (Ganeti's GetNormalizedName)", () => {
  it("lower-cases and drops a trailing dot", () => {
    expect(normalizeHostname("Web-1.Example.COM.")).toBe("web-1.example.com");
    expect(normalizeHostname("a_b")).toBe("a_b");
    expect(HostnameSchema.parse("NODE1")).toBe("node1");
  });
  it.each(["", " ", "a/b", "..", "../../x", "a\u0000b", "my host", "evil\u202Etxt", ".lead", "x".repeat(256), "x".repeat(70_000), "abc\n"])(
    "refuses %#",
    (name) => {
      expect(() => normalizeHostname(name)).toThrow(InvalidNameError);
      expect(() => normalizeHostname(name)).toThrow(`Invalid hostname '${name.toLowerCase()}'`);
      expect(HostnameSchema.safeParse(name).success).toBe(false);
    },
  );
  it("accepts 255 characters", () => {
    expect(normalizeHostname("a".repeat(255))).toHaveLength(255);
  });
});

describe("group, network, OS names and filter ids", () => {
  it("object names keep case but may not be paths", () => {
    expect(checkObjectName("group", "Rack-1")).toBe("Rack-1");
    for (const bad of ["", ".", "..", "a/b", "a b", "a\u0000", "\u202E", "x".repeat(256)])
      expect(() => checkObjectName("network", bad)).toThrow(`Invalid network name '${bad}'`);
  });
  it("OS names: name and variant, no path parts", () => {
    expect(checkOsName("debootstrap+default")).toBe("debootstrap+default");
    for (const bad of ["", ".", "..", "../x", "a/b", ".hidden", "a b"]) expect(() => checkOsName(bad)).toThrow("Invalid OS name");
  });
  it("filter ids are lower-case UUIDs", () => {
    expect(isUuid("0123abcd-0000-4000-8000-0123456789ab")).toBe(true);
    for (const bad of ["__proto__", "constructor", "0123ABCD-0000-4000-8000-0123456789AB", "0123abcd00004000800001234567890ab"]) {
      expect(isUuid(bad)).toBe(false);
      expect(FilterUuidSchema.safeParse(bad).success).toBe(false);
    }
  });
});

describe("parameter tables", () => {
  it("every hypervisor's parameter is in HVS_PARAMETER_TYPES with one type", () => {
    for (const table of Object.values(HV_PARAMETERS))
      for (const [name, spec] of Object.entries(table)) expect(HVS_PARAMETER_TYPES.get(name)).toBe(spec.type);
  });
  it("ForceDictType: Ganeti's conversions and messages", () => {
    expect(forceParamTypes({ acpi: "False", serial_speed: "115200", kernel_args: false }, HVS_PARAMETER_TYPES)).toEqual({
      acpi: false,
      serial_speed: 115200,
      kernel_args: "",
    });
    expect(() => forceParamTypes({ bogus: 1 }, HVS_PARAMETER_TYPES)).toThrow("Unknown parameter 'bogus'");
    expect(() => forceParamTypes({ constructor: 1 }, HVS_PARAMETER_TYPES)).toThrow("Unknown parameter 'constructor'");
    expect(() => forceParamTypes({ acpi: "perhaps" }, HVS_PARAMETER_TYPES)).toThrow("'acpi' (value perhaps) is not a valid boolean");
    expect(() => forceParamTypes({ serial_speed: "fast" }, HVS_PARAMETER_TYPES)).toThrow("'serial_speed' (value fast) is not a valid integer");
    expect(() => forceParamTypes({ vga: ["a"] }, HVS_PARAMETER_TYPES)).toThrow("'vga' (value ['a']) is not a valid string");
  });
  it("beparams: sizes parse like ParseUnit, negatives are not sizes", () => {
    expect(validateBeParams({ maxmem: "1G", minmem: 130, vcpus: "2" })).toEqual({ maxmem: 1024, minmem: 132, vcpus: 2 });
    expect(() => validateBeParams({ maxmem: -1 })).toThrow("'maxmem' (value -1) is not a valid size. error: Invalid format");
    expect(() => validateBeParams({ spindle_use: "x" })).toThrow(ParamError);
  });
  it("hypervisor syntax: enums, ranges, paths, required and missing parameters", () => {
    const kvm = (p: Record<string, unknown>) => validateHvParams("kvm", p, { partial: true });
    expect(() => kvm({ boot_order: "usb" })).toThrow(
      "Parameter 'boot_order' fails syntax check: The value must be one of: cdrom, disk, floppy, network (current value: 'usb')",
    );
    expect(() => kvm({ nic_type: "virtio" })).toThrow("Parameter 'nic_type' fails syntax check");
    expect(() => kvm({ disk_cache: "unsafe" })).toThrow("Parameter 'disk_cache' fails syntax check");
    expect(() => kvm({ security_model: "root" })).toThrow("Parameter 'security_model' fails syntax check");
    expect(() => kvm({ reboot_behavior: "halt" })).toThrow("Parameter 'reboot_behavior' fails syntax check");
    expect(() => kvm({ migration_port: 70000 })).toThrow("invalid port number (current value: '70000')");
    expect(() => kvm({ kernel_path: "boot/../vmlinuz" })).toThrow("must be an absolute normalized path");
    expect(() => kvm({ cpu_mask: "3-1" })).toThrow("Multiple CPU mask definition is not well-formed");
    expect(() => kvm({ boot_order: "" })).toThrow("Parameter 'boot_order' is required but is currently not defined");
    expect(kvm({ cpu_mask: "0-2,5:all", kernel_path: "" })).toEqual({ cpu_mask: "0-2,5:all", kernel_path: "" });
    expect(() => validateHvParams("fake", { acpi: true }, { partial: true })).toThrow("Parameter 'acpi' is not supported");
    expect(() => validateHvParams("fake", {}, { partial: false })).toThrow("Parameter 'migration_mode' is missing");
    expect(() => validateHvParams("xen-hvm", { boot_order: "cdx" }, { partial: true })).toThrow("Invalid boot order specified");
    expect(() => validateHvParams("nope", {}, { partial: true })).toThrow("Unknown hypervisor 'nope'");
  });
  it("isNormAbsPath is Python's normpath(p) == p and isabs(p)", () => {
    expect(isNormAbsPath("/usr/bin/kvm")).toBe(true);
    for (const p of ["usr/bin", "/usr/../bin", "/usr/./bin", "/usr/bin/", "/usr//bin", ""]) expect(isNormAbsPath(p)).toBe(false);
  });
});

describe("nesting bound", () => {
  const nest = (n: number) => {
    let v: unknown = "x";
    for (let i = 0; i < n; i++) v = { a: v };
    return v as Record<string, unknown>;
  };
  it("dicts deeper than MAX_JSON_DEPTH are refused, without stack overflow", () => {
    expect(jsonDepthExceeds(nest(32))).toBe(false);
    expect(jsonDepthExceeds(nest(33))).toBe(true);
    expect(jsonDepthExceeds(nest(100_000))).toBe(true);
    expect(JsonObjectSchema.safeParse(nest(1000)).success).toBe(false);
  });
  it("an opcode with hvparams nested 1,000 levels fails validation", () => {
    const res = validateOpcodeParams("OP_INSTANCE_SET_PARAMS", { instance_name: "i1", hvparams: nest(1000) });
    expect(res).toMatchObject({ ok: false, kind: "invalid_parameter", param: "hvparams" });
  });
});
