// The SDK's request types are derived from schema/ (docs/architecture.md,
// rule 1), not written again: a change to an opcode's parameters changes the
// SDK's types with it. Type-level checks (tsc runs them), plus a guard that
// params.ts declares no shape of its own.
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import type { z } from "zod";
import type {
  DiskSpecSchema,
  OpBackupExportSchema,
  FilterRuleBodySchema,
  OpClusterSetParamsSchema,
  OpInstanceCreateSchema,
  OpInstanceMigrateSchema,
  OpInstanceShutdownSchema,
  OpNodeEvacuateSchema,
} from "@ganeti-ts/schema";
import { describe, expect, expectTypeOf, it } from "vitest";
import type {
  ClusterModifyParams,
  FilterRuleParams,
  InstanceCreateParams,
  InstanceExportParams,
  InstanceMigrateParams,
  InstanceShutdownParams,
  NodeEvacuateParams,
} from "../src/index.js";

describe("SDK request types", () => {
  it("are the opcode schemas' inputs", () => {
    type In<S extends z.ZodType> = z.input<S>;
    expectTypeOf<InstanceShutdownParams["timeout"]>().toEqualTypeOf<In<typeof OpInstanceShutdownSchema>["timeout"]>();
    expectTypeOf<InstanceMigrateParams["mode"]>().toEqualTypeOf<In<typeof OpInstanceMigrateSchema>["mode"]>();
    expectTypeOf<NodeEvacuateParams["mode"]>().toEqualTypeOf<In<typeof OpNodeEvacuateSchema>["mode"]>();
    expectTypeOf<ClusterModifyParams["enabled_hypervisors"]>().toEqualTypeOf<In<typeof OpClusterSetParamsSchema>["enabled_hypervisors"]>();
    expectTypeOf<InstanceCreateParams["disk_template"]>().toEqualTypeOf<In<typeof OpInstanceCreateSchema>["disk_template"]>();
    expectTypeOf<InstanceCreateParams["disks"]>().toEqualTypeOf<In<typeof DiskSpecSchema>[]>();
    expectTypeOf<FilterRuleParams>().toEqualTypeOf<In<typeof FilterRuleBodySchema>>();
    expectTypeOf<InstanceExportParams["mode"]>().toEqualTypeOf<In<typeof OpBackupExportSchema>["mode"] | undefined>();
    expect(true).toBe(true);
  });

  it("params.ts declares no request shape of its own", () => {
    const src = readFileSync(fileURLToPath(new URL("../src/resources/params.ts", import.meta.url)), "utf8");
    expect(src).not.toMatch(/\binterface\b/);
    const params = [...src.matchAll(/^export type (\w+Params) = ([^;]+);/gm)];
    expect(params.length).toBeGreaterThan(20);
    // Each comes from an opcode (OpcodeBody) or a body schema of schema/ (z.input).
    expect(params.filter(([, , def]) => !/OpcodeBody<|OpcodeParams<|z\.input<|InstanceCreateParams/.test(def!)).map(([, n]) => n)).toEqual(
      [],
    );
  });
});
