// One operations table per resource → a Pulumi dynamic ResourceProvider.
// Diff, check failures, timeouts, partial failures, adopt and secret
// outputs are written here once.
//
// Two halves:
// - makeProvider(ops): the real provider, run where the engine calls it
//   (the dynamic-provider host process, or a test).
// - providerStub(kind): the object handed to pulumi.dynamic.Resource. Pulumi
//   serializes it (and all it closes over) into the state, so it holds only
//   the resource kind and loads the real provider by package name at call
//   time. No client, no config, no credential is ever captured.
import type { dynamic } from "@pulumi/pulumi";
import type { GanetiClient } from "@ganeti-ts/sdk";
import { JobFailedError, NotFoundError } from "@ganeti-ts/sdk";
import { withClient, setConfig, type ConfigSource } from "./client.js";
import { diffInputs, type DiffTable, type FieldChange } from "./diff.js";
import { AdoptError, PartialFailureError, ProviderError, StepError, UpdateNotAllowedError } from "./errors.js";

export type ResourceKind = "Instance" | "NodeGroup" | "Network";

/** Pulumi module part of the type token: `pulumi-nodejs:dynamic/ganeti:Instance`. */
export const TOKEN_MODULE = "ganeti";
export function typeToken(kind: ResourceKind): string {
  return `pulumi-nodejs:dynamic/${TOKEN_MODULE}:${kind}`;
}

export interface CheckFailure {
  property: string;
  reason: string;
}

/** What each resource file provides. `I` = checked inputs, `O` = stored outputs (inputs + computed). */
export interface ResourceOperations<I extends Record<string, unknown>, O extends Record<string, unknown>> {
  kind: ResourceKind;
  /** Validate and normalise (pure): defaults filled so an unchanged program shows no diff. */
  check(news: Record<string, unknown>): { inputs: I; failures: CheckFailure[] };
  /** Fields that update in place or force a replacement. */
  diffTable: DiffTable;
  /** The object's name in Ganeti (the resource id). */
  nameOf(inputs: I): string;
  /** Does the object exist? (used by adopt and create). */
  exists(c: GanetiClient, name: string): Promise<boolean>;
  create(c: GanetiClient, inputs: I, timeoutMs: number): Promise<void>;
  /** Read the object; `reference` (the last known inputs) says which optional fields to report. Null if gone. */
  read(c: GanetiClient, name: string, reference: I): Promise<{ inputs: I; outputs: O } | null>;
  /** Apply the changes in order; each step waits for its jobs. Throws StepError on the first failure. */
  update(c: GanetiClient, olds: O, news: I, changes: FieldChange[], timeoutMs: number): Promise<void>;
  delete(c: GanetiClient, props: O, timeoutMs: number): Promise<void>;
  timeoutMs(inputs: I | O, op: "create" | "update" | "delete"): number;
}

/** A thrown `ProviderError` from check(), as Pulumi wants it. */
function checkFailuresOf(err: unknown): CheckFailure[] | undefined {
  return err instanceof ProviderError ? [{ property: "", reason: err.message }] : undefined;
}

/**
 * Pulumi's dynamic-provider host stores a partial failure's properties as
 * they are, while it adds the serialized provider (`__provider`) to every
 * other result: without it, the next operation on the resource (a delete,
 * an update) cannot load its provider. So partial failures carry it along.
 */
const PROVIDER_KEY = "__provider";
function withProvider(props: Record<string, unknown>, from: Record<string, unknown>): Record<string, unknown> {
  return PROVIDER_KEY in from ? { ...props, [PROVIDER_KEY]: from[PROVIDER_KEY] } : props;
}

