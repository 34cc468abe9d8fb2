// OP_GROUP_SET_PARAMS: change a group's alloc_policy, ndparams, diskparams,
// ipolicy and state overrides. Result: [[param, str(new value)], ...] for
// ndparams and diskparams only (as Ganeti).
import type { OpGroupSetParams } from "@ganeti-ts/schema";
import { DEFAULT_DISKPARAMS } from "../../config/defaults.js";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl, type LockSet } from "../base.js";
import { forceDictType, getUpdatedParams, groupInstances, ND_PARAM_TYPES, pyFormat, verifyDiskparams } from "../common/node.js";
import { checkChangedDiskTemplates, getUpdatedIpolicy } from "./ipolicy.js";

type Dict = Record<string, unknown>;

export class LUGroupSetParams extends LogicalUnit<OpGroupSetParams> {
  private uuid = "";
  private newNdparams?: Dict;
  private newDiskparams?: Record<string, Dict>;
  private newIpolicy?: Dict;

  override checkArguments(): void {
    const op = this.op;
    const all = [op.ndparams, op.diskparams, op.alloc_policy, op.hv_state, op.disk_state, op.ipolicy];
    if (all.every((x) => x === null || x === undefined)) throw new OpPrereqError("Please pass at least one modification", "wrong_input");
  }

  expandNames(): LockDecl {
    this.uuid = this.cfg.expandGroup(this.op.group_name).uuid;
    return { nodegroup: { names: [this.uuid], shared: false }, instance: { names: [], shared: true } };
  }

  override declareLocks(level: string): LockSet | undefined {
    if (level === "instance") return { names: groupInstances(this.cfg, this.uuid).map((i) => i.uuid), shared: true };
    return undefined;
  }

  checkPrereq(): void {
    const group = this.cfg.group(this.uuid);
    const cluster = this.data.cluster;
    if (this.op.ndparams) this.newNdparams = forceDictType(getUpdatedParams(group.ndparams, this.op.ndparams), ND_PARAM_TYPES);
    if (this.op.diskparams) {
      const merged: Record<string, Dict> = structuredClone(group.diskparams);
      for (const [dt, params] of Object.entries(this.op.diskparams))
        merged[dt] = getUpdatedParams(group.diskparams[dt] ?? {}, params as Dict);
      verifyDiskparams(merged, DEFAULT_DISKPARAMS);
      this.newDiskparams = merged;
    }
    if (this.op.ipolicy) {
      this.newIpolicy = getUpdatedIpolicy(group.ipolicy, this.op.ipolicy, true);
      checkChangedDiskTemplates(this.op.ipolicy, cluster.enabled_disk_templates);
    }
  }

  async exec(): Promise<[string, string][]> {
    const result: [string, string][] = [];
    await this.cfg.mutate(() => {
      const g = this.cfg.group(this.uuid);
      if (this.newNdparams) {
        g.ndparams = this.newNdparams;
        result.push(["ndparams", pyFormat(g.ndparams)]);
      }
      if (this.newDiskparams) {
        g.diskparams = this.newDiskparams;
        result.push(["diskparams", pyFormat(g.diskparams)]);
      }
      if (this.op.alloc_policy) g.alloc_policy = this.op.alloc_policy;
      if (this.op.hv_state) g.hv_state_static = { ...g.hv_state_static, ...this.op.hv_state };
      if (this.op.disk_state) g.disk_state_static = { ...g.disk_state_static, ...this.op.disk_state };
      if (this.newIpolicy) g.ipolicy = this.newIpolicy;
      this.cfg.touch(g);
    });
    return result;
  }
}
