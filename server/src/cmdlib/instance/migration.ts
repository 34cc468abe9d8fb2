// Ganeti's TLMigrateInstance, shared by OP_INSTANCE_MIGRATE and
// OP_INSTANCE_FAILOVER: externally mirrored (shared) instances move to
// target_node or an allocator-chosen node; internally mirrored ones (drbd)
// move to their secondary, the roles of the two replicas swapping;
// plain/file refuse.
//
// drbd live migration follows Ganeti's order without its standalone steps
// (on this replication engine a disconnected secondary needs a full copy
// again): check the target's replica, both nodes serving the disk
// (dual-master), wait for the sync, migrate, then the roles swapped in the
// config and on the nodes (single-master, the new primary mirroring to the
// old one) and the sync waited for. A failure before the switch-over puts
// the old roles back.
//
// Beyond Ganeti: a kvm instance with `file` disks can be live-migrated (not
// failed over): its images are created on the target, the source's qemu
// copies them there while the guest runs (block mirror into the target's
// NBD export), the RAM follows, and the source's images are removed. Any
// failure before the switchover removes the target's copies and leaves the
// instance running on the source with its images.
import { isMirroredTemplate, templateMirror, type InstanceObject, type MigrationStatus, type NodeObject } from "@ganeti-ts/schema";
import { ConfigurationError, OpExecError, OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl, type LockLevel, type LockSet } from "../base.js";
import { checkInstanceBridgesExist } from "../common/nics.js";
import { checkNodeFreeMemory, checkNodeNotDrained, checkNodeOnline, checkNodeVmCapable } from "../common/node-checks.js";
import { errText, logInfo, logWarning } from "../common/messages.js";
import { expandInstance, instanceRunningOn } from "../common/instance-state.js";
import { rpcInstance } from "../common/instance-params.js";
import { assembleInstanceDisks, shutdownInstanceDisks } from "../common/disks.js";
import { checkDiskConsistency, drbdAttach, drbdWaitUntilSync, setDrbdPrimary } from "../disk-templates/drbd.js";
import { checkTargetNodeIpolicy } from "../common/instance-policy.js";
import { allocatorName, relocateRequest, resultNodes, runAllocator } from "../iallocator.js";

const MIGRATION_POLL_INTERVAL_MS = 200;
const MIGRATION_FEEDBACK_INTERVAL_MS = 10_000;
const MIRROR_FEEDBACK_INTERVAL_MS = 2_000;

interface MigrationOp {
  instance_name: string;
  instance_uuid?: string | null;
  target_node?: string | null;
  target_node_uuid?: string | null;
  iallocator?: string | null;
  cleanup?: boolean;
  ignore_ipolicy?: boolean;
  [k: string]: unknown;
}

export abstract class MigrationLU<Op extends MigrationOp> extends LogicalUnit<Op> {
  protected instanceUuid = "";
  protected targetUuid: string | null = null;
  protected allocator: string | null = null;
  /** Failover (stop/start) rather than live migration. */
  protected failover = false;
  /** Migration may fall back to failover (allow_failover). */
  protected fallback = false;
  protected live = true;

  get instance(): InstanceObject {
    return this.cfg.instance(this.instanceUuid);
  }

  protected isShared(inst: InstanceObject): boolean {
    return templateMirror(inst.disk_template) === "external";
  }

  /** Mirrored between the primary and its secondary (drbd): moves only there. */
  protected isInternal(inst: InstanceObject): boolean {
    return templateMirror(inst.disk_template) === "internal";
  }

  /** Local disks the hypervisor copies during a live migration (kvm, `file`). */
  protected movesDisks(inst: InstanceObject): boolean {
    return inst.hypervisor === "kvm" && inst.disk_template === "file" && this.cfg.instanceDisks(inst).every((d) => d.dev_type === "file");
  }

  /** Target chosen like a shared instance's (target_node or iallocator). */
  private freeTarget(inst: InstanceObject): boolean {
    return this.isShared(inst) || this.movesDisks(inst);
  }

