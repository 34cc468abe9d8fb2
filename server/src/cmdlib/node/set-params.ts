// OP_NODE_SET_PARAMS: node role flags (master_candidate/drained/offline),
// capabilities, secondary IP, ndparams, powered. Result: the changes as
// [[param, str(value)], ...] with Python-stringified values ("True").
import type { InstanceObject, NodeObject, OpNodeSetParams } from "@ganeti-ts/schema";
import { PROTOCOL_VERSION } from "../../config/defaults.js";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { checkInstanceState } from "../common/instance-state.js";
import {
  adjustCandidatePool,
  checkParamsNotGlobal,
  commaJoin,
  decideSelfPromotion,
  forceDictType,
  getUpdatedParams,
  INT_MIRROR_TEMPLATES,
  isValidIPv4,
  logInfo,
  logWarning,
  masterCandidateStats,
  ND_GLOBALS,
  ND_PARAM_TYPES,
  pyStr,
  supportsOob,
} from "../common/node.js";

type Flags = [boolean, boolean, boolean]; // master_candidate, drained, offline
const FLAG_NAMES = ["master_candidate", "drained", "offline"] as const;
type Role = "candidate" | "drained" | "offline" | "regular";
const ROLE_FLAGS: Record<Role, Flags> = {
  candidate: [true, false, false],
  drained: [false, true, false],
  offline: [false, false, true],
  regular: [false, false, false],
};
function roleOf(f: Flags): Role {
  if (f[0]) return "candidate";
  if (f[1]) return "drained";
  if (f[2]) return "offline";
  return "regular";
}

export class LUNodeSetParams extends LogicalUnit<OpNodeSetParams> {
  private node!: NodeObject;
  private mightDemote = false;
  private lockAll = false;
  // The flag requests after Ganeti's adjustments (it rewrites the opcode).
  private mc: boolean | null = null;
  private drained: boolean | null = null;
  private offline: boolean | null = null;
  private oldRole: Role = "regular";
  private newRole: Role = "regular";
  private newNdparams?: Record<string, unknown>;

  override checkArguments(): void {
    const op = this.op;
    const mods = [
      op.offline,
      op.master_candidate,
      op.drained,
      op.master_capable,
      op.vm_capable,
      op.secondary_ip,
      op.ndparams,
      op.hv_state,
      op.disk_state,
    ];
    if (mods.every((m) => m === null || m === undefined)) throw new OpPrereqError("Please pass at least one modification", "wrong_input");
    if (mods.filter((m) => m === true).length > 1)
      throw new OpPrereqError("Can't set the node into more than one state at the same time", "wrong_input");
    this.mightDemote = op.master_candidate === false || op.offline === true || op.drained === true || op.master_capable === false;
    if (op.secondary_ip && !isValidIPv4(op.secondary_ip))
      throw new OpPrereqError(`Secondary IP (${op.secondary_ip}) needs to be a valid IPv4 address`, "wrong_input");
    this.lockAll = op.auto_promote && this.mightDemote;
  }

  /** Instances with internally mirrored disks using the node (affected by a secondary IP change). */
  private affectedInstances(): InstanceObject[] {
    return this.cfg
      .instances()
      .filter((i) => INT_MIRROR_TEMPLATES.includes(i.disk_template) && this.cfg.instanceNodes(i).includes(this.node.uuid));
  }

  expandNames(): LockDecl {
    this.node = this.cfg.expandNode(this.op.node_uuid ?? this.op.node_name);
    const locks: LockDecl = { node: { names: this.lockAll ? "all" : [this.node.uuid], shared: false } };
    if (this.op.secondary_ip !== null) locks.instance = { names: this.affectedInstances().map((i) => i.uuid), shared: true };
    return locks;
  }

