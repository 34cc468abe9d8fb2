// OP_BACKUP_PREPARE (Ganeti's LUBackupPrepare). Local mode needs nothing and
// returns null; remote mode needs X509 key material from the primary node,
// which the node RPC of this implementation does not provide.
import type { OpBackupPrepare } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { checkNodeOnline } from "../common/node-checks.js";
import { InstanceLU } from "../instance/instance-lu.js";

export class LUBackupPrepare extends InstanceLU<OpBackupPrepare> {
  protected override nodeLocksShared = true;

  checkPrereq(): void {
    checkNodeOnline(this.pnode);
    if (this.op.mode === "remote") throw new OpPrereqError("Remote export is not supported by this cluster implementation", "wrong_input");
  }

  async exec(): Promise<unknown> {
    return null;
  }
}
