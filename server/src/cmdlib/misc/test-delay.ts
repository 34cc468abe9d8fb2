// OP_TEST_DELAY: sleep on the master and/or nodes (job-queue tests, gnt debug delay).
// As in Ganeti, the master and the listed nodes are locked exclusively; use
// on_master=false and no on_nodes for a delay that takes no locks.
import type { OpTestDelay } from "@ganeti-ts/schema";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { getWantedNodes, logInfo } from "../common/node.js";

export class LUTestDelay extends LogicalUnit<OpTestDelay> {
  private nodeUuids: string[] = [];

  override checkArguments(): void {
    if (this.op.duration <= 0) throw new OpPrereqError("Duration must be greater than zero");
  }

  expandNames(): LockDecl {
    this.nodeUuids = getWantedNodes(this.cfg, this.op.on_nodes).map((n) => n.uuid);
    const master = this.data.cluster.master_node;
    if (this.op.on_master && !this.nodeUuids.includes(master)) this.nodeUuids.push(master);
    return this.nodeUuids.length > 0 ? { node: { names: [...this.nodeUuids], shared: false } } : {};
  }

  checkPrereq(): void {}

  private async delayOnce(): Promise<void> {
    if (this.op.on_master) await new Promise<void>((resolve) => setTimeout(resolve, this.op.duration * 1000));
    if (this.nodeUuids.length > 0) {
      const nodes = this.nodeUuids.map((u) => this.cfg.node(u));
      const res = await this.ctx.rpc.callMany(nodes, "test_delay", { duration: this.op.duration });
      for (const node of nodes) {
        const r = res.get(node.uuid);
        if (!r || !r.ok) throw new OpExecError(`Failure during rpc call to node ${node.name}: ${r && !r.ok ? r.error : "no answer"}`);
      }
    }
  }

  async exec(): Promise<null> {
    if (this.op.repeat === 0) {
      await this.delayOnce();
    } else {
      for (let i = 0; i < this.op.repeat; i++) {
        logInfo(this.ctx, `Test delay iteration ${i}/${this.op.repeat - 1}`);
        await this.delayOnce();
      }
    }
    return null;
  }
}
