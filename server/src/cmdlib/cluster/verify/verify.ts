// OP_CLUSTER_VERIFY and OP_CLUSTER_VERIFY_DISKS: take no locks of their own
// and submit the jobs that do the work, as Ganeti's LUs do: one
// OP_CLUSTER_VERIFY_CONFIG job, then one OP_CLUSTER_VERIFY_GROUP job per node
// group depending on it; one OP_GROUP_VERIFY_DISKS job per group.
import type { JobIdListOnly, OpClusterVerify, OpClusterVerifyDisks } from "@ganeti-ts/schema";
import { LogicalUnit, type LockDecl, type OpcodeInput } from "../../base.js";

export class LUClusterVerify extends LogicalUnit<OpClusterVerify> {
  expandNames(): LockDecl {
    return {};
  }

  checkPrereq(): void {}

  async exec(): Promise<JobIdListOnly> {
    const common = {
      debug_simulate_errors: this.op.debug_simulate_errors,
      verbose: this.op.verbose,
      error_codes: this.op.error_codes,
      ignore_errors: this.op.ignore_errors,
    };
    const jobs: OpcodeInput[][] = [];
    let groups: string[];
    let depends: () => unknown;
    if (this.op.group_name) {
      groups = [this.op.group_name];
      depends = () => null;
    } else {
      // Ganeti names the groups by uuid here (GetNodeGroupList).
      groups = this.cfg.groups().map((g) => g.uuid);
      jobs.push([{ OP_ID: "OP_CLUSTER_VERIFY_CONFIG", ...common }]);
      // Every group job depends on the config job, whatever its outcome.
      depends = () => [[-jobs.length, []]];
    }
    for (const group of groups) {
      jobs.push([
        {
          OP_ID: "OP_CLUSTER_VERIFY_GROUP",
          group_name: group,
          ...common,
          skip_checks: this.op.skip_checks,
          verify_clutter: this.op.verify_clutter,
          depends: depends(),
        },
      ]);
    }
    return { jobs: await this.ctx.submitJobs(jobs) };
  }
}

export class LUClusterVerifyDisks extends LogicalUnit<OpClusterVerifyDisks> {
  private groupUuids: string[] = [];

  expandNames(): LockDecl {
    if (this.op.group_name) {
      this.groupUuids = [this.cfg.expandGroup(this.op.group_name).uuid];
      return { nodegroup: { names: this.groupUuids, shared: true } };
    }
    return { nodegroup: { names: "all", shared: true } };
  }

  checkPrereq(): void {
    // Under the "all" lock every group of the config is covered.
    if (!this.op.group_name) this.groupUuids = this.cfg.groups().map((g) => g.uuid);
  }

  async exec(): Promise<JobIdListOnly> {
    const jobs = this.groupUuids.map((g) => [{ OP_ID: "OP_GROUP_VERIFY_DISKS", group_name: g }]);
    return { jobs: await this.ctx.submitJobs(jobs) };
  }
}
