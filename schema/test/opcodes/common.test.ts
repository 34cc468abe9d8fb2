import { describe, expect, it } from "vitest";
import {
  DependsSchema,
  DiskModificationsSchema,
  DiskParamsDictSchema,
  DiskSpecSchema,
  DiskTemplateSchema,
  EvacuateModeSchema,
  HypervisorSchema,
  IPv4AddressSchema,
  IPv4NetworkSchema,
  IPv6AddressSchema,
  IPv6NetworkSchema,
  NicModificationsSchema,
  NicParamsSchema,
  NonEmptyStringSchema,
  RebootTypeSchema,
  SubmitPrioritySchema,
  TagSchema,
  UnitParseError,
  UnitSizeMibSchema,
  UnitSizeSchema,
  parseUnitSize,
} from "../../src/common.js";

describe("parseUnitSize (Ganeti utils.ParseUnit)", () => {
  it("converts units to MiB", () => {
    expect(parseUnitSize("1G")).toBe(1024);
    expect(parseUnitSize("1g")).toBe(1024);
    expect(parseUnitSize("2GiB")).toBe(2048);
    expect(parseUnitSize("512")).toBe(512);
    expect(parseUnitSize("512M")).toBe(512);
    expect(parseUnitSize("512 mb")).toBe(512);
    expect(parseUnitSize("1T")).toBe(1048576);
    expect(parseUnitSize("1.5G")).toBe(1536);
    expect(parseUnitSize(1024)).toBe(1024);
  });

  it("rounds up to an integer, then to a multiple of 4", () => {
    expect(parseUnitSize(1023)).toBe(1024);
    expect(parseUnitSize("0.1")).toBe(4);
    expect(parseUnitSize("1")).toBe(4);
    expect(parseUnitSize("0")).toBe(0);
  });

  it("rejects bad formats and units with UnitParseError", () => {
    for (const bad of ["", "G", "1x", "-1", "1.2.3", "1 G B", "abc"]) {
      expect(() => parseUnitSize(bad)).toThrow(UnitParseError);
    }
    expect(() => parseUnitSize("1x")).toThrow("Unknown unit: x");
    try {
      parseUnitSize("nope");
    } catch (err) {
      expect((err as UnitParseError).code).toBe("wrong_input");
    }
  });

  it("UnitSizeSchema accepts ints and unit strings, UnitSizeMibSchema converts", () => {
    expect(UnitSizeSchema.parse("1G")).toBe("1G");
    expect(UnitSizeSchema.parse(100)).toBe(100);
    expect(UnitSizeSchema.safeParse("1Q").success).toBe(false);
    expect(UnitSizeSchema.safeParse(-1).success).toBe(false);
    expect(UnitSizeSchema.safeParse(1.5).success).toBe(false);
    expect(UnitSizeMibSchema.parse("1G")).toBe(1024);
    expect(UnitSizeMibSchema.parse(1000)).toBe(1000);
  });
});

describe("enums", () => {
  it("accept Ganeti's values only", () => {
    expect(DiskTemplateSchema.parse("drbd")).toBe("drbd");
    expect(DiskTemplateSchema.safeParse("drbd8").success).toBe(false);
    expect(HypervisorSchema.parse("fake")).toBe("fake");
    expect(RebootTypeSchema.options).toEqual(["soft", "hard", "full"]);
    expect(EvacuateModeSchema.safeParse("primary").success).toBe(false);
  });

  it("priority is -10, 0 or 10 at submit", () => {
    for (const p of [-10, 0, 10]) expect(SubmitPrioritySchema.parse(p)).toBe(p);
    for (const p of [1, -20, 19, "0", true]) expect(SubmitPrioritySchema.safeParse(p).success).toBe(false);
  });
});

describe("strings and tags", () => {
  it("non-empty strings", () => {
    expect(NonEmptyStringSchema.safeParse("").success).toBe(false);
    expect(NonEmptyStringSchema.safeParse("a").success).toBe(true);
  });
  it("tags follow Ganeti's name rules", () => {
    expect(TagSchema.safeParse("env:prod").success).toBe(true);
    expect(TagSchema.safeParse("bad tag").success).toBe(false);
    expect(TagSchema.safeParse("x".repeat(129)).success).toBe(false);
  });
});

describe("depends", () => {
  it("accepts [[job_id, [finalized statuses]]]", () => {
    expect(
      DependsSchema.parse([
        [12, ["success"]],
        ["13", []],
        [-1, ["error", "canceled"]],
      ]),
    ).toHaveLength(3);
  });
  it("rejects bad statuses and shapes", () => {
    expect(DependsSchema.safeParse([[12, ["running"]]]).success).toBe(false);
    expect(DependsSchema.safeParse([[12]]).success).toBe(false);
    expect(DependsSchema.safeParse([["x", []]]).success).toBe(false);
  });
});

