// The master's iallocator: Ganeti's hail algorithm from htools/, run in
// process on the request the LU built (cluster data + request), with the
// cluster's default_iallocator_params (e.g. {"no-capacity-checks": null},
// as `hail --no-capacity-checks`).
import type { Allocator } from "../cmdlib/base.js";
import type { ClusterConfig } from "../config/cluster-config.js";
import { iallocatorRun } from "../htools/iallocator.js";

export function makeAllocator(config?: ClusterConfig): Allocator {
  return {
    async run(request) {
      const params = config?.data.cluster.default_iallocator_params ?? {};
      const has = (k: string) => Object.prototype.hasOwnProperty.call(params, k);
      const answer = iallocatorRun(JSON.stringify(request), {
        capacity: !has("no-capacity-checks"),
        ignoreSoftErrors: has("ignore-soft-errors"),
      });
      return JSON.parse(answer) as Record<string, unknown>;
    },
  };
}
