// /, /2, /version, /2/info, /2/features, /2/os.
import { RAPI_FEATURES } from "@ganeti-ts/schema";
import { clusterInfo } from "../../config/query/cluster-info.js";
import { RapiHttpError } from "../errors.js";
import type { Handler } from "../context.js";

/** cli.CalculateOSNames: `name` alone without variants, else `name+variant` each. */
function osNames(rows: unknown): string[] {
  if (!Array.isArray(rows)) throw new RapiHttpError(502, "Can't get OS list");
  const out: string[] = [];
  for (const row of rows) {
    if (!Array.isArray(row)) throw new RapiHttpError(502, "Can't get OS list");
    const [name, variants] = row as [string, unknown];
    if (Array.isArray(variants) && variants.length > 0) for (const v of variants) out.push(`${name}+${String(v)}`);
    else out.push(name);
  }
  return out;
}

const FINAL = new Set(["success", "error", "canceled"]);

export const clusterHandlers: Record<string, Handler> = {
  "cluster.root": () => null,
  "cluster.version": () => 2,
  "cluster.features": () => [...RAPI_FEATURES],
  "cluster.info": (_req, svc) => {
    const info = clusterInfo(svc.config.data);
    // GET_ALIASES of R_2_info.
    return { ...info, vg_name: info["volume_group_name"], drbd_helper: info["drbd_usermode_helper"] };
  },
  "cluster.os": async (req, svc) => {
    const id = await svc.queue.submit([{ OP_ID: "OP_OS_DIAGNOSE", output_fields: ["name", "variants"], names: [] }]);
    // cli.PollJob: wait until the job is final (or the client went away).
    let prev: unknown[] | null = null;
    for (;;) {
      if (req.signal.aborted) throw new RapiHttpError(500, "Client disconnected");
      const r = await svc.queue.waitForChange(id, ["status"], prev, null, svc.waitTimeoutMs, req.signal);
      if (!r) throw new RapiHttpError(500, "Can't load job file");
      prev = r.job_info;
      if (FINAL.has(String(r.job_info[0]))) break;
    }
    const job = await svc.queue.getJob(id);
    const [status, result] = job ? (svc.queue.jobFields(job, ["status", "opresult"]) as [string, unknown[]]) : ["error", []];
    if (status !== "success") {
      const err = Array.isArray(result) ? result[0] : null;
      const msg = Array.isArray(err) && Array.isArray(err[1]) ? String(err[1][0]) : "OS diagnose failed";
      throw new RapiHttpError(500, msg);
    }
    return osNames(Array.isArray(result) ? result[0] : null);
  },
};