  /** Ganeti's refusal of templates that cannot move. */
  private layoutError(inst: InstanceObject, invalid: string[]): OpPrereqError {
    return new OpPrereqError(
      `Instance's disk layout '${invalid.length ? invalid.join(", ") : inst.disk_template}' does not allow ${this.failover ? "failovers" : "migrations"}`,
      "wrong_state",
    );
  }

  expandNames(): LockDecl {
    const inst = expandInstance(this.cfg, this.op.instance_name, this.op.instance_uuid);
    this.instanceUuid = inst.uuid;
    const target = this.op.target_node ?? this.op.target_node_uuid;
    if (target) this.targetUuid = this.cfg.expandNode(target).uuid;
    // Ganeti's CheckIAllocatorOrNode on "target_node".
    if (this.freeTarget(inst) && !this.op.cleanup) {
      if (target && this.op.iallocator) throw new OpPrereqError("Do not specify both, iallocator and node", "wrong_input");
      if (!target) {
        const name = allocatorName(this.cfg, this.op.iallocator);
        if (!name)
          throw new OpPrereqError(
            "No iallocator or node given and no cluster-wide default iallocator found; please specify either an iallocator or a node, or set a cluster-wide default iallocator",
            "wrong_input",
          );
        this.allocator = name;
      }
    }
    return { instance: { names: [inst.uuid], shared: false }, node: { names: [], shared: false } };
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    if (level !== "node") return undefined;
    const inst = this.instance;
    if (this.allocator || (this.op.cleanup && !this.targetUuid && this.freeTarget(inst))) return { names: "all", shared: false };
    const names = new Set([inst.primary_node, ...inst.secondary_nodes]);
    if (this.targetUuid) names.add(this.targetUuid);
    return { names: [...names], shared: false };
  }

  /** Checks common to migrate and failover; sets targetUuid. */
  protected async checkMigration(): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    if (!this.op.cleanup && inst.admin_state !== "up" && !this.failover && this.fallback) {
      logInfo(this.ctx, "Instance is marked down or offline, fallback allowed, going into failover mode");
      this.failover = true;
    }
    const disks = cfg.instanceDisks(inst);
    const invalid = [...new Set(disks.map((d) => d.dev_type).filter((t) => !isMirroredTemplate(t)))];
    // kvm copies `file` disks during a migration (not a failover: the
    // stopped instance's images would stay behind).
    const moves = this.movesDisks(inst) && !this.failover;
    if (!moves && (invalid.length || !isMirroredTemplate(inst.disk_template))) throw this.layoutError(inst, invalid);
    if (!moves && !this.isShared(inst) && !this.isInternal(inst))
      throw new OpPrereqError(
        `Instance's disk layout '${inst.disk_template}' is not supported by this cluster implementation`,
        "wrong_input",
      );
    if (this.isInternal(inst)) {
      const snode = inst.secondary_nodes[0];
      if (!snode) throw new ConfigurationError(`No secondary node but using ${inst.disk_template} disk types`);
      if (this.op.iallocator || (this.targetUuid && this.targetUuid !== snode))
        throw new OpPrereqError(
          `Instances with disk types ${inst.disk_template} cannot be ${this.failover ? "failed over" : "migrated"} to arbitrary nodes (neither an iallocator nor a target node can be passed)`,
          "wrong_input",
        );
      this.targetUuid = snode;
    }
    if (this.op.cleanup) {
      await this.checkCleanup();
      if (this.targetUuid !== inst.primary_node) await checkInstanceBridgesExist(this.ctx, inst, cfg.node(this.targetUuid!));
      return;
    }

    if (this.allocator) {
      const res = await runAllocator(this.ctx, this.allocator, relocateRequest(cfg, inst, [cfg.node(inst.primary_node)]), {
        hypervisor: inst.hypervisor,
      });
      const [node] = resultNodes(cfg, this.allocator, res, 1);
      this.targetUuid = node!.uuid;
      logInfo(this.ctx, `Selected nodes for instance ${inst.name} via iallocator ${this.allocator}: ${node!.name}`);
    }
    const target = cfg.node(this.targetUuid!);
    if (target.uuid === inst.primary_node)
      throw new OpPrereqError(`Cannot migrate instance ${inst.name} to its primary (${cfg.node(inst.primary_node).name})`, "wrong_state");
    checkNodeOnline(target);
    checkNodeVmCapable(target);
    checkTargetNodeIpolicy(this.ctx, inst, target, this.op.ignore_ipolicy ?? false);