  async checkPrereq(): Promise<void> {
    const op = this.op;
    const node = this.cfg.node(this.node.uuid);
    const masterUuid = this.data.cluster.master_node;
    this.mc = op.master_candidate;
    this.drained = op.drained;
    this.offline = op.offline;

    if ((this.mc !== null || this.drained !== null || this.offline !== null) && node.uuid === masterUuid)
      throw new OpPrereqError("The master role can be changed only via master-failover", "wrong_input");
    if (this.mc && !node.master_capable)
      throw new OpPrereqError(`Node ${node.name} is not master capable, cannot make it a master candidate`, "wrong_state");
    if (op.vm_capable === false && this.cfg.instances().some((i) => this.cfg.instanceNodes(i).includes(node.uuid)))
      throw new OpPrereqError(`Node ${node.name} hosts instances, cannot unset the vm_capable flag`, "wrong_state");

    if (node.master_candidate && this.mightDemote && !this.lockAll) {
      const st = masterCandidateStats(this.data, [node.uuid]);
      if (st.now < st.should)
        throw new OpPrereqError(
          "Not enough master candidates, please pass auto promote option to allow promotion (--auto-promote or RAPI auto_promote=True)",
          "wrong_state",
        );
    }

    const oldFlags: Flags = [node.master_candidate, node.drained, node.offline];
    this.oldRole = roleOf(oldFlags);

    // Requests to unset flags that are already unset are dropped.
    for (const attr of FLAG_NAMES) {
      const req = attr === "master_candidate" ? this.mc : attr === "drained" ? this.drained : this.offline;
      if (req === false && node[attr] === false) {
        logInfo(this.ctx, `Ignoring request to unset flag ${attr}, already unset`);
        if (attr === "master_candidate") this.mc = null;
        else if (attr === "drained") this.drained = null;
        else this.offline = null;
      }
    }

    if (supportsOob(this.cfg, node)) {
      if (this.offline === false && !(node.powered || op.powered === true))
        throw new OpPrereqError(`Node ${op.node_name} needs to be turned on before its offline status can be reset`, "wrong_state");
    } else if (op.powered !== null) {
      throw new OpPrereqError(
        `Unable to change powered state for node ${op.node_name} as it does not support out-of-band handling`,
        "wrong_state",
      );
    }

    // Leaving drained/offline (or becoming master capable) may promote the node.
    if (this.drained === false || this.offline === false || (op.master_capable && !node.master_capable)) {
      if (decideSelfPromotion(this.data)) {
        this.mc = true;
        logInfo(this.ctx, "Auto-promoting node to master candidate");
      }
    }
    if (op.master_capable === false && node.master_candidate) {
      if (node.uuid === masterUuid) throw new OpPrereqError("Master must remain master capable", "wrong_state");
      logInfo(this.ctx, "Demoting from master candidate");
      this.mc = false;
    }

    if (this.mc) this.newRole = "candidate";
    else if (this.drained) this.newRole = "drained";
    else if (this.offline) this.newRole = "offline";
    else if (this.mc === false || this.drained === false || this.offline === false) this.newRole = "regular";
    else this.newRole = this.oldRole;

    if (this.oldRole === "offline" && this.newRole !== "offline") {
      let version: { protocol_version: number } | null = null;
      let failure = "";
      try {
        version = await this.ctx.rpc.call({ ...node, offline: false }, "version", {});
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
      }
      if (!version)
        throw new OpPrereqError(`Node ${node.name} is being de-offlined but fails to report its version: ${failure}`, "wrong_state");
      if (version.protocol_version !== PROTOCOL_VERSION)
        throw new OpPrereqError(
          `Node ${node.name} is being de-offlined but fails to report its version: protocol ${version.protocol_version} != ${PROTOCOL_VERSION}`,
          "wrong_state",
        );
      logWarning(this.ctx, "Transitioning node from offline to online state without using re-add. Please make sure the node is healthy!");
    }

    if (op.secondary_ip) {
      const master = this.cfg.masterNode;
      const masterSingle = master.secondary_ip === master.primary_ip;
      if (masterSingle && op.secondary_ip !== node.primary_ip) {
        if (op.force && node.uuid === master.uuid)
          logWarning(this.ctx, "Transitioning from single-homed to multi-homed cluster; all nodes will require a secondary IP address");
        else
          throw new OpPrereqError(
            "Changing the secondary ip on a single-homed cluster requires the --force option to be passed, and the target node to be the master",
            "wrong_input",
          );
      } else if (!masterSingle && op.secondary_ip === node.primary_ip) {
        if (op.force && node.uuid === master.uuid)
          logWarning(this.ctx, "Transitioning from multi-homed to single-homed cluster; secondary IP addresses will have to be removed");
        else
          throw new OpPrereqError(
            "Cannot set the secondary IP to be the same as the primary IP on a multi-homed cluster, unless the --force option is passed, and the target node is the master",
            "wrong_input",
          );
      }
      const affected = this.affectedInstances();
      if (node.offline) {
        if (affected.length > 0)
          throw new OpPrereqError(
            `Cannot change secondary IP address: offline node has instances (${commaJoin(affected.map((i) => i.name))}) configured to use it`,
            "wrong_state",
          );
      } else {
        for (const inst of affected) await checkInstanceState(this.ctx, inst, ["down"], "cannot change secondary ip");
      }
    }

    if (op.ndparams) {
      this.newNdparams = forceDictType(getUpdatedParams(node.ndparams, op.ndparams), ND_PARAM_TYPES);
      checkParamsNotGlobal(op.ndparams, ND_GLOBALS, "node", "node", "cluster or group");
    }
  }

  async exec(): Promise<[string, string][]> {
    const op = this.op;
    const result: [string, string][] = [];
    await this.cfg.mutate((d) => {
      const node = this.cfg.node(this.node.uuid);
      if (this.newNdparams) node.ndparams = this.newNdparams;
      if (op.powered !== null) node.powered = op.powered;
      if (op.hv_state) node.hv_state_static = { ...node.hv_state_static, ...op.hv_state };
      if (op.disk_state) node.disk_state_static = { ...node.disk_state_static, ...op.disk_state };
      for (const attr of ["master_capable", "vm_capable"] as const) {
        const val = op[attr];
        if (val !== null) {
          node[attr] = val;
          result.push([attr, pyStr(val)]);
        }
      }
      if (op.secondary_ip) {
        node.secondary_ip = op.secondary_ip;
        result.push(["secondary_ip", op.secondary_ip]);
      }
      if (this.newRole !== this.oldRole) {
        const oldFlags = ROLE_FLAGS[this.oldRole];
        const newFlags = ROLE_FLAGS[this.newRole];
        FLAG_NAMES.forEach((name, i) => {
          if (oldFlags[i] !== newFlags[i]) result.push([name, pyStr(newFlags[i])]);
        });
        [node.master_candidate, node.drained, node.offline] = newFlags;
        if (this.lockAll) adjustCandidatePool(this.ctx, d, [node.uuid]);
      }
      this.cfg.touch(node);
    });
    return result;
  }
}
