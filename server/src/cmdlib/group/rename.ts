// OP_GROUP_RENAME: rename a node group; the result is the new name.
import type { OpGroupRename } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { checkObjectName } from "@ganeti-ts/schema";
import { ganetiCheck } from "../common/params.js";

export class LUGroupRename extends LogicalUnit<OpGroupRename> {
  private uuid = "";

  expandNames(): LockDecl {
    this.uuid = this.cfg.expandGroup(this.op.group_name).uuid;
    return { nodegroup: { names: [this.uuid], shared: false } };
  }

  checkPrereq(): void {
    ganetiCheck(() => checkObjectName("group", this.op.new_name));
    const clash = this.cfg.findGroup(this.op.new_name);
    if (clash && clash.name === this.op.new_name)
      throw new OpPrereqError(
        `Desired new name '${this.op.new_name}' clashes with existing node group (UUID: ${clash.uuid})`,
        "already_exists",
      );
  }

  async exec(): Promise<string> {
    await this.cfg.mutate(() => {
      const g = this.cfg.group(this.uuid);
      g.name = this.op.new_name;
      this.cfg.touch(g);
    });
    return this.op.new_name;
  }
}
