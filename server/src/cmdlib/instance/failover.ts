// OP_INSTANCE_FAILOVER (Ganeti's LUInstanceFailover): stop, move, start again
// if the instance is marked up.
import type { OpInstanceFailover } from "@ganeti-ts/schema";
import { MigrationLU } from "./migration.js";

export class LUInstanceFailover extends MigrationLU<OpInstanceFailover> {
  protected override failover = true;

  async checkPrereq(): Promise<void> {
    await this.checkMigration();
  }

  async exec(): Promise<unknown> {
    this.ctx.log(`Failover instance ${this.instance.name}`);
    if (this.op.cleanup) await this.execCleanup();
    else await this.execFailover(this.op.shutdown_timeout, this.op.ignore_consistency);
    return null;
  }
}
