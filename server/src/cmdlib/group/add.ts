// OP_GROUP_ADD: create a node group.
import type { GroupObject, OpGroupAdd } from "@ganeti-ts/schema";
import { DEFAULT_DISKPARAMS } from "../../config/defaults.js";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { forceDictType, ND_PARAM_TYPES, verifyDiskparams } from "../common/node.js";
import { checkChangedDiskTemplates, checkIpolicySyntaxOrPrereq, fillIpolicy } from "./ipolicy.js";
import { checkObjectName } from "@ganeti-ts/schema";
import { ganetiCheck } from "../common/params.js";

export class LUGroupAdd extends LogicalUnit<OpGroupAdd> {
  private uuid = "";
  private ndparams: Record<string, unknown> = {};

  expandNames(): LockDecl {
    this.uuid = this.cfg.newUuid();
    return {};
  }

  checkPrereq(): void {
    ganetiCheck(() => checkObjectName("group", this.op.group_name));
    const existing = this.cfg.findGroup(this.op.group_name);
    if (existing && existing.name === this.op.group_name)
      throw new OpPrereqError(
        `Desired group name '${this.op.group_name}' already exists as a node group (UUID: ${existing.uuid})`,
        "already_exists",
      );
    if (this.op.ndparams) this.ndparams = forceDictType(this.op.ndparams, ND_PARAM_TYPES);
    if (this.op.diskparams) verifyDiskparams(this.op.diskparams, DEFAULT_DISKPARAMS);
    if (this.op.ipolicy) {
      const cluster = this.data.cluster;
      const full = fillIpolicy(cluster.ipolicy, this.op.ipolicy);
      checkIpolicySyntaxOrPrereq(full, false);
      checkChangedDiskTemplates(this.op.ipolicy, cluster.enabled_disk_templates);
    }
  }

  async exec(): Promise<null | { jobs: unknown[] }> {
    const now = this.cfg.now();
    const group: GroupObject = {
      uuid: this.uuid,
      name: this.op.group_name,
      alloc_policy: this.op.alloc_policy ?? "preferred",
      ndparams: this.ndparams,
      diskparams: (this.op.diskparams ?? {}) as GroupObject["diskparams"],
      ipolicy: this.op.ipolicy ?? {},
      hv_state_static: this.op.hv_state ?? {},
      disk_state_static: this.op.disk_state ?? {},
      networks: {},
      serial_no: 1,
      ctime: now,
      mtime: now,
      tags: [],
    };
    await this.cfg.mutate((d) => {
      d.nodegroups[group.uuid] = group;
    });
    // Ganeti connects new groups to the instance communication network by a follow-up job.
    const icn = this.data.cluster.instance_communication_network;
    if (icn && this.cfg.findNetwork(icn)) {
      const jobs = await this.ctx.submitJobs([[connectInstanceCommunicationOp(group.name, icn)]]);
      return { jobs };
    }
    return null;
  }
}

/** Ganeti's ConnectInstanceCommunicationNetworkOp. */
export function connectInstanceCommunicationOp(groupName: string, network: string) {
  return {
    OP_ID: "OP_NETWORK_CONNECT",
    group_name: groupName,
    network_name: network,
    network_mode: "routed",
    network_link: "communication_rt",
    conflicts_check: true,
  };
}
