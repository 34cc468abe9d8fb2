import { describe, expect, it } from "vitest";
import { QueryParseError, QueryParameterError, evaluateFilter, parseFilter } from "../../src/config/query/qlang.js";
import { f, fieldTable, normal, UNAVAIL, type QueryContext } from "../../src/config/query/types.js";

type Row = { name: string; n: number; ok: boolean; tags: string[]; gone?: boolean };
const table = fieldTable<Row>([
  f("name", "Name", "text", "", (r) => normal(r.name), { hostname: true }),
  f("n", "N", "number", "", (r) => normal(r.n)),
  f("ok", "Ok", "bool", "", (r) => normal(r.ok)),
  f("tags", "Tags", "other", "", (r) => normal(r.tags)),
  f("live", "Live", "number", "", (r) => (r.gone ? UNAVAIL : normal(1))),
]);
const ctx = {} as QueryContext;
const row: Row = { name: "web1.example.com", n: 5, ok: true, tags: ["prod"] };
const ev = (flt: unknown, r: Row = row) => evaluateFilter(parseFilter(flt)!, table, r, ctx);

describe("qlang", () => {
  it.each([
    [["=", "name", "web1.example.com"], true],
    [["==", "name", "web1"], true],
    [["==", "name", "web"], false],
    [["!=", "n", 5], false],
    [["<", "n", 6], true],
    [["<=", "n", 5], true],
    [[">", "n", 5], false],
    [[">=", "n", 5], true],
    [["=~", "name", "^web"], true],
    [["=~", "name", "(?i)^WEB"], true],
    [["=[]", "tags", "prod"], true],
    [["?", "ok"], true],
    [["!", ["?", "ok"]], false],
    [["&"], true],
    [["|"], false],
    [["|", ["=", "n", 1], ["&", ["?", "ok"], [">", "n", 1]]], true],
  ])("%j → %s", (flt, want) => expect(ev(flt)).toBe(want));

  it("unavailable values exclude the row", () => {
    expect(ev(["=", "live", 1], { ...row, gone: true })).toBeUndefined();
    expect(ev(["!", ["=", "live", 1]], { ...row, gone: true })).toBeUndefined();
  });

  it.each([
    [["=", "name"], 'Cannot deserialise field/value pair, expected [fieldname, value] but got ["name"]'],
    [["~~", "a", 1], "Unknown filter operand '~~'"],
    [["!"], "Cannot deserialise field, expected [filter] but got []"],
    [["?", 1], "Cannot deserialise field, expected [fieldname] but got [1]"],
    [["=", "n", true], "Cannot deserialise filter value, expected string or integer but got true"],
    ["x", 'Cannot deserialise filter: expected array [string, args], got "x"'],
  ])("parse error %j", (flt, msg) => {
    expect(() => parseFilter(flt)).toThrow(QueryParseError);
    expect(() => parseFilter(flt)).toThrow(msg);
  });

  it("rejects too deep nesting", () => {
    let flt: unknown = ["?", "ok"];
    for (let i = 0; i < 12; i++) flt = ["!", flt];
    expect(() => parseFilter(flt)).toThrow(QueryParseError);
  });

  it("type errors at evaluation are ParameterErrors", () => {
    expect(() => ev(["<", "name", 1])).toThrow(QueryParameterError);
    expect(() => ev(["=~", "n", "x"])).toThrow(QueryParameterError);
    expect(() => ev(["=[]", "n", "x"])).toThrow(QueryParameterError);
  });
});
