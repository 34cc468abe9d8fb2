// OP_GROUP_REMOVE: delete an empty node group (never the last one).
import type { OpGroupRemove } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { commaJoin, niceSort } from "../common/node.js";

export class LUGroupRemove extends LogicalUnit<OpGroupRemove> {
  private uuid = "";

  expandNames(): LockDecl {
    this.uuid = this.cfg.expandGroup(this.op.group_name).uuid;
    return { nodegroup: { names: [this.uuid], shared: false } };
  }

  checkPrereq(): void {
    const members = this.cfg
      .nodes()
      .filter((n) => n.group === this.uuid)
      .map((n) => n.uuid);
    if (members.length > 0)
      throw new OpPrereqError(
        `Group '${this.op.group_name}' not empty, has the following nodes: ${commaJoin(niceSort(members))}`,
        "wrong_state",
      );
    if (Object.keys(this.data.nodegroups).length === 1)
      throw new OpPrereqError(`Group '${this.op.group_name}' is the only group, cannot be removed`, "wrong_state");
  }

  async exec(): Promise<null> {
    await this.cfg.mutate((d) => {
      delete d.nodegroups[this.uuid];
    });
    return null;
  }
}
