// OP_NODE_POWERCYCLE: ask a node to power-cycle itself (takes no locks: a last resort).
import type { NodeObject, OpNodePowercycle } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { rpcRaise } from "../common/node.js";

export class LUNodePowercycle extends LogicalUnit<OpNodePowercycle> {
  private node!: NodeObject;

  override checkArguments(): void {
    this.node = this.cfg.expandNode(this.op.node_uuid ?? this.op.node_name);
    if (this.node.uuid === this.data.cluster.master_node && !this.op.force)
      throw new OpPrereqError("The node is the master and the force parameter was not set", "wrong_input");
  }

  expandNames(): LockDecl {
    return {};
  }

  checkPrereq(): void {}

  async exec(): Promise<string> {
    const hv = this.data.cluster.enabled_hypervisors[0] ?? "fake";
    const hvparams = this.data.cluster.hvparams[hv] ?? {};
    return rpcRaise("Failed to schedule the reboot", () => this.ctx.rpc.call(this.node, "node_powercycle", { hypervisor: hv, hvparams }));
  }
}
