// OP_NETWORK_CONNECT: connect a network to a node group with NIC mode/link/vlan.
import type { OpNetworkConnect } from "@ganeti-ts/schema";
import { LogicalUnit, type LockDecl, type LockSet } from "../base.js";
import { groupInstances, logWarning } from "../common/node.js";
import { AddressPool } from "./address-pool.js";
import { checkNicParams, networkConflictCheck } from "./common.js";

export class LUNetworkConnect extends LogicalUnit<OpNetworkConnect> {
  private networkUuid = "";
  private groupUuid = "";
  private connected = false;

  expandNames(): LockDecl {
    this.networkUuid = this.cfg.expandNetwork(this.op.network_name).uuid;
    this.groupUuid = this.cfg.expandGroup(this.op.group_name).uuid;
    const locks: LockDecl = {
      nodegroup: { names: [this.groupUuid], shared: false },
      instance: { names: [], shared: true },
    };
    if (this.op.conflicts_check) locks.network = { names: [this.networkUuid], shared: true };
    return locks;
  }

  override declareLocks(level: string): LockSet | undefined {
    if (level === "instance" && this.op.conflicts_check)
      return { names: groupInstances(this.cfg, this.groupUuid).map((i) => i.uuid), shared: true };
    return undefined;
  }

  checkPrereq(): void {
    checkNicParams(this.op.network_mode, this.op.network_link);
    const group = this.cfg.group(this.groupUuid);
    this.connected = false;
    if (this.networkUuid in group.networks) {
      logWarning(this.ctx, `Network '${this.op.network_name}' is already mapped to group '${group.name}'`);
      this.connected = true;
    } else if (this.op.conflicts_check) {
      const pool = new AddressPool(structuredClone(this.cfg.network(this.networkUuid)));
      networkConflictCheck(
        this.ctx,
        this.op.network_name,
        group.name,
        (nic) => pool.contains(nic.ip),
        "connect to",
        groupInstances(this.cfg, this.groupUuid),
      );
    }
  }

  async exec(): Promise<null> {
    if (this.connected) return null;
    await this.cfg.mutate(() => {
      const group = this.cfg.group(this.groupUuid);
      group.networks[this.networkUuid] = {
        mode: this.op.network_mode,
        link: this.op.network_link,
        vlan: this.op.network_vlan,
      };
      this.cfg.touch(group);
    });
    return null;
  }
}
