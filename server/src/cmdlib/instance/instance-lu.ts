// Base for LUs acting on one existing instance: expand instance_name
// (instance_uuid checked when given), lock it exclusively and then its nodes;
// re-read the instance from the config once the locks are held.
import type { InstanceObject, NodeObject } from "@ganeti-ts/schema";
import { LogicalUnit, type LockDecl, type LockLevel, type LockSet } from "../base.js";
import { expandInstance, instanceNodeLocks } from "../common/instance-state.js";

interface InstanceRefOp {
  instance_name: string;
  instance_uuid?: string | null;
  [k: string]: unknown;
}

export abstract class InstanceLU<Op extends InstanceRefOp = InstanceRefOp> extends LogicalUnit<Op> {
  protected instanceUuid = "";
  /** Node locks shared instead of exclusive. */
  protected nodeLocksShared = false;
  /** Lock only the primary node. */
  protected primaryOnly = false;

  get instance(): InstanceObject {
    return this.cfg.instance(this.instanceUuid);
  }
  get pnode(): NodeObject {
    return this.cfg.node(this.instance.primary_node);
  }

  expandNames(): LockDecl {
    const inst = expandInstance(this.cfg, this.op.instance_name, this.op.instance_uuid);
    this.instanceUuid = inst.uuid;
    return {
      instance: { names: [inst.uuid], shared: false },
      node: { names: [], shared: this.nodeLocksShared },
    };
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    if (level === "node")
      return instanceNodeLocks(this.cfg, [this.instanceUuid], { primaryOnly: this.primaryOnly, shared: this.nodeLocksShared });
    return undefined;
  }
}
