// OP_INSTANCE_REPLACE_DISKS (Ganeti's LUInstanceReplaceDisks). Only DRBD
// instances have disks to replace; no template of this implementation does,
// so after Ganeti's argument checks the prerequisite check refuses.
import type { OpInstanceReplaceDisks } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { InstanceLU } from "./instance-lu.js";

export class LUInstanceReplaceDisks extends InstanceLU<OpInstanceReplaceDisks> {
  override checkArguments(): void {
    const remote = this.op.remote_node ?? this.op.remote_node_uuid;
    if (this.op.mode === "replace_new_secondary") {
      if (!remote && !this.op.iallocator)
        throw new OpPrereqError(
          "When changing the secondary either an iallocator script must be used or the new node given",
          "wrong_input",
        );
      if (remote && this.op.iallocator) throw new OpPrereqError("Give either the iallocator or the new secondary, not both", "wrong_input");
    } else if (remote || this.op.iallocator) {
      throw new OpPrereqError("The iallocator and new node options can only be used when changing the secondary node", "wrong_input");
    }
  }

  checkPrereq(): void {
    const inst = this.instance;
    if (inst.disk_template !== "drbd") throw new OpPrereqError("Can only run replace disks for DRBD8-based instances", "wrong_input");
  }

  async exec(): Promise<unknown> {
    throw new OpPrereqError("Can only run replace disks for DRBD8-based instances", "wrong_input");
  }
}