describe("disk and NIC dicts", () => {
  it("opcode disk dicts: non-empty keys, values non-empty string or int", () => {
    expect(DiskParamsDictSchema.safeParse({ size: "1G", mode: "rw" }).success).toBe(true);
    expect(DiskParamsDictSchema.safeParse({ size: 1024, spindles: 1 }).success).toBe(true);
    expect(DiskParamsDictSchema.safeParse({ size: 1.5 }).success).toBe(false);
    expect(DiskParamsDictSchema.safeParse({ name: "" }).success).toBe(false);
    expect(DiskParamsDictSchema.safeParse({ size: true }).success).toBe(false);
    expect(DiskParamsDictSchema.safeParse({ "": 1 }).success).toBe(false);
  });

  it("typed disk spec checks size units and mode", () => {
    expect(DiskSpecSchema.safeParse({ size: "10G", mode: "ro" }).success).toBe(true);
    expect(DiskSpecSchema.safeParse({ size: "10Q" }).success).toBe(false);
    expect(DiskSpecSchema.safeParse({ size: 10, mode: "rwx" }).success).toBe(false);
  });

  it("NIC dicts: only INIC_PARAMS keys, string or null values", () => {
    expect(NicParamsSchema.safeParse({}).success).toBe(true);
    expect(NicParamsSchema.safeParse({ mac: "auto", ip: null, link: "br0", vlan: "100" }).success).toBe(true);
    expect(NicParamsSchema.safeParse({ vlan: 100 }).success).toBe(false);
    expect(NicParamsSchema.safeParse({ speed: "1G" }).success).toBe(false);
  });
});

describe("modification lists (Ganeti's instance modify)", () => {
  it("accepts the 3-element form", () => {
    expect(DiskModificationsSchema.safeParse([["add", -1, { size: 1024, mode: "rw" }]]).success).toBe(true);
    expect(DiskModificationsSchema.safeParse([["remove", "disk-name", {}]]).success).toBe(true);
    expect(DiskModificationsSchema.safeParse([["detach", 0, {}]]).success).toBe(true);
    expect(NicModificationsSchema.safeParse([["modify", 0, { ip: "192.0.2.10" }]]).success).toBe(true);
  });

  it("accepts the legacy 2-element form", () => {
    expect(DiskModificationsSchema.safeParse([[0, { mode: "ro" }]]).success).toBe(true);
    expect(DiskModificationsSchema.safeParse([["add", { size: 1024 }]]).success).toBe(true);
    expect(NicModificationsSchema.safeParse([["remove", {}]]).success).toBe(true);
  });

  it("rejects mixed forms, bad actions and bad params", () => {
    expect(
      DiskModificationsSchema.safeParse([
        ["add", -1, { size: 1 }],
        [0, { mode: "ro" }],
      ]).success,
    ).toBe(false);
    expect(DiskModificationsSchema.safeParse([["grow", 0, {}]]).success).toBe(false);
    // "modify" needs an identifier: only valid in the 3-element form
    expect(DiskModificationsSchema.safeParse([["modify", {}]]).success).toBe(false);
    // legacy indices are non-negative
    expect(DiskModificationsSchema.safeParse([[-1, {}]]).success).toBe(false);
    expect(NicModificationsSchema.safeParse([["add", -1, { bogus: "x" }]]).success).toBe(false);
    expect(DiskModificationsSchema.safeParse([["add", -1]]).success).toBe(false);
  });

  it("accepts the empty list", () => {
    expect(DiskModificationsSchema.parse([])).toEqual([]);
  });
});

describe("IP addresses and networks (Python ipaddress semantics)", () => {
  it("IPv4", () => {
    expect(IPv4AddressSchema.safeParse("10.0.0.1").success).toBe(true);
    expect(IPv4AddressSchema.safeParse("10.0.0.256").success).toBe(false);
    expect(IPv4AddressSchema.safeParse("10.0.0.01").success).toBe(false);
    expect(IPv4NetworkSchema.safeParse("10.250.3.0/24").success).toBe(true);
    expect(IPv4NetworkSchema.safeParse("10.250.3.1").success).toBe(true);
    expect(IPv4NetworkSchema.safeParse("10.250.3.1/24").success).toBe(false);
    expect(IPv4NetworkSchema.safeParse("10.250.3.0/33").success).toBe(false);
  });

  it("IPv6", () => {
    for (const ok of ["::", "::1", "fe80::1", "2001:db8::", "::ffff:192.0.2.1", "1:2:3:4:5:6:7:8"]) {
      expect(IPv6AddressSchema.safeParse(ok).success, ok).toBe(true);
    }
    for (const bad of ["1::2::3", "1:2:3:4:5:6:7", "12345::", "10.0.0.1", ""]) {
      expect(IPv6AddressSchema.safeParse(bad).success, bad).toBe(false);
    }
    expect(IPv6NetworkSchema.safeParse("2001:db8::/32").success).toBe(true);
    expect(IPv6NetworkSchema.safeParse("2001:db8::1/32").success).toBe(false);
    expect(IPv6NetworkSchema.safeParse("2001:db8::/129").success).toBe(false);
  });
});