/** Build the real provider from an operations table. */
export function makeProvider<I extends Record<string, unknown>, O extends Record<string, unknown>>(
  ops: ResourceOperations<I, O>,
): dynamic.ResourceProvider {
  const readBack = async (c: GanetiClient, name: string, reference: I): Promise<O> => {
    const r = await ops.read(c, name, reference);
    if (!r) throw new ProviderError(`${ops.kind} ${name} disappeared while being changed`, "not_found");
    return r.outputs;
  };

  return {
    async check(_olds, news) {
      try {
        const { inputs, failures } = ops.check(news as Record<string, unknown>);
        return failures.length ? { inputs: news, failures } : { inputs };
      } catch (err) {
        const failures = checkFailuresOf(err);
        if (failures) return { inputs: news, failures };
        throw err;
      }
    },

    async diff(_id, olds, news) {
      const d = diffInputs(olds as Record<string, unknown>, news as Record<string, unknown>, ops.diffTable);
      return {
        changes: d.changes,
        replaces: d.replaces,
        stables: d.stables,
        // Names are unique in Ganeti: the old object must go before its replacement appears.
        deleteBeforeReplace: d.replaces.length > 0,
      };
    },

    async create(inputs: I) {
      return withClient(async (c) => {
        const name = ops.nameOf(inputs);
        const timeout = ops.timeoutMs(inputs, "create");
        const exists = await ops.exists(c, name);
        if (inputs.adopt === true) {
          if (!exists) throw new AdoptError(`adopt: ${ops.kind} ${name} does not exist`);
          // Adopting = reading the object, then an in-place update towards the
          // program; fields that could only change by replacement must match.
          const current = await readBack(c, name, inputs);
          const d = diffInputs(current, inputs, ops.diffTable);
          if (d.replaces.length) {
            throw new AdoptError(`cannot adopt ${ops.kind} ${name}: ${d.replaces.join(", ")} differ and cannot change in place`);
          }
          try {
            await ops.update(c, current, inputs, d.changed, timeout);
          } catch (err) {
            throw new PartialFailureError(`adopting ${ops.kind} ${name}`, name, withProvider(await readBack(c, name, inputs), inputs), err);
          }
        } else {
          if (exists) {
            throw new AdoptError(`${ops.kind} ${name} already exists; set \`adopt: true\` to take it over`);
          }
          try {
            await ops.create(c, inputs, timeout);
          } catch (err) {
            // A create that timed out (or failed after the object appeared)
            // leaves an object behind: record it so the next up converges.
            const left = await ops.read(c, name, inputs).catch(() => null);
            if (left) throw new PartialFailureError(`creating ${ops.kind} ${name}`, name, withProvider(left.outputs, inputs), err);
            throw err instanceof ProviderError ? err : new StepError(`creating ${ops.kind} ${name}`, err);
          }
        }
        return { id: name, outs: await readBack(c, name, inputs) };
      });
    },

    async read(id, props) {
      return withClient(async (c) => {
        const reference = (props ?? {}) as unknown as I;
        const r = await ops.read(c, id, reference);
        if (!r) return {}; // gone: no id tells the engine to drop it
        return { id: ops.nameOf(r.inputs), props: r.outputs, inputs: r.inputs };
      });
    },

    async update(id, olds: O, news: I) {
      return withClient(async (c) => {
        const d = diffInputs(olds, news, ops.diffTable);
        const inPlace = d.changed.filter((ch) => ch.apply === "update");
        try {
          await ops.update(c, olds, news, inPlace, ops.timeoutMs(news, "update"));
        } catch (err) {
          if (err instanceof UpdateNotAllowedError) throw err; // refused before any change
          // Something may have been applied: report what the cluster has now.
          const name = (await ops.exists(c, ops.nameOf(news))) ? ops.nameOf(news) : id;
          const now = await ops.read(c, name, news).catch(() => null);
          if (now) throw new PartialFailureError(`updating ${ops.kind} ${id}`, name, withProvider(now.outputs, news), err);
          throw err;
        }
        return { outs: await readBack(c, ops.nameOf(news), news) };
      });
    },

    async delete(id, props: O) {
      await withClient(async (c) => {
        // Already gone is what we wanted (deleted out of band).
        if (!(await ops.exists(c, id))) return;
        try {
          await ops.delete(c, { ...props, name: id } as O, ops.timeoutMs(props, "delete"));
        } catch (err) {
          const cause = err instanceof StepError ? err.cause : err;
          if (cause instanceof NotFoundError) return;
          // Ganeti reports an object removed meanwhile as a job error with this ECODE.
          if (cause instanceof JobFailedError && cause.ecode === "unknown_entity") return;
          throw err;
        }
      });
    },
  };
}

/** Runtime-side configure(): remember the host's config for later calls. */
export function configureRuntime(config: ConfigSource | undefined): void {
  setConfig(config);
}

/**
 * The serializable provider for `kind`. Everything it needs is loaded when a
 * method runs: if this process already loaded the runtime (a test, or the
 * program itself), that copy is used; otherwise the package's runtime entry
 * is imported, resolved from the working directory (the Pulumi project,
 * whose node_modules holds @ganeti-ts/pulumi): plain JavaScript when the
 * package is built, through tsx when it is the workspace's TypeScript.
 */
export function providerStub(kind: ResourceKind): dynamic.ResourceProvider {
  const load = async (): Promise<{
    providers: Record<string, dynamic.ResourceProvider>;
    configure: (c: unknown) => void;
  }> => {
    const key = Symbol.for("@ganeti-ts/pulumi/runtime");
    const g = globalThis as unknown as Record<symbol, Promise<never> | undefined>;
    let rt = g[key];
    if (!rt) {
      rt = (async () => {
        const { pathToFileURL } = await import("node:url");
        const { createRequire } = await import("node:module");
        const parent = pathToFileURL(`${process.cwd()}/`).href;
        const entry = createRequire(parent).resolve("@ganeti-ts/pulumi/runtime");
        // The built package is plain JavaScript; the workspace's sources
        // (tests, the repository's examples) go through tsx.
        if (!entry.endsWith(".ts")) return ((await import(pathToFileURL(entry).href)) as { runtime: unknown }).runtime;
        const { tsImport } = await import("tsx/esm/api");
        const m = await tsImport("@ganeti-ts/pulumi/runtime", parent);
        return m.runtime;
      })() as Promise<never>;
      g[key] = rt;
    }
    return rt;
  };
  const method =
    (name: "check" | "diff" | "create" | "read" | "update" | "delete") =>
    async (...args: unknown[]) => {
      const rt = await load();
      const p = rt.providers[kind] as unknown as Record<string, (...a: unknown[]) => Promise<unknown>>;
      const fn = p[name];
      if (!fn) throw new Error(`ganeti ${kind} provider has no ${name}`);
      return fn(...args);
    };
  return {
    configure: async (req: dynamic.ConfigureRequest) => (await load()).configure(req.config),
    check: method("check") as dynamic.ResourceProvider["check"],
    diff: method("diff") as dynamic.ResourceProvider["diff"],
    create: method("create") as dynamic.ResourceProvider["create"],
    read: method("read") as dynamic.ResourceProvider["read"],
    update: method("update") as dynamic.ResourceProvider["update"],
    delete: method("delete") as dynamic.ResourceProvider["delete"],
  };
}
