// The schema's parameter tables agree with the defaults a new cluster gets:
// every default passes the full check, and every parameter has a default.
import { BE_PARAMETER_TYPES, HV_PARAMETERS, ND_PARAMETER_TYPES, NIC_PARAMETER_TYPES, validateBeParams, validateHvParams } from "@ganeti-ts/schema";
import { describe, expect, it } from "vitest";
import { DEFAULT_BEPARAMS, DEFAULT_HVPARAMS, DEFAULT_NDPARAMS, DEFAULT_NICPARAMS, HYPERVISORS } from "../../src/config/defaults.js";

describe("parameter tables vs. Ganeti 3.0's defaults", () => {
  it.each([...HYPERVISORS])("%s: the defaults pass CheckParameterSyntax and list every parameter", (hv) => {
    const defaults = (DEFAULT_HVPARAMS as Record<string, Record<string, unknown>>)[hv]!;
    expect(validateHvParams(hv, defaults, { partial: false })).toEqual(defaults);
    expect(Object.keys(HV_PARAMETERS[hv]!).sort()).toEqual(Object.keys(defaults).sort());
  });
  it("backend, NIC and node parameters have a type each", () => {
    expect(validateBeParams({ ...DEFAULT_BEPARAMS })).toEqual(DEFAULT_BEPARAMS);
    expect(Object.keys(DEFAULT_BEPARAMS).every((k) => BE_PARAMETER_TYPES.has(k))).toBe(true);
    expect(Object.keys(DEFAULT_NICPARAMS).sort()).toEqual([...NIC_PARAMETER_TYPES.keys()].sort());
    expect(Object.keys(DEFAULT_NDPARAMS).sort()).toEqual([...ND_PARAMETER_TYPES.keys()].sort());
  });
});
