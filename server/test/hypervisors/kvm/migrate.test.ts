// The source's migration info as the target reads it.
import { describe, expect, it } from "vitest";
import { parseMachine } from "../../../src/hypervisors/kvm/migrate.js";

describe("parseMachine", () => {
  it("reads the source machine's memory and vCPUs; nothing from an empty info", () => {
    expect(parseMachine(JSON.stringify({ maxmem: 192, vcpus: 2 }))).toEqual({ maxmem: 192, vcpus: 2 });
    expect(parseMachine("")).toBeNull();
  });

  it("refuses what is not a machine size", () => {
    for (const bad of ["{", "null", JSON.stringify({ maxmem: "192", vcpus: 1 }), JSON.stringify({ maxmem: 0, vcpus: 1 })]) {
      expect(() => parseMachine(bad), bad).toThrow(/^Invalid migration information from the source node/);
    }
  });
});
