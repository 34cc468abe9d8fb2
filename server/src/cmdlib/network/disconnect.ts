// OP_NETWORK_DISCONNECT: disconnect a network from a node group; refused while
// instances of the group have NICs in it.
import type { OpNetworkDisconnect } from "@ganeti-ts/schema";
import { LogicalUnit, type LockDecl, type LockSet } from "../base.js";
import { groupInstances, logWarning } from "../common/node.js";
import { networkConflictCheck } from "./common.js";

export class LUNetworkDisconnect extends LogicalUnit<OpNetworkDisconnect> {
  private networkUuid = "";
  private groupUuid = "";
  private connected = true;

  expandNames(): LockDecl {
    this.networkUuid = this.cfg.expandNetwork(this.op.network_name).uuid;
    this.groupUuid = this.cfg.expandGroup(this.op.group_name).uuid;
    return { nodegroup: { names: [this.groupUuid], shared: false }, instance: { names: [], shared: true } };
  }

  override declareLocks(level: string): LockSet | undefined {
    if (level === "instance") return { names: groupInstances(this.cfg, this.groupUuid).map((i) => i.uuid), shared: true };
    return undefined;
  }

  checkPrereq(): void {
    const group = this.cfg.group(this.groupUuid);
    this.connected = this.networkUuid in group.networks;
    if (!this.connected) {
      logWarning(this.ctx, `Network '${this.op.network_name}' is not mapped to group '${group.name}'`);
      return;
    }
    networkConflictCheck(
      this.ctx,
      this.op.network_name,
      group.name,
      (nic) => nic.network === this.networkUuid,
      "disconnect from",
      groupInstances(this.cfg, this.groupUuid),
    );
  }

  async exec(): Promise<null> {
    if (!this.connected) return null;
    await this.cfg.mutate(() => {
      const group = this.cfg.group(this.groupUuid);
      delete group.networks[this.networkUuid];
      this.cfg.touch(group);
    });
    return null;
  }
}
