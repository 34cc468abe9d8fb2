// OP_CLUSTER_QUERY (Ganeti's LUClusterQuery): the cluster information dict,
// the same one GET /2/info serves. Ganeti runs it without the BGL and
// without any lock (REQ_BGL = False, no needed locks).
import type { OpClusterQuery } from "@ganeti-ts/schema";
import { clusterInfo } from "../../config/query/cluster-info.js";
import { LogicalUnit, type LockDecl } from "../base.js";

export class LUClusterQuery extends LogicalUnit<OpClusterQuery> {
  expandNames(): LockDecl {
    // An empty cluster level means "no BGL" to the queue.
    return { cluster: { names: [], shared: true } };
  }
  checkPrereq(): void {}
  async exec(): Promise<Record<string, unknown>> {
    return clusterInfo(this.cfg.data);
  }
}
