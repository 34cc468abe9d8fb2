import { z } from "zod";
import {
  ClusterInfoSchema,
  FeatureListSchema,
  type ClusterInfo,
  type JobIdListOnly,
  type OpClusterRepairDiskSizesSchema,
  type OpClusterVerifyDisksSchema,
  type OpClusterVerifySchema,
  type RepairDiskSizesResult,
} from "@ganeti-ts/schema";
import type { CallOptions, JobCallOptions } from "../core/request.js";
import type { JobHandle } from "../core/job-handle.js";
import { NotFoundError } from "../core/errors.js";
import { Resource, callOpts } from "./base.js";
import type { ClusterModifyParams } from "./params.js";

/** Parameters of an opcode as a caller writes them (defaults optional, no OP_ID). */
type OpParams<S extends z.ZodType> = Omit<z.input<S>, "OP_ID">;
export type ClusterVerifyParams = OpParams<typeof OpClusterVerifySchema>;
export type ClusterVerifyDisksParams = OpParams<typeof OpClusterVerifyDisksSchema>;
export type ClusterRepairDiskSizesParams = OpParams<typeof OpClusterRepairDiskSizesSchema>;

/**
 * `client.cluster`: /version, /2/features, /2/info, /2/modify,
 * /2/redistribute-config, and the ganeti-ts extensions under /2/ganeti-ts/
 * (verify, verify-disks, repair-disk-sizes), which Ganeti's RAPI lacks.
 */
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

  /**
   * `POST /2/ganeti-ts/verify` (ganeti-ts extension, OP_CLUSTER_VERIFY): the
   * result lists the verification jobs, whose own results are true when
   * their part found no error; the findings are in their job logs.
   */
  verify(params: ClusterVerifyParams = {}, opts?: JobCallOptions): JobHandle<[JobIdListOnly]> {
    return this.r.submit({ method: "POST", path: "/2/ganeti-ts/verify", body: params, ...opts });
  }

  /** `POST /2/ganeti-ts/verify-disks` (ganeti-ts extension, OP_CLUSTER_VERIFY_DISKS): one job per node group. */
  verifyDisks(params: ClusterVerifyDisksParams = {}, opts?: JobCallOptions): JobHandle<[JobIdListOnly]> {
    return this.r.submit({ method: "POST", path: "/2/ganeti-ts/verify-disks", body: params, ...opts });
  }

  /** `POST /2/ganeti-ts/repair-disk-sizes` (ganeti-ts extension, OP_CLUSTER_REPAIR_DISK_SIZES). */
  repairDiskSizes(params: ClusterRepairDiskSizesParams = {}, opts?: JobCallOptions): JobHandle<[RepairDiskSizesResult]> {
    return this.r.submit({ method: "POST", path: "/2/ganeti-ts/repair-disk-sizes", body: params, ...opts });
  }

  /** `PUT /2/redistribute-config`. */
  redistributeConfig(opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "PUT", path: "/2/redistribute-config", ...opts });
  }
}
