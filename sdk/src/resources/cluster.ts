import { z } from "zod";
import { ClusterInfoSchema, FeatureListSchema, type ClusterInfo } from "@ganeti-ts/schema";
import type { CallOptions, JobCallOptions } from "../core/request.js";
import type { JobHandle } from "../core/job-handle.js";
import { NotFoundError } from "../core/errors.js";
import { Resource, callOpts } from "./base.js";
import type { ClusterModifyParams } from "./params.js";

/** `client.cluster`: /version, /2/features, /2/info, /2/modify, /2/redistribute-config. */
export class Cluster extends Resource {
  /** `GET /version` → RAPI version (2). */
  version(opts?: CallOptions): Promise<number> {
    return this.r.call(z.number().int(), { method: "GET", path: "/version", ...callOpts(opts) });
  }

  /** `GET /2/features` (an old server answering 404 means none). */
  async features(opts?: CallOptions): Promise<string[]> {
    try {
      return await this.r.call(FeatureListSchema, { method: "GET", path: "/2/features", ...callOpts(opts) });
    } catch (err) {
      if (err instanceof NotFoundError) return [];
      throw err;
    }
  }

  /** `GET /2/info`. */
  info(opts?: CallOptions & { reason?: string }): Promise<ClusterInfo> {
    return this.r.call(ClusterInfoSchema, {
      method: "GET",
      path: "/2/info",
      query: { reason: opts?.reason },
      ...callOpts(opts),
    });
  }

  /** `PUT /2/modify` (OP_CLUSTER_SET_PARAMS). */
  modify(params: ClusterModifyParams, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "PUT", path: "/2/modify", body: params, ...opts });
  }

  /** `PUT /2/redistribute-config`. */
  redistributeConfig(opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "PUT", path: "/2/redistribute-config", ...opts });
  }
}
