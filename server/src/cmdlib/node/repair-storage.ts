// OP_REPAIR_NODE_STORAGE: run a storage unit's consistency fix (only lvm-vg
// supports it, as in Ganeti).
import type { NodeObject, OpRepairNodeStorage } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { checkStorageTypeEnabled, rpcRaise, VALID_STORAGE_OPERATIONS } from "../common/node.js";

export class LURepairNodeStorage extends LogicalUnit<OpRepairNodeStorage> {
  private node!: NodeObject;

  override checkArguments(): void {
    if (!(VALID_STORAGE_OPERATIONS[this.op.storage_type] ?? []).includes("fix-consistency"))
      throw new OpPrereqError(`Storage units of type '${this.op.storage_type}' can not be repaired`, "wrong_input");
  }

  expandNames(): LockDecl {
    this.node = this.cfg.expandNode(this.op.node_uuid ?? this.op.node_name);
    return { node: { names: [this.node.uuid], shared: false } };
  }

  checkPrereq(): void {
    checkStorageTypeEnabled(this.data.cluster, this.op.storage_type);
  }

  async exec(): Promise<null> {
    this.ctx.log(`Repairing storage unit '${this.op.name}' on ${this.node.name} ...`);
    await rpcRaise(`Failed to repair storage unit '${this.op.name}' on ${this.node.name}`, () =>
      this.ctx.rpc.call(this.node, "storage_execute", {
        su_name: this.op.storage_type,
        name: this.op.name ?? "",
        op: "fix-consistency",
      }),
    );
    return null;
  }
}
