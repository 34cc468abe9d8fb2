// Results of RPC calls are checked against their zod schemas (schema/) on
// both ends. For calls whose result grows with the number of instances, a
// hand-written check of the same shape runs first: it accepts only what the
// schema accepts and returns what the schema's parse returns (unknown keys
// dropped, keys in the schema's order), without zod's per-entry work. When it
// refuses, the caller runs the zod schema, so errors (and anything the quick
// check is too strict for) are exactly the schema's. The equivalence is tested
// in server/test/rpc/result-checks.test.ts.
import { RPC_CALLS, type HvInstanceInfo, type RpcCallName, type RpcResultOf } from "@ganeti-ts/schema";

type Check<N extends RpcCallName> = (value: unknown) => RpcResultOf<N> | undefined;

const isRecordObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === "object" && v !== null && !Array.isArray(v) && Object.getPrototypeOf(v) === Object.prototype;

function hvInstanceInfo(v: unknown): HvInstanceInfo | undefined {
  if (typeof v !== "object" || v === null || Array.isArray(v)) return undefined;
  const { name, memory, vcpus, state, time, accel } = v as Record<string, unknown>;
  if (typeof name !== "string" || typeof state !== "string") return undefined;
  if (!Number.isSafeInteger(memory) || !Number.isSafeInteger(vcpus)) return undefined;
  if (typeof time !== "number" || !Number.isFinite(time)) return undefined;
  if (accel !== undefined && typeof accel !== "string") return undefined;
  const out: HvInstanceInfo = { name, memory: memory as number, vcpus: vcpus as number, state, time };
  if (accel !== undefined) out.accel = accel;
  return out;
}

/** name → HvInstanceInfo (all_instances_info). */
const allInstancesInfo: Check<"all_instances_info"> = (v) => {
  if (!isRecordObject(v)) return undefined;
  const out: Record<string, HvInstanceInfo> = {};
  for (const key of Object.keys(v)) {
    // zod skips this key; leave such oddities to it.
    if (key === "__proto__") return undefined;
    const info = hvInstanceInfo(v[key]);
    if (!info) return undefined;
    out[key] = info;
  }
  return out;
};

/** instance names (instance_list). */
const stringList: Check<"instance_list"> = (v) => {
  if (!Array.isArray(v)) return undefined;
  for (const s of v) if (typeof s !== "string") return undefined;
  return [...(v as string[])];
};

const QUICK: { [N in RpcCallName]?: Check<N> } = {
  all_instances_info: allInstancesInfo,
  instance_list: stringList,
};

type ResultCheck<N extends RpcCallName> = { success: true; data: RpcResultOf<N> } | { success: false; error: Error };

/** The call's result schema's safeParse, with the quick check first where there is one. */
export function checkResult<N extends RpcCallName>(name: N, value: unknown): ResultCheck<N> {
  const quick = QUICK[name] as Check<N> | undefined;
  if (quick) {
    const data = quick(value);
    if (data !== undefined) return { success: true, data };
  }
  const parsed = RPC_CALLS[name].result.safeParse(value);
  return parsed.success ? { success: true, data: parsed.data as RpcResultOf<N> } : { success: false, error: parsed.error };
}
