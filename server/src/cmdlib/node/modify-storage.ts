// OP_NODE_MODIFY_STORAGE: change a storage unit's attributes (only lvm-pv's
// "allocatable" is modifiable, as in Ganeti).
import type { NodeObject, OpNodeModifyStorage } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { checkStorageTypeEnabled, MODIFIABLE_STORAGE_FIELDS, pyFormat, rpcRaise } from "../common/node.js";

export class LUNodeModifyStorage extends LogicalUnit<OpNodeModifyStorage> {
  private node!: NodeObject;

  override checkArguments(): void {
    const modifiable = MODIFIABLE_STORAGE_FIELDS[this.op.storage_type];
    if (!modifiable) throw new OpPrereqError(`Storage units of type '${this.op.storage_type}' can not be modified`, "wrong_input");
    const diff = Object.keys(this.op.changes).filter((k) => !modifiable.includes(k));
    if (diff.length)
      throw new OpPrereqError(
        `The following fields can not be modified for storage units of type '${this.op.storage_type}': ${pyFormat(diff)}`,
        "wrong_input",
      );
  }

  expandNames(): LockDecl {
    this.node = this.cfg.expandNode(this.op.node_uuid ?? this.op.node_name);
    return { node: { names: [this.node.uuid], shared: false } };
  }

  checkPrereq(): void {
    checkStorageTypeEnabled(this.data.cluster, this.op.storage_type);
  }

  async exec(): Promise<null> {
    const name = this.op.name ?? "";
    await rpcRaise(`Failed to modify storage unit '${this.op.name}' on ${this.node.name}`, () =>
      this.ctx.rpc.call(this.node, "storage_modify", {
        su_name: this.op.storage_type,
        name,
        changes: this.op.changes,
      }),
    );
    return null;
  }
}
