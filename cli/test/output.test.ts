import { describe, expect, it } from "vitest";
import type { QueryResult } from "@ganeti-ts/sdk";
import { formatLogLine, formatUnit, formatValue, queryToObjects, renderInfo, renderQuery, renderTable } from "../src/output.js";
import { parseFields, parseKeyVal, parseSize, parseHvSpec } from "../src/commands/common.js";
import { capture } from "../../sdk/test/helpers/captures.js";

describe("table formatting", () => {
  it("aligns columns, numbers right-aligned, like gnt-* list", () => {
    const t = renderTable(
      [{ title: "Node" }, { title: "MFree", numeric: true }],
      [
        ["node1.example.com", "512M"],
        ["n2", "23.1G"],
      ],
    );
    expect(t.split("\n")).toEqual(["Node              MFree", "node1.example.com  512M", "n2                23.1G"]);
  });

  it("--no-headers and --separator", () => {
    const cols = [{ title: "A" }, { title: "B" }];
    expect(renderTable(cols, [["x", "y"]], { headers: false })).toBe("x y");
    expect(renderTable(cols, [["x", "y"]], { separator: "|" })).toBe("A|B\nx|y");
  });

  it("renders a captured /2/query result with field titles and kinds", () => {
    const r = capture(338).response_body as QueryResult;
    const text = renderQuery(r);
    const [header] = text.split("\n");
    expect(header).toMatch(/^Instance\s+Status/);
    expect(text).toContain("inst1.ganeti.test");
    const objs = queryToObjects(r);
    expect(objs[0]).toHaveProperty("name");
  });

  it("unit, bool, list and status formatting", () => {
    expect(formatUnit(512)).toBe("512M");
    expect(formatUnit(23143)).toBe("22.6G");
    expect(formatUnit(3 * 1024 * 1024)).toBe("3.0T");
    expect(formatUnit(2048, "m")).toBe("2048");
    expect(formatValue("bool", true)).toBe("Y");
    expect(formatValue("other", ["a", "b"])).toBe("a,b");
    expect(formatValue("text", null)).toBe("-");
  });

  it("info view and log lines", () => {
    expect(renderInfo({ a: 1, b: { c: "x" }, d: [] })).toBe("a: 1\nb:\n  c: x\nd: []");
    expect(formatLogLine({ jobId: 1, serial: 1, time: Date.UTC(2026, 10, 25, 3, 49, 41), type: "message", message: "* starting" })).toBe(
      "Wed Nov 25 03:49:41 2026 * starting",
    );
  });
});

describe("Ganeti option syntax", () => {
  it("-o fields: replace or append with +", () => {
    expect(parseFields(undefined, ["a"])).toEqual(["a"]);
    expect(parseFields("x,y", ["a"])).toEqual(["x", "y"]);
    expect(parseFields("+x", ["a"])).toEqual(["a", "x"]);
  });

  it("key=value lists, sizes, hypervisor specs", () => {
    expect(parseKeyVal("memory=1G,vcpus=2,auto_balance=no,kernel_path=/boot/vmlinuz,acpi")).toEqual({
      memory: 1024,
      vcpus: 2,
      auto_balance: false,
      kernel_path: "/boot/vmlinuz",
      acpi: true,
    });
    expect(parseSize("10G")).toBe(10240);
    expect(parseSize("512")).toBe(512);
    expect(() => parseSize("lots")).toThrow(/invalid size/);
    expect(parseHvSpec("kvm:acpi=yes")).toEqual(["kvm", { acpi: true }]);
  });
});
