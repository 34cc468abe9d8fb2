// OP_INSTANCE_REPLACE_DISKS (Ganeti's LUInstanceReplaceDisks and
// TLReplaceDisks) for drbd instances:
//  - replace_on_secondary / replace_on_primary: new data and meta volumes on
//    that node, the replica detached from the old ones and attached to the
//    new (blockdev_removechildren / addchildren), a full resync from the
//    peer, the old volumes removed. As Ganeti, the old volumes are renamed
//    aside ("_replaced-<time>") and the new ones take their names, so that a
//    volume has the same name on both nodes (the config holds one list of
//    children for both).
//    On the primary (-p) the replication engine reads and writes the
//    secondary's replica while the new volumes are filled from it, a running
//    guest attached throughout, as a DRBD primary detached from its disk.
//  - replace_new_secondary (-n NODE, or -I iallocator): the replica created
//    on the new node, the old secondary's shut down, the primary standalone,
//    the config pointed at the new node (a new minor there), the primary
//    reconnected to it and resynced, the old secondary's replica removed.
//  - replace_auto: whichever node reports faulty local storage, if any.
import type { DiskChildObject, DiskObject, InstanceObject, NodeObject, OpInstanceReplaceDisks, RpcDisk } from "@ganeti-ts/schema";
import { allocateDrbdMinors, drbdVolumeNames, parseDrbdLogicalId, releaseDrbdMinors } from "../../config/drbd.js";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import type { LockDecl, LockLevel, LockSet } from "../base.js";
import { shutdownInstanceDisks, startInstanceDisks, waitForDiskSync } from "../common/disks.js";
import { INSTANCE_NOT_RUNNING, checkInstanceState, instanceNodeLocks } from "../common/instance-state.js";
import { checkTargetNodeIpolicy } from "../common/instance-policy.js";
import { errText, logInfo, logWarning } from "../common/messages.js";
import { checkNodeNotDrained, checkNodeOnline, checkNodeVmCapable } from "../common/node-checks.js";
import { checkDiskConsistency } from "../disk-templates/drbd.js";
import { allocatorName, relocateRequest, resultNodes, runAllocator } from "../iallocator.js";
import { InstanceLU } from "./instance-lu.js";

const LDS_FAULTY = 4; // Ganeti 3.0's LDS_FAULTY

