// OP_NETWORK_REMOVE: delete a network that no group is connected to.
import type { OpNetworkRemove } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { commaJoin, logWarning, niceSort } from "../common/node.js";

export class LUNetworkRemove extends LogicalUnit<OpNetworkRemove> {
  private uuid = "";

  expandNames(): LockDecl {
    this.uuid = this.cfg.expandNetwork(this.op.network_name).uuid;
    return { network: { names: [this.uuid], shared: false }, nodegroup: { names: "all", shared: true } };
  }

  checkPrereq(): void {
    const groups = this.cfg
      .groups()
      .filter((g) => this.uuid in g.networks)
      .map((g) => g.name);
    if (groups.length > 0) {
      logWarning(this.ctx, `Network '${this.op.network_name}' is connected to the following node groups: ${commaJoin(niceSort(groups))}`);
      throw new OpPrereqError("Network still connected", "wrong_state");
    }
  }

  async exec(): Promise<null> {
    await this.cfg.mutate((d) => {
      delete d.networks[this.uuid];
    });
    return null;
  }
}
