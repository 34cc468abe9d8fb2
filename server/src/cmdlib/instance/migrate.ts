// OP_INSTANCE_MIGRATE (Ganeti's LUInstanceMigrate).
import type { OpInstanceMigrate } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { MigrationLU } from "./migration.js";

export class LUInstanceMigrate extends MigrationLU<OpInstanceMigrate> {
  override checkArguments(): void {
    if (this.op.live !== null && this.op.live !== undefined && this.op.mode !== null && this.op.mode !== undefined)
      throw new OpPrereqError("Only one of the 'live' and 'mode' parameters can be accepted", "wrong_input");
    this.fallback = this.op.allow_failover;
  }

  async checkPrereq(): Promise<void> {
    const inst = this.instance;
    let mode = this.op.mode;
    if (mode === null || mode === undefined) {
      if (this.op.live !== null && this.op.live !== undefined) mode = this.op.live ? "live" : "non-live";
      else mode = String(this.cfg.filledHvparams(inst)["migration_mode"] ?? "live") as "live" | "non-live";
    }
    this.live = mode === "live";
    await this.checkMigration();
  }

  async exec(): Promise<unknown> {
    this.ctx.log(`${this.failover ? "Failover" : "Migrating"} instance ${this.instance.name}`);
    if (this.op.cleanup) await this.execCleanup();
    else if (this.failover) await this.execFailover(120, false);
    else await this.execMigration();
    return null;
  }
}