export class LUInstanceReplaceDisks extends InstanceLU<OpInstanceReplaceDisks> {
  private remoteUuid: string | null = null;
  /** The node whose storage is replaced, the other node, and (changing the secondary) the new one. */
  private targetUuid = "";
  private otherUuid = "";
  private newUuid: string | null = null;
  private diskIdx: number[] = [];
  private earlyRelease = false;

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
    this.earlyRelease = this.op.early_release;
  }

  override expandNames(): LockDecl {
    const decl = super.expandNames();
    const remote = this.op.remote_node ?? this.op.remote_node_uuid;
    if (remote) this.remoteUuid = this.cfg.expandNode(remote).uuid;
    return decl;
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    if (level !== "node") return undefined;
    // An allocator may pick any node; a given new secondary is locked with the instance's nodes.
    if (this.op.iallocator) return { names: "all", shared: false };
    return instanceNodeLocks(this.cfg, [this.instanceUuid], { extra: this.remoteUuid ? [this.remoteUuid] : [] });
  }

  async checkPrereq(): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    const disks = cfg.instanceDisks(inst);
    // Ganeti checks the layout first, the template after choosing the nodes.
    if (inst.secondary_nodes.length !== 1 || !disks.length || !disks.every((d) => d.dev_type === "drbd")) {
      if (inst.disk_template === "drbd" && inst.secondary_nodes.length !== 1)
        throw new OpPrereqError(
          `The instance has a strange layout, expected one secondary but found ${inst.secondary_nodes.length}`,
          "internal_error",
        );
      throw new OpPrereqError("Can only run replace disks for DRBD8-based instances", "wrong_input");
    }
    const snode = inst.secondary_nodes[0]!;
    if (this.op.iallocator) {
      const name = allocatorName(cfg, this.op.iallocator);
      const res = await runAllocator(this.ctx, name, relocateRequest(cfg, inst, [cfg.node(snode)]), { hypervisor: inst.hypervisor });
      const [node] = resultNodes(cfg, name, res, 1);
      this.remoteUuid = node!.uuid;
      logInfo(this.ctx, `Selected new secondary for instance '${inst.name}': ${node!.name}`);
    }
    if (this.remoteUuid === inst.primary_node)
      throw new OpPrereqError("The specified node is the primary node of the instance", "wrong_input");
    if (this.remoteUuid === snode)
      throw new OpPrereqError("The specified node is already the secondary node of the instance", "wrong_input");
    if (this.op.disks.length && (this.op.mode === "replace_auto" || this.op.mode === "replace_new_secondary"))
      throw new OpPrereqError("Cannot specify disks to be replaced", "wrong_input");

    let check: string[];
    if (this.op.mode === "replace_auto") {
      if (!(await this.disksActivated(inst)))
        throw new OpPrereqError(`Please run activate-disks on instance ${inst.name} first`, "wrong_state");
      const faultyP = await this.faultyDisks(inst, inst.primary_node);
      const faultyS = await this.faultyDisks(inst, snode);
      if (faultyP.length && faultyS.length)
        throw new OpPrereqError(
          `Instance ${inst.name} has faulty disks on more than one node and can not be repaired automatically`,
          "wrong_state",
        );
      if (faultyP.length) [this.diskIdx, this.targetUuid, this.otherUuid] = [faultyP, inst.primary_node, snode];
      else if (faultyS.length) [this.diskIdx, this.targetUuid, this.otherUuid] = [faultyS, snode, inst.primary_node];
      check = this.diskIdx.length ? [this.targetUuid, this.otherUuid] : [];
    } else {
      if (this.op.mode === "replace_on_primary") [this.targetUuid, this.otherUuid] = [inst.primary_node, snode];
      else if (this.op.mode === "replace_on_secondary") [this.targetUuid, this.otherUuid] = [snode, inst.primary_node];
      else {
        this.newUuid = this.remoteUuid;
        [this.targetUuid, this.otherUuid] = [snode, inst.primary_node];
        const nn = cfg.node(this.newUuid!);
        checkNodeNotDrained(nn);
        checkNodeVmCapable(nn);
        const old = cfg.node(snode);
        if (old.offline && !this.earlyRelease) {
          this.earlyRelease = true;
          logInfo(this.ctx, `Old secondary ${old.name} is offline, automatically enabling early-release mode`);
        }
      }
      check = this.newUuid ? [this.newUuid, this.otherUuid] : [this.targetUuid, this.otherUuid];
      this.diskIdx = this.op.disks.length ? [...this.op.disks] : disks.map((_, i) => i);
    }
    if (this.newUuid) checkTargetNodeIpolicy(this.ctx, inst, cfg.node(this.newUuid), this.op.ignore_ipolicy);
    for (const u of check) checkNodeOnline(cfg.node(u));
    for (const i of this.diskIdx)
      if (i < 0 || i >= disks.length)
        throw new OpPrereqError(`Invalid disk index: ${i} (instace has disks 0..${disks.length - 1})`, "wrong_input");
  }

  /** Ganeti's _CheckDisksActivated: every disk found on every (reachable) node. */
  private async disksActivated(inst: InstanceObject): Promise<boolean> {
    const cfg = this.cfg;
    for (const [idx, d] of cfg.instanceDisks(inst).entries()) {
      for (const u of d.nodes) {
        const node = cfg.node(u);
        logInfo(this.ctx, `Checking disk/${idx} on ${node.name}`);
        if (node.offline) continue;
        try {
          if (!(await this.ctx.rpc.call(node, "blockdev_find", { disk: cfg.rpcDisk(d, u) }))) return false;
        } catch {
          return false;
        }
      }
    }
    return true;
  }

  /** Ganeti's FindFaultyInstanceDisks: indices of disks whose local storage the node reports faulty. */
  private async faultyDisks(inst: InstanceObject, nodeUuid: string): Promise<number[]> {
    const cfg = this.cfg;
    const node = cfg.node(nodeUuid);
    let stats;
    try {
      stats = await this.ctx.rpc.call(node, "blockdev_getmirrorstatus", {
        disks: cfg.instanceDisks(inst).map((d) => cfg.rpcDisk(d, nodeUuid)),
      });
    } catch (err) {
      throw new OpPrereqError(`Failed to get disk status from node ${node.name}: ${errText(err)}`, "environment_error", { cause: err });
    }
    return stats.flatMap((st, i) => (st && st.ldisk_status === LDS_FAULTY ? [i] : []));
  }

  private step(n: number, total: number, msg: string): void {
    this.ctx.log(`STEP ${n}/${total} ${msg}`);
  }

  private selected(): Array<[number, DiskObject]> {
    return this.cfg
      .instanceDisks(this.instance)
      .map((d, i) => [i, d] as [number, DiskObject])
      .filter(([i]) => this.diskIdx.includes(i));
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const inst = this.instance;
    if (!this.diskIdx.length) {
      this.ctx.log(`No disks need replacement for instance '${inst.name}'`);
      return null;
    }
    this.ctx.log(`Replacing disk(s) ${this.diskIdx.join(", ")} for instance '${inst.name}'`);
    this.ctx.log(`Current primary node: ${cfg.node(inst.primary_node).name}`);
    this.ctx.log(`Current secondary node: ${inst.secondary_nodes.map((u) => cfg.node(u).name).join(", ")}`);
    const activate = !inst.disks_active;
    if (activate) await startInstanceDisks(this.ctx, inst, true);
    try {
      // The engine's primary copies the whole disk to its peer when it
      // (re)connects, the peer inconsistent meanwhile; replacing the
      // primary's storage reads from the peer, so wait for that copy first.
      if (activate && !this.newUuid && this.targetUuid === inst.primary_node) await waitForDiskSync(this.ctx, inst);
      if (this.newUuid) await this.changeSecondary();
      else await this.replaceOnNode();
    } finally {
      // Ganeti's _SafeShutdownInstanceDisks(req_states=INSTANCE_NOT_RUNNING) of disks it activated.
      if (activate) {
        try {
          await checkInstanceState(this.ctx, inst, INSTANCE_NOT_RUNNING, "cannot shutdown disks");
          await shutdownInstanceDisks(this.ctx, inst);
        } catch (err) {
          logWarning(this.ctx, errText(err));
        }
      }
    }
    return null;
  }

  /** Ganeti's _CheckDisksExistence. */
  private async checkExistence(nodes: NodeObject[]): Promise<void> {
    const cfg = this.cfg;
    for (const [idx, d] of this.selected()) {
      for (const node of nodes) {
        logInfo(this.ctx, `Checking disk/${idx} on ${node.name}`);
        let msg: string | null = null;
        try {
          if (!(await this.ctx.rpc.call(node, "blockdev_find", { disk: cfg.rpcDisk(d, node.uuid) }))) msg = "disk not found";
        } catch (err) {
          msg = errText(err);
        }
        if (msg) {
          const hint = (await this.disksActivated(this.instance))
            ? ""
            : "\nDisks seem to be not properly activated. Try running activate-disks on the instance before using replace-disks.";
          throw new OpExecError(`Can't find disk/${idx} on node ${node.name}: ${msg}${hint}`);
        }
      }
    }
  }

  /**
   * Ganeti's _CheckVolumeGroup, which lists the nodes' volume groups and
   * fails when the cluster's is missing. Here a volume group is a directory
   * a node creates on first use (storage/volume-dir.ts), so it cannot be
   * missing and there is nothing to ask the nodes: only the log line stays,
   * for the job log to read as Ganeti's.
   */
  private checkVolumeGroups(): void {
    logInfo(this.ctx, "Checking volume groups");
  }

  /** Ganeti's _CheckDisksConsistency. */
  private async checkConsistency(node: NodeObject, onPrimary: boolean, ldisk: boolean): Promise<void> {
    for (const [idx, d] of this.selected()) {
      logInfo(this.ctx, `Checking disk/${idx} consistency on node ${node.name}`);
      if (!(await checkDiskConsistency(this.ctx, this.instance, d, node, onPrimary, ldisk)))
        throw new OpExecError(`Node ${node.name} has degraded storage, unsafe to replace disks for instance ${this.instance.name}`);
    }
  }

  /** Ganeti's _CheckDevices: after the sync, every replaced disk healthy on the primary. */
  private async checkDevices(): Promise<void> {
    const cfg = this.cfg;
    const pnode = cfg.node(this.instance.primary_node);
    for (const [, d] of this.selected()) {
      let st;
      try {
        st = await this.ctx.rpc.call(pnode, "blockdev_find", { disk: cfg.rpcDisk(d, pnode.uuid) });
      } catch (err) {
        throw new OpExecError(`Can't find DRBD device ${d.iv_name}: ${errText(err)}`, { cause: err });
      }
      if (!st) throw new OpExecError(`Can't find DRBD device ${d.iv_name}: disk not found`);
      if (st.is_degraded) throw new OpExecError(`DRBD device ${d.iv_name} is degraded!`);
    }
  }

  private rpcChild(d: DiskObject, c: DiskChildObject): RpcDisk {
    return { uuid: c.uuid, dev_type: c.dev_type, size: c.size, mode: d.mode, name: null, logical_id: c.logical_id, params: c.params };
  }

  /** Ganeti's _ExecDrbd8DiskOnly: new local storage for the replica on the target node. */
  private async replaceOnNode(): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    const target = cfg.node(this.targetUuid);
    const other = cfg.node(this.otherUuid);
    const total = 6;
    this.step(1, total, "Check device existence");
    await this.checkExistence([other, target]);
    this.checkVolumeGroups();
    this.step(2, total, "Check peer consistency");
    await this.checkConsistency(other, other.uuid === inst.primary_node, false);

    this.step(3, total, "Allocate new storage");
    const plan: Array<{ disk: DiskObject; oldChildren: DiskChildObject[]; newChildren: DiskChildObject[] }> = [];
    for (const [idx, d] of this.selected()) {
      logInfo(this.ctx, `Adding storage on ${target.name} for disk/${idx}`);
      const [data, meta] = d.children ?? [];
      if (!data || !meta) throw new OpExecError(`Disk ${d.iv_name} has no data and meta volumes`);
      const [dataName, metaName] = drbdVolumeNames(cfg, idx);
      const fresh = [
        { uuid: cfg.newUuid(), dev_type: "plain", size: d.size, logical_id: [data.logical_id[0], dataName], params: data.params },
        { uuid: cfg.newUuid(), dev_type: "plain", size: meta.size, logical_id: [meta.logical_id[0], metaName], params: meta.params },
      ];
      for (const c of fresh) {
        try {
          await this.ctx.rpc.call(target, "blockdev_create", { disk: this.rpcChild(d, c), owner: inst.name, on_primary: false });
        } catch (err) {
          throw new OpExecError(`Can't create block device: ${errText(err)}`, { cause: err });
        }
      }
      plan.push({ disk: d, oldChildren: [data, meta], newChildren: fresh });
    }

    this.step(4, total, "Changing drbd configuration");
    for (const p of plan) {
      const parent = cfg.rpcDisk(p.disk, target.uuid);
      logInfo(this.ctx, `Detaching ${p.disk.iv_name} drbd from local storage`);
      try {
        await this.ctx.rpc.call(target, "blockdev_removechildren", {
          parent,
          children: p.oldChildren.map((c) => this.rpcChild(p.disk, c)),
        });
      } catch (err) {
        throw new OpExecError(`Can't detach drbd from local storage on node ${target.name} for device ${p.disk.iv_name}: ${errText(err)}`, {
          cause: err,
        });
      }
      // Ganeti's rename dance: the old volumes that still exist go aside,
      // the new ones take the old names.
      const stamp = Math.floor(this.ctx.now());
      const aside = p.oldChildren.map((c) => [c.logical_id[0], `${String(c.logical_id[1])}_replaced-${stamp}`]);
      const existing: DiskChildObject[] = [];
      for (const c of p.oldChildren)
        if (await this.ctx.rpc.call(target, "blockdev_find", { disk: this.rpcChild(p.disk, c) })) existing.push(c);
      const rename = async (what: string, renames: Array<{ from: DiskChildObject; to: unknown[] }>) => {
        logInfo(this.ctx, `Renaming the ${what} LVs on the target node`);
        for (const r of renames) {
          try {
            await this.ctx.rpc.call(target, "blockdev_rename", { disk: this.rpcChild(p.disk, r.from), new_logical_id: r.to });
          } catch (err) {
            throw new OpExecError(`Can't rename ${what} LVs on node ${target.name}: ${errText(err)}`, { cause: err });
          }
        }
      };
      await rename(
        "old",
        existing.map((c) => ({ from: c, to: aside[p.oldChildren.indexOf(c)]! })),
      );
      await rename(
        "new",
        p.newChildren.map((c, i) => ({ from: c, to: p.oldChildren[i]!.logical_id })),
      );
      p.newChildren = p.newChildren.map((c, i) => ({ ...c, logical_id: p.oldChildren[i]!.logical_id }));
      p.oldChildren = p.oldChildren
        .filter((c) => existing.includes(c))
        .map((c) => ({ ...c, logical_id: aside[p.oldChildren.indexOf(c)]! }));
      logInfo(this.ctx, `Adding new mirror component on ${target.name}`);
      try {
        await this.ctx.rpc.call(target, "blockdev_addchildren", { parent, children: p.newChildren.map((c) => this.rpcChild(p.disk, c)) });
      } catch (err) {
        for (const c of p.newChildren) {
          try {
            await this.ctx.rpc.call(target, "blockdev_remove", { disk: this.rpcChild(p.disk, c) });
          } catch (err2) {
            logWarning(this.ctx, `Can't rollback device ${p.disk.iv_name}: ${errText(err2)}`);
          }
        }
        throw new OpExecError(`Can't add local storage to drbd: ${errText(err)}`, { cause: err });
      }
      await cfg.mutate(() => {
        p.disk.children = p.newChildren;
        cfg.touch(p.disk);
      });
    }
    await this.finish(
      target,
      plan.map((p) => ({ disk: p.disk, remove: p.oldChildren.map((c) => this.rpcChild(p.disk, c)) })),
      5,
      total,
    );
  }

  /** Sync, check, and remove the old storage (before the sync with early_release), as Ganeti's last steps. */
  private async finish(node: NodeObject, old: Array<{ disk: DiskObject; remove: RpcDisk[] }>, first: number, total: number): Promise<void> {
    let n = first;
    if (this.earlyRelease) {
      this.step(n++, total, "Removing old storage");
      await this.removeOld(node, old);
    }
    this.step(n++, total, "Sync devices");
    await waitForDiskSync(this.ctx, this.instance);
    await this.checkDevices();
    if (!this.earlyRelease) {
      this.step(n++, total, "Removing old storage");
      await this.removeOld(node, old);
    }
  }

  private async removeOld(node: NodeObject, old: Array<{ disk: DiskObject; remove: RpcDisk[] }>): Promise<void> {
    for (const o of old) {
      logInfo(this.ctx, `Remove logical volumes for ${o.disk.iv_name}`);
      for (const d of o.remove) {
        try {
          await this.ctx.rpc.call(node, "blockdev_remove", { disk: d });
        } catch (err) {
          logWarning(this.ctx, `Can't remove old LV: ${errText(err)}`);
        }
      }
    }
  }

  /** Ganeti's _ExecDrbd8Secondary: the replica moves from the old secondary to a new node. */
  private async changeSecondary(): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    const pnode = cfg.node(inst.primary_node);
    const oldS = cfg.node(this.targetUuid);
    const newS = cfg.node(this.newUuid!);
    const disks = cfg.instanceDisks(inst);
    const total = 6;
    this.step(1, total, "Check device existence");
    await this.checkExistence([pnode]);
    this.checkVolumeGroups();
    this.step(2, total, "Check peer consistency");
    await this.checkConsistency(pnode, true, true);

    this.step(3, total, "Allocate new storage");
    for (const idx of disks.keys()) logInfo(this.ctx, `Adding new local storage on ${newS.name} for disk/${idx}`);
    this.step(4, total, "Changing drbd configuration");
    const newIds = new Map<string, unknown[]>();
    const oldViews = disks.map((d) => cfg.rpcDisk(d, oldS.uuid));
    try {
      for (const [idx, d] of disks.entries()) {
        const id = parseDrbdLogicalId(d);
        const [minor] = allocateDrbdMinors(cfg, [newS.uuid], d.uuid);
        const pminor = id.pnode === pnode.uuid ? id.pminor : id.sminor;
        const newId = [pnode.uuid, newS.uuid, id.port, pminor, minor!, id.secret];
        newIds.set(d.uuid, newId);
        logInfo(this.ctx, `activating a new drbd on ${newS.name} for disk/${idx}`);
        // The node creates the replica's volumes (same names as the old ones) and serves it as secondary.
        const view = cfg.rpcDisk({ ...d, logical_id: newId, nodes: [pnode.uuid, newS.uuid] }, newS.uuid);
        try {
          await this.ctx.rpc.call(newS, "blockdev_create", { disk: view, owner: inst.name, on_primary: false });
        } catch (err) {
          throw new OpExecError(`Can't create block device: ${errText(err)}`, { cause: err });
        }
      }
      for (const [idx, view] of oldViews.entries()) {
        logInfo(this.ctx, `Shutting down drbd for disk/${idx} on old node`);
        try {
          await this.ctx.rpc.call(oldS, "blockdev_shutdown", { disk: view });
        } catch (err) {
          logWarning(this.ctx, `Failed to shutdown drbd for disk/${idx} on old node: ${errText(err)}`);
        }
      }
      logInfo(this.ctx, "Detaching primary drbds from the network (=> standalone)");
      try {
        await this.ctx.rpc.call(pnode, "drbd_disconnect_net", { disks: disks.map((d) => cfg.rpcDisk(d, pnode.uuid)) });
      } catch (err) {
        throw new OpExecError(`Can't detach the disks from the network on old node: ${errText(err)}`, { cause: err });
      }
    } catch (err) {
      for (const d of disks) releaseDrbdMinors(cfg, d.uuid);
      throw err;
    }
    logInfo(this.ctx, "Updating instance configuration");
    await cfg.mutate(() => {
      for (const d of disks) {
        d.logical_id = newIds.get(d.uuid)!;
        d.nodes = [pnode.uuid, newS.uuid];
        cfg.touch(d);
      }
      inst.secondary_nodes = [newS.uuid];
      cfg.touch(inst);
    });
    logInfo(this.ctx, "Attaching primary drbds to new secondary (standalone => connected)");
    // Ganeti calls both nodes and then fails for the first that failed (the
    // primary's result first). The new secondary goes first here: its
    // attach starts the replica's daemon, which the primary connects to.
    const failed = new Map<string, unknown>();
    for (const node of [newS, pnode]) {
      try {
        await this.ctx.rpc.call(node, "drbd_attach_net", {
          disks: cfg.instanceDisks(inst).map((d) => cfg.rpcDisk(d, node.uuid)),
          instance_name: inst.name,
          multimaster: false,
        });
      } catch (err) {
        failed.set(node.uuid, err);
      }
    }
    for (const node of [pnode, newS]) {
      if (!failed.has(node.uuid)) continue;
      const err = failed.get(node.uuid);
      throw new OpExecError(
        `Can't attach drbd disks on node ${node.name}: ${errText(err)} (please do a gnt-instance info ${inst.name} to see the status of disks)`,
        { cause: err },
      );
    }
    // The old secondary's replica goes: its storage daemon state and both volumes.
    await this.finish(
      oldS,
      disks.map((d, i) => ({ disk: d, remove: [oldViews[i]!] })),
      5,
      total,
    );
  }
}