    const be = cfg.filledBeparams(inst);
    if (!this.failover || inst.admin_state === "up")
      await checkNodeFreeMemory(this.ctx, target, `migrating instance ${inst.name}`, Number(be["minmem"]), inst.hypervisor);
    else logInfo(this.ctx, "Not checking memory on the secondary node as instance will not be started");
    if (!this.failover && be["always_failover"] === true) {
      logInfo(this.ctx, "Instance configured to always failover; fallback to failover");
      this.failover = true;
    }
    await checkInstanceBridgesExist(this.ctx, inst, target);
    checkNodeNotDrained(target);
    if (moves && this.failover) throw this.layoutError(inst, invalid);
    if (!this.failover) {
      const pnode = cfg.node(inst.primary_node);
      let running = false;
      let why = `Instance ${inst.name} is not running`;
      try {
        running = await instanceRunningOn(this.ctx, inst, pnode);
      } catch (err) {
        why = errText(err);
      }
      if (!running) {
        if (this.fallback) {
          logInfo(this.ctx, "Can't migrate, instance offline, fallback to failover");
          this.failover = true;
          if (moves) throw this.layoutError(inst, invalid);
        } else throw new OpPrereqError(`Can't migrate, please use failover: ${why}`, "wrong_state");
      }
    }
  }

  private async checkCleanup(): Promise<void> {
    if (this.targetUuid) return;
    // Without a target: wherever the instance runs besides its primary.
    const inst = this.instance;
    for (const n of this.cfg.nodes()) {
      if (n.uuid === inst.primary_node || n.offline) continue;
      if (await instanceRunningOn(this.ctx, inst, n)) {
        this.targetUuid = n.uuid;
        return;
      }
    }
    this.targetUuid = inst.primary_node;
  }

  private async moveConfig(inst: InstanceObject, target: NodeObject): Promise<void> {
    const cfg = this.cfg;
    if (this.isInternal(inst)) {
      await cfg.mutate(() => setDrbdPrimary(cfg, inst, target.uuid));
      return;
    }
    await cfg.mutate(() => {
      inst.primary_node = target.uuid;
      for (const d of cfg.instanceDisks(inst)) {
        d.nodes = [target.uuid];
        cfg.touch(d);
      }
      cfg.touch(inst);
    });
  }

  private async disksOn(node: NodeObject, open: boolean): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    for (const d of cfg.instanceDisks(inst)) {
      if (open) await this.ctx.rpc.call(node, "blockdev_assemble", { disk: cfg.rpcDisk(d), instance: inst.name, on_primary: true });
      else await this.ctx.rpc.call(node, "blockdev_shutdown", { disk: cfg.rpcDisk(d) });
    }
  }

  /** drbd: live migration onto the secondary, the roles swapping (see the top of this file). */
  private async execDrbdMigration(): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    const source = cfg.node(inst.primary_node);
    const target = cfg.node(this.targetUuid!);
    const log = (m: string) => this.ctx.log(m);
    const both = [source, target];
    log("* checking disk consistency between source and target");
    for (const [idx, d] of cfg.instanceDisks(inst).entries())
      if (!(await checkDiskConsistency(this.ctx, inst, d, target, false)))
        throw new OpExecError(`Disk ${idx} is degraded or not fully synchronized on target node, aborting migration`);
    const rinst = rpcInstance(cfg, inst);
    let info: string;
    try {
      info = await this.ctx.rpc.call(source, "migration_info", { instance: rinst });
    } catch (err) {
      throw new OpExecError(`Failed fetching source migration information from ${source.name}: ${errText(err)}`, { cause: err });
    }
    await drbdAttach(this.ctx, inst, both, true);
    await drbdWaitUntilSync(this.ctx, inst, both);
    this.revertRoles = true;
    // The target's hypervisor opens the disks as the target sees them.
    const rinstTarget = rpcInstance(cfg, inst, {}, target.uuid);
    log(`* preparing ${target.name} to accept the instance`);
    try {
      await this.ctx.rpc.call(target, "accept_instance", { instance: rinstTarget, target: target.primary_ip, export_disks: false, info });
    } catch (err) {
      log("Pre-migration failed, aborting");
      await this.abort(rinst, source, target, rinstTarget);
      throw new OpExecError(`Could not pre-migrate instance ${inst.name}: ${errText(err)}`, { cause: err });
    }
    log(`* migrating instance to ${target.name}`);
    try {
      await this.ctx.rpc.call(source, "instance_migrate", {
        instance: rinst,
        target: target.name,
        target_address: target.primary_ip,
        live: this.live,
      });
    } catch (err) {
      log("Migration failed, aborting");
      await this.abort(rinst, source, target, rinstTarget);
      throw new OpExecError(`Could not migrate instance ${inst.name}: ${errText(err)}`, { cause: err });
    }
    log("* starting memory transfer");
    await this.waitMigration(rinst, source, target, rinstTarget);
    this.revertRoles = false;
    // Both finalizations are tried; the config moves only when both succeeded (Ganeti).
    const errors: string[] = [];
    try {
      await this.ctx.rpc.call(source, "finalize_migration_src", { instance: rinst, success: true, live: this.live });
    } catch (err) {
      errors.push(`${source.name}: ${errText(err)}`);
    }
    try {
      // The target's replica becomes the writer before its guest resumes.
      await this.ctx.rpc.call(target, "finalize_migration_dst", { instance: rinstTarget, success: true });
    } catch (err) {
      errors.push(`${target.name}: ${errText(err)}`);
    }
    if (errors.length) throw new OpExecError(`Could not finalize instance migration: ${errors.join(" ")}`);
    await this.moveConfig(inst, target);
    await drbdAttach(this.ctx, inst, both, false);
    await drbdWaitUntilSync(this.ctx, inst, both);
    log("* done");
  }

  /** drbd: a migration failed before the switch-over; the replicas go back to the old roles. */
  private revertRoles = false;

  private async revertDiskStatus(source: NodeObject, target: NodeObject): Promise<void> {
    const inst = this.instance;
    try {
      await drbdAttach(this.ctx, inst, [source, target], false);
      await drbdWaitUntilSync(this.ctx, inst, [source, target]);
    } catch (err) {
      logWarning(
        this.ctx,
        `Migration failed and I can't reconnect the drives, please try to recover the instance manually; error '${errText(err)}'`,
      );
    }
  }

  protected async execMigration(): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    if (this.isInternal(inst)) return this.execDrbdMigration();
    const source = cfg.node(inst.primary_node);
    const target = cfg.node(this.targetUuid!);
    const log = (m: string) => this.ctx.log(m);
    const moves = this.movesDisks(inst);
    if (moves) {
      log(`* creating the instance's disks on node ${target.name}`);
      await this.createTargetDisks(target);
    } else {
      log("* checking disk consistency between source and target");
      log(`* closing instance disks on node ${target.name}`);
      await this.disksOn(target, false);
      log(`* opening instance disks on node ${source.name} in shared mode`);
      await this.disksOn(source, true);
      log(`* opening instance disks on node ${target.name} in shared mode`);
      await this.disksOn(target, true);
    }
    const rinst = rpcInstance(cfg, inst);
    let info: string;
    try {
      info = await this.ctx.rpc.call(source, "migration_info", { instance: rinst });
    } catch (err) {
      throw new OpExecError(`Failed fetching source migration information from ${source.name}: ${errText(err)}`, { cause: err });
    }
    log(`* preparing ${target.name} to accept the instance`);
    try {
      await this.ctx.rpc.call(target, "accept_instance", { instance: rinst, target: target.primary_ip, export_disks: moves, info });
    } catch (err) {
      log("Pre-migration failed, aborting");
      await this.abort(rinst, source, target);
      throw new OpExecError(`Could not pre-migrate instance ${inst.name}: ${errText(err)}`, { cause: err });
    }
    if (moves) await this.mirrorDisks(rinst, source, target);
    log(`* migrating instance to ${target.name}`);
    try {
      await this.ctx.rpc.call(source, "instance_migrate", {
        instance: rinst,
        target: target.name,
        target_address: target.primary_ip,
        live: this.live,
      });
    } catch (err) {
      logWarning(this.ctx, `Migration failed, aborting: ${errText(err)}`);
      await this.abort(rinst, source, target);
      throw new OpExecError(`Could not migrate instance ${inst.name}: ${errText(err)}`, { cause: err });
    }
    log("* starting memory transfer");
    await this.waitMigration(rinst, source, target);
    try {
      await this.ctx.rpc.call(source, "finalize_migration_src", { instance: rinst, success: true, live: this.live });
    } catch (err) {
      throw new OpExecError(`Failed to finalize the migration on the source node: ${errText(err)}`, { cause: err });
    }
    await this.moveConfig(inst, target);
    this.createdOnTarget = false;
    try {
      await this.ctx.rpc.call(target, "finalize_migration_dst", { instance: rpcInstance(cfg, inst), success: true });
    } catch (err) {
      throw new OpExecError(`Could not finalize instance migration: ${errText(err)}`, { cause: err });
    }
    if (moves) {
      // The guest runs on the target's copies: the source's are stale.
      log(`* removing instance disks on node ${source.name}`);
      await this.removeDisks(source, rinst.disks);
    } else {
      log(`* closing instance disks on node ${source.name}`);
      await this.disksOn(source, false);
      log(`* opening instance disks on node ${target.name} in exclusive mode`);
      await this.disksOn(target, true);
    }
    log("* done");
  }

  /** Disks created on the target by this migration (removed again when it fails). */
  private createdOnTarget = false;

  private async createTargetDisks(target: NodeObject): Promise<void> {
    const inst = this.instance;
    const made: ReturnType<typeof this.cfg.rpcDisk>[] = [];
    try {
      for (const d of this.cfg.instanceDisks(inst)) {
        const rd = this.cfg.rpcDisk(d);
        await this.ctx.rpc.call(target, "blockdev_create", { disk: rd, owner: inst.name, on_primary: true });
        made.push(rd);
      }
    } catch (err) {
      await this.removeDisks(target, made);
      throw new OpExecError(`Could not create the instance's disks on node ${target.name}: ${errText(err)}`, { cause: err });
    }
    this.createdOnTarget = true;
  }

  /** Remove disk images on a node and its instance directory (best effort: warnings). */
  private async removeDisks(node: NodeObject, disks: ReturnType<typeof this.cfg.rpcDisk>[]): Promise<void> {
    const dirs = new Set<string>();
    for (const d of disks) {
      try {
        await this.ctx.rpc.call(node, "blockdev_remove", { disk: d });
        if (typeof d.logical_id[1] === "string") dirs.add(d.logical_id[1].replace(/\/[^/]*$/, ""));
      } catch (err) {
        logWarning(this.ctx, `Could not remove disk ${d.uuid} on node ${node.name}: ${errText(err)}`);
      }
    }
    for (const dir of dirs) await this.ctx.rpc.call(node, "file_storage_dir_remove", { path: dir }).catch(() => undefined);
  }

  /** Copy the local disks to the target while the guest runs; returns once every copy keeps up. */
  private async mirrorDisks(rinst: ReturnType<typeof rpcInstance>, source: NodeObject, target: NodeObject): Promise<void> {
    const inst = this.instance;
    const failed = async (why: string, cause?: unknown): Promise<never> => {
      logWarning(this.ctx, `Disk mirror failed, aborting: ${why}`);
      await this.abort(rinst, source, target);
      throw new OpExecError(`Could not migrate instance ${inst.name}: disk mirror failed: ${why}`, { cause });
    };
    this.ctx.log(`* mirroring instance disks to ${target.name}`);
    try {
      await this.ctx.rpc.call(source, "instance_mirror_disks", { instance: rinst, target_address: target.primary_ip });
    } catch (err) {
      return failed(errText(err), err);
    }
    let lastFeedback = 0;
    let lastPercent = -1;
    for (;;) {
      let st;
      try {
        st = await this.ctx.rpc.call(source, "instance_mirror_status", { instance: rinst });
      } catch (err) {
        return failed(errText(err), err);
      }
      if (st.error) return failed(st.error);
      const percent = st.ready ? 100 : st.total > 0 ? Math.floor((100 * st.copied) / st.total) : 0;
      if (st.ready || (percent !== lastPercent && Date.now() - lastFeedback >= MIRROR_FEEDBACK_INTERVAL_MS)) {
        this.ctx.log(`* disk mirror progress: ${percent} %`);
        lastFeedback = Date.now();
        lastPercent = percent;
      }
      if (st.ready) return;
      await new Promise((r) => setTimeout(r, MIGRATION_POLL_INTERVAL_MS));
    }
  }

  /** Ganeti's polling of instance_get_migration_status: progress every 10 s, downtime at the end. */
  private async waitMigration(
    rinst: ReturnType<typeof rpcInstance>,
    source: NodeObject,
    target: NodeObject,
    rinstTarget?: ReturnType<typeof rpcInstance>,
  ): Promise<void> {
    const inst = this.instance;
    let lastFeedback = Date.now();
    for (;;) {
      let st: MigrationStatus | null = null;
      let msg = "";
      try {
        st = await this.ctx.rpc.call(source, "instance_get_migration_status", { instance: rinst });
      } catch (err) {
        msg = errText(err);
      }
      if (!st || st.status === "failed" || st.status === "cancelled") {
        this.ctx.log("Migration failed, aborting");
        await this.abort(rinst, source, target, rinstTarget);
        throw new OpExecError(`Could not migrate instance ${inst.name}: ${msg || st?.error || "hypervisor returned failure"}`);
      }
      if (st.status !== "active") {
        this.ctx.log("* memory transfer complete");
        if (st.downtime_ms !== null && st.downtime_ms !== undefined)
          this.ctx.log(`* migration downtime ${st.downtime_ms} ms, total time ${st.total_time_ms ?? "?"} ms`);
        return;
      }
      if (Date.now() - lastFeedback >= MIGRATION_FEEDBACK_INTERVAL_MS && st.transferred_ram && st.total_ram) {
        this.ctx.log(`* memory transfer progress: ${((100 * st.transferred_ram) / st.total_ram).toFixed(2)} %`);
        lastFeedback = Date.now();
      }
      await new Promise((r) => setTimeout(r, MIGRATION_POLL_INTERVAL_MS));
    }
  }

  private async abort(
    rinst: ReturnType<typeof rpcInstance>,
    source: NodeObject,
    target: NodeObject,
    rinstTarget?: ReturnType<typeof rpcInstance>,
  ): Promise<void> {
    try {
      await this.ctx.rpc.call(target, "finalize_migration_dst", { instance: rinstTarget ?? rinst, success: false });
    } catch (err) {
      logWarning(this.ctx, `Aborting migration failed on target node ${target.name}: ${errText(err)}`);
    }
    try {
      await this.ctx.rpc.call(source, "finalize_migration_src", { instance: rinst, success: false, live: this.live });
    } catch (err) {
      logWarning(this.ctx, `Aborting migration failed on source node ${source.name}: ${errText(err)}`);
    }
    if (this.createdOnTarget) {
      // The instance stays on the source with its images: drop the copies.
      this.ctx.log(`* removing the copied disks on node ${target.name}`);
      await this.removeDisks(target, rinst.disks);
      this.createdOnTarget = false;
    }
    if (this.revertRoles) {
      this.revertRoles = false;
      await this.revertDiskStatus(source, target);
    }
  }

  protected async execCleanup(): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    const source = cfg.node(inst.primary_node);
    const target = cfg.node(this.targetUuid!);
    const onSource = await instanceRunningOn(this.ctx, inst, source);
    const onTarget = target.uuid !== source.uuid && (await instanceRunningOn(this.ctx, inst, target));
    if (onSource && onTarget)
      throw new OpExecError(
        "Instance seems to be running on two nodes, or the hypervisor is confused; you will have to ensure manually that it runs only on one and restart this operation",
      );
    if (!onSource && !onTarget)
      throw new OpExecError(
        "Instance does not seem to be running at all; in this case it's safer to repair by running 'gnt-instance stop' to ensure disk shutdown, and then restarting it",
      );
    if (onTarget) {
      this.ctx.log(`* instance running on secondary node (${target.name}), updating config`);
      const disks = rpcInstance(cfg, inst).disks;
      await this.moveConfig(inst, target);
      if (this.movesDisks(inst)) {
        // It runs on the copies the migration made there.
        this.ctx.log(`* removing instance disks on node ${source.name}`);
        await this.removeDisks(source, disks);
      }
    } else {
      this.ctx.log(`* instance confirmed to be running on its primary node (${source.name})`);
    }
    if (this.isInternal(inst)) {
      // Ganeti: the replicas take the roles the config now says.
      await drbdAttach(this.ctx, inst, [source, target], false);
      await drbdWaitUntilSync(this.ctx, inst, [source, target]);
    }
    this.ctx.log("* done");
  }

  protected async execFailover(shutdownTimeout: number, ignoreConsistency: boolean): Promise<void> {
    const cfg = this.cfg;
    const inst = this.instance;
    const source = cfg.node(inst.primary_node);
    const target = cfg.node(this.targetUuid!);
    if (inst.disks_active) {
      this.ctx.log("* checking disk consistency between source and target");
      if (this.isInternal(inst)) {
        for (const [idx, d] of cfg.instanceDisks(inst).entries()) {
          if (await checkDiskConsistency(this.ctx, inst, d, target, false)) continue;
          if (source.offline) this.ctx.log(`Node ${source.name} is offline, ignoring degraded disk ${idx} on target node ${target.name}`);
          else if (!ignoreConsistency) throw new OpExecError(`Disk ${idx} is degraded on target node, aborting failover`);
        }
      }
    } else this.ctx.log("* not checking disk consistency as instance is not running");
    this.ctx.log("* shutting down instance on source node");
    try {
      await this.ctx.rpc.call(source, "instance_shutdown", { instance: rpcInstance(cfg, inst), timeout: shutdownTimeout });
    } catch (err) {
      if (ignoreConsistency || source.offline)
        logWarning(
          this.ctx,
          `Could not shutdown instance ${inst.name} on node ${source.name}, proceeding anyway; please make sure node ${source.name} is down; error details: ${errText(err)}`,
        );
      else throw new OpExecError(`Could not shutdown instance ${inst.name} on node ${source.name}: ${errText(err)}`, { cause: err });
    }
    if (inst.disks.length && !source.offline) {
      this.ctx.log(`* closing instance disks on node ${source.name}`);
    }
    this.ctx.log("* deactivating the instance's disks on source node");
    if (!(await shutdownInstanceDisks(this.ctx, inst, { ignorePrimary: true })))
      throw new OpExecError("Can't shut down the instance's disks");
    await this.moveConfig(inst, target);
    if (inst.admin_state === "up") {
      this.ctx.log(`* activating the instance's disks on target node ${target.name}`);
      if (this.isInternal(inst)) {
        // The new secondary (the old primary) may be gone: its failure does not count.
        if (!(await assembleInstanceDisks(this.ctx, inst, undefined, { ignoreSecondaries: true })).ok) {
          await shutdownInstanceDisks(this.ctx, inst);
          throw new OpExecError("Can't activate the instance's disks");
        }
      } else {
        try {
          await this.disksOn(target, true);
        } catch (err) {
          await shutdownInstanceDisks(this.ctx, inst);
          throw new OpExecError("Can't activate the instance's disks", { cause: err });
        }
      }
      await cfg.mutate(() => {
        inst.disks_active = true;
      });
      this.ctx.log(`* starting the instance on the target node ${target.name}`);
      try {
        await this.ctx.rpc.call(target, "instance_start", { instance: rpcInstance(cfg, inst), startup_paused: false });
      } catch (err) {
        await shutdownInstanceDisks(this.ctx, inst);
        throw new OpExecError(`Could not start instance ${inst.name} on node ${target.name}: ${errText(err)}`, { cause: err });
      }
    }
  }
}
