// OP_CLUSTER_REDIST_CONF: Ganeti pushes config and ancillary files to nodes.
// ganeti-ts nodes never read the cluster config (every RPC carries what it
// needs), so there is nothing to push: success with result null.
import type { OpClusterRedistConf } from "@ganeti-ts/schema";
import { LogicalUnit, type LockDecl } from "../base.js";

export class LUClusterRedistConf extends LogicalUnit<OpClusterRedistConf> {
  expandNames(): LockDecl {
    return { node: { names: "all", shared: true } };
  }
  checkPrereq(): void {}
  async exec(): Promise<null> {
    return null;
  }
}
