// OP_BACKUP_EXPORT (Ganeti's LUBackupExport): Ganeti's argument and
// prerequisite checks. Ganeti itself refuses exports of file-based disks;
// exporting the other templates here (diskless) would need node RPCs for the
// export directory that this implementation does not have, so it refuses too.
import { diskTemplateInfo } from "@ganeti-ts/schema";
import type { OpBackupExport } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import type { LockDecl, LockLevel, LockSet } from "../base.js";
import { checkNodeNotDrained, checkNodeOnline } from "../common/node-checks.js";
import { InstanceLU } from "../instance/instance-lu.js";

export class LUBackupExport extends InstanceLU<OpBackupExport> {
  private targetUuid: string | null = null;

  override checkArguments(): void {
    if (this.op.mode === "remote") {
      if (!this.op.x509_key_name) throw new OpPrereqError("Missing X509 key name for encryption", "wrong_input");
      if (!this.op.destination_x509_ca) throw new OpPrereqError("Missing destination X509 CA", "wrong_input");
    }
    if (this.op.remove_instance && !this.op.shutdown)
      throw new OpPrereqError("Can not remove instance without shutting it down before", "wrong_input");
  }

  override expandNames(): LockDecl {
    const decl = super.expandNames();
    if (this.op.mode === "local") {
      const t = this.op.target_node_uuid ?? this.op.target_node;
      if (typeof t !== "string") throw new OpPrereqError("Local export needs a target node name", "wrong_input");
      this.targetUuid = this.cfg.expandNode(t).uuid;
    }
    return decl;
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    const base = super.declareLocks(level);
    if (level === "node" && base && base.names !== "all" && this.targetUuid)
      return { ...base, names: [...new Set([...base.names, this.targetUuid])] };
    return base;
  }

  checkPrereq(): void {
    const inst = this.instance;
    if (this.targetUuid) {
      const target = this.cfg.node(this.targetUuid);
      checkNodeOnline(target);
      checkNodeNotDrained(target);
    }
    for (const d of this.cfg.instanceDisks(inst))
      if (diskTemplateInfo(d.dev_type)?.fileBased)
        throw new OpPrereqError("Export not supported for instances with file-based disks", "wrong_input");
    throw new OpPrereqError(`Export of ${inst.disk_template} instances is not supported by this cluster implementation`, "wrong_input");
  }

  async exec(): Promise<unknown> {
    throw new OpPrereqError("Export is not supported by this cluster implementation", "wrong_input");
  }
}
