// Ganeti's query filter strings (gnt-* list -F) into the RAPI's list form.
import nock from "nock";
import { describe, expect, it } from "vitest";
import { BASE, useNock } from "../../sdk/test/helpers/captures.js";
import { globPattern, makeListFilter, parseFilterText } from "../src/qlang-text.js";
import { gnt } from "./helpers.js";

useNock();

describe("parseFilterText", () => {
  it("comparisons, booleans, and/or/not with Ganeti's binding, parentheses", () => {
    expect(parseFilterText('pnode == "node1"')).toEqual(["==", "pnode", "node1"]);
    expect(parseFilterText("oper_ram >= 128")).toEqual([">=", "oper_ram", 128]);
    expect(parseFilterText("admin_state = 'up'")).toEqual(["==", "admin_state", "up"]);
    expect(parseFilterText("not admin_state")).toEqual(["!", ["?", "admin_state"]]);
    expect(parseFilterText("a == 1 or b == 2 and not c")).toEqual(["|", ["==", "a", 1], ["&", ["==", "b", 2], ["!", ["?", "c"]]]]);
    expect(parseFilterText("(a == 1 or b == 2) and be/vcpus > 1")).toEqual([
      "&",
      ["|", ["==", "a", 1], ["==", "b", 2]],
      [">", "be/vcpus", 1],
    ]);
  });

  it("regular expressions with flags, globs, in / not in", () => {
    expect(parseFilterText("name =~ /^web\\d+/")).toEqual(["=~", "name", "^web\\d+"]);
    expect(parseFilterText("name =~ m#a/b#i")).toEqual(["=~", "name", "(?i)a/b"]);
    expect(parseFilterText("name !~ /x/")).toEqual(["!", ["=~", "name", "x"]]);
    expect(parseFilterText('name =* "web*.example.com"')).toEqual(["=~", "name", "^web[^.]*\\.example\\.com(\\..*)?$"]);
    expect(parseFilterText('"prod" in tags')).toEqual(["=[]", "tags", "prod"]);
    expect(parseFilterText('"prod" not in tags')).toEqual(["!", ["=[]", "tags", "prod"]]);
  });

  it("errors point at the place", () => {
    expect(() => parseFilterText('name == "x')).toThrow(/unterminated string/);
    expect(() => parseFilterText("name == ")).toThrow(/expected a number or a quoted string/);
    expect(() => parseFilterText("name =~ /x/q")).toThrow(/Unknown regular expression flags: 'q'/);
    expect(() => parseFilterText("a == 1 b")).toThrow(
      /Error while parsing query filter: unexpected text after the filter\n {2}a == 1 b\n {9}\^/,
    );
  });

  it("makeListFilter: names, globs, numeric ids, a lone filter-looking argument", () => {
    expect(makeListFilter(["a", "web*"], false, "name", false)).toEqual(["|", ["==", "name", "a"], ["=~", "name", globPattern("web*")]]);
    expect(makeListFilter(["3"], false, "id", true)).toEqual(["|", ["==", "id", 3]]);
    expect(makeListFilter(['status == "running"'], false, "name", false)).toEqual(["==", "status", "running"]);
    expect(() => makeListFilter(["a", "b"], true, "name", false)).toThrow(/Exactly one argument/);
    expect(new RegExp(globPattern("web?.site")).test("web1.site.example.com")).toBe(true);
    expect(new RegExp(globPattern("web*")).test("web.x")).toBe(true);
    expect(new RegExp(globPattern("web*")).test("xweb")).toBe(false);
  });
});

describe("gnt instance list -F", () => {
  it("sends the parsed filter as qfilter", async () => {
    const filter = ["&", ["==", "pnode", "node1"], ["!", ["?", "admin_state"]]];
    nock(BASE)
      .put("/2/query/instance", { fields: ["name"], qfilter: filter, filter })
      .reply(200, { fields: [{ name: "name", title: "Instance", kind: "text", doc: "" }], data: [[[0, "web1"]]] });
    const r = await gnt(["instance", "list", "-o", "name", "--no-headers", "-F", 'pnode == "node1" and not admin_state']);
    expect(r).toMatchObject({ code: 0, out: "web1" });
  });

  it("a bad filter: Ganeti's message, exit 2, nothing sent", async () => {
    const r = await gnt(["instance", "list", "-F", "name =="]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/^gnt: Error while parsing query filter: expected a number or a quoted string/);
  });
});
