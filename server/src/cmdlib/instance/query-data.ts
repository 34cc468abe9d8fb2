// OP_INSTANCE_QUERY_DATA (Ganeti's LUInstanceQueryData): configuration and,
// unless static, runtime data of instances, keyed by name (capture shape).
import type { BlockDevStatus, DiskObject, InstanceObject, OpInstanceQueryData, RpcDisk } from "@ganeti-ts/schema";
import { HV_GLOBALS } from "../../config/defaults.js";
import { parseDrbdLogicalId, rpcDrbdDisk } from "../../config/drbd.js";
import { OpExecError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl, type LockLevel, type LockSet } from "../base.js";
import { expandInstance, instanceNodeLocks } from "../common/instance-state.js";
import { errText, logWarning } from "../common/messages.js";

export class LUInstanceQueryData extends LogicalUnit<OpInstanceQueryData> {
  private uuids: string[] = [];

  expandNames(): LockDecl {
    if (!this.op.static) logWarning(this.ctx, "Non-static data requested, locks need to be acquired");
    this.uuids = this.op.instances.length
      ? this.op.instances.map((n) => expandInstance(this.cfg, n).uuid)
      : this.cfg.instances().map((i) => i.uuid);
    if (!this.op.use_locking) return {};
    return {
      instance: { names: this.op.instances.length ? this.uuids : "all", shared: true },
      node: { names: [], shared: true },
    };
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    if (level === "node" && this.op.use_locking) return instanceNodeLocks(this.cfg, this.uuids, { shared: true });
    return undefined;
  }

  checkPrereq(): void {
    // Instances removed while waiting for locks are simply not reported.
    this.uuids = this.uuids.filter((u) => this.data.instances[u]);
  }

  /** run_state, and the accelerator a running kvm instance uses (beyond Ganeti: hv_accel). */
  private async runState(inst: InstanceObject): Promise<{ state: string | null; accel?: string }> {
    if (this.op.static) return { state: null };
    const pnode = this.cfg.node(inst.primary_node);
    if (pnode.offline) return { state: null };
    const info = await this.ctx.rpc.call(pnode, "instance_info", { instance: inst.name, hypervisor: inst.hypervisor });
    return info ? { state: "up", ...(info.accel ? { accel: info.accel } : {}) } : { state: "down" };
  }

  private async diskStatus(inst: InstanceObject, disks: DiskObject[]): Promise<Array<unknown[] | null>> {
    if (this.op.static || disks.length === 0) return disks.map(() => null);
    const pnode = this.cfg.node(inst.primary_node);
    if (pnode.offline) return disks.map(() => null);
    const sizes = await this.ctx.rpc.call(pnode, "blockdev_getsizes", { disks: disks.map((d) => this.cfg.rpcDisk(d)) });
    // Ganeti's blockdev_find tuple: dev_path, major, minor, sync%, eta, is_degraded, ldisk_status.
    return disks.map((d, i) =>
      sizes[i] === null || sizes[i] === undefined ? null : [d.logical_id[1] ?? null, null, null, null, null, false, 1],
    );
  }

  /**
   * Ganeti's _ComputeBlockdevStatus: blockdev_find on one node, as the
   * 7-tuple; null when static, no node, the node is offline, or the device
   * is not there. A failed call fails the opcode, as in Ganeti.
   */
  private async blockdevStatus(inst: InstanceObject, nodeUuid: string | null, disk: RpcDisk): Promise<unknown[] | null> {
    if (this.op.static || !nodeUuid) return null;
    const node = this.cfg.data.nodes[nodeUuid];
    if (!node || node.offline) return null;
    let st: BlockDevStatus | null;
    try {
      st = await this.ctx.rpc.call(node, "blockdev_find", { disk });
    } catch (err) {
      throw new OpExecError(`Can't compute disk status for ${inst.name}: ${errText(err)}`, { cause: err });
    }
    if (!st) return null;
    return [st.dev_path, st.major, st.minor, st.sync_percent, st.estimated_time, st.is_degraded, st.ldisk_status];
  }

  /**
   * A drbd disk as Ganeti's _ComputeDiskStatusInner shows it: the secret
   * hidden from logical_id, drbd_info (nodes, minors, port), pstatus and
   * sstatus from blockdev_find on the primary and the secondary (a degraded
   * mirror shows there), and the data/meta children the same way.
   */
  private async drbdDiskInfo(inst: InstanceObject, d: DiskObject): Promise<Record<string, unknown>> {
    const cfg = this.cfg;
    const id = parseDrbdLogicalId(d);
    const onPrimary = id.pnode === inst.primary_node;
    const snode = onPrimary ? id.snode : id.pnode;
    const name = (u: string) => cfg.data.nodes[u]?.name ?? u;
    const view = (nodeUuid: string): RpcDisk =>
      nodeUuid === id.pnode || nodeUuid === id.snode ? rpcDrbdDisk(cfg, d, nodeUuid) : cfg.rpcDisk(d);
    const [pstatus, sstatus] = await Promise.all([
      this.blockdevStatus(inst, inst.primary_node, view(inst.primary_node)),
      this.blockdevStatus(inst, snode, view(snode)),
    ]);
    const children = await Promise.all(
      (cfg.rpcDisk(d).children ?? []).map(async (c, k) => {
        const child = d.children![k]!;
        const [cp, cs] = await Promise.all([this.blockdevStatus(inst, inst.primary_node, c), this.blockdevStatus(inst, snode, c)]);
        return {
          iv_name: null,
          dev_type: child.dev_type,
          logical_id: child.logical_id,
          drbd_info: null,
          pstatus: cp,
          sstatus: cs,
          children: [],
          mode: null,
          size: child.size,
          spindles: null,
          name: null,
          uuid: child.uuid,
        };
      }),
    );
    return {
      iv_name: d.iv_name,
      dev_type: d.dev_type,
      logical_id: [...d.logical_id.slice(0, -1), null],
      drbd_info: {
        primary_node: name(inst.primary_node),
        primary_minor: onPrimary ? id.pminor : id.sminor,
        secondary_node: name(snode),
        secondary_minor: onPrimary ? id.sminor : id.pminor,
        port: id.port,
      },
      pstatus,
      sstatus,
      children,
      mode: d.mode,
      size: d.size,
      spindles: d.spindles,
      name: d.name,
      uuid: d.uuid,
    };
  }

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const out: Record<string, unknown> = {};
    for (const uuid of this.uuids) {
      const inst = cfg.instance(uuid);
      const pnode = cfg.node(inst.primary_node);
      const pgroup = cfg.data.nodegroups[pnode.group];
      const snodes = inst.secondary_nodes.map((u) => cfg.node(u));
      const disks = cfg.instanceDisks(inst);
      // File-based disks: one blockdev_getsizes on the primary (their path as the device); plain
      // volumes: blockdev_find on the primary, as Ganeti; drbd disks: blockdev_find on both nodes.
      const byFind = (d: DiskObject) => d.dev_type === "drbd" || d.dev_type === "plain";
      const pstatus = await this.diskStatus(
        inst,
        disks.filter((d) => !byFind(d)),
      );
      const plainIndex = new Map(disks.filter((d) => !byFind(d)).map((d, k) => [d.uuid, k]));
      const volumeStatus = await Promise.all(
        disks.map((d) => (d.dev_type === "plain" ? this.blockdevStatus(inst, inst.primary_node, cfg.rpcDisk(d)) : null)),
      );
      const run = await this.runState(inst);
      const hvActual = cfg.filledHvparams(inst);
      for (const g of HV_GLOBALS[inst.hypervisor] ?? []) delete hvActual[g];
      out[inst.name] = {
        name: inst.name,
        config_state: inst.admin_state,
        run_state: run.state,
        pnode: pnode.name,
        pnode_group_uuid: pnode.group,
        pnode_group_name: pgroup?.name ?? null,
        snodes: snodes.map((n) => n.name),
        snodes_group_uuids: snodes.map((n) => n.group),
        snodes_group_names: snodes.map((n) => cfg.data.nodegroups[n.group]?.name ?? null),
        os: inst.os,
        nics: inst.nics.map((nic) => {
          const p = cfg.filledNicparams(nic, pnode.group);
          return [
            nic.name,
            nic.uuid,
            nic.ip,
            nic.mac,
            p["mode"],
            p["link"],
            p["vlan"] ?? "",
            nic.network,
            nic.network ? (cfg.data.networks[nic.network]?.name ?? null) : null,
          ];
        }),
        disk_template: inst.disk_template,
        disks: await Promise.all(
          disks.map((d, i) =>
            d.dev_type === "drbd"
              ? this.drbdDiskInfo(inst, d)
              : {
                  iv_name: d.iv_name,
                  dev_type: d.dev_type,
                  logical_id: d.logical_id,
                  drbd_info: null,
                  pstatus: d.dev_type === "plain" ? volumeStatus[i] : (pstatus[plainIndex.get(d.uuid) ?? -1] ?? null),
                  sstatus: null,
                  children: [],
                  mode: d.mode,
                  size: d.size,
                  spindles: d.spindles,
                  name: d.name,
                  uuid: d.uuid,
                },
          ),
        ),
        hypervisor: inst.hypervisor,
        network_port: inst.network_port,
        hv_instance: inst.hvparams,
        hv_actual: hvActual,
        // Only where the hypervisor reports it (a running kvm instance): Ganeti has no such key.
        ...(run.accel ? { hv_accel: run.accel } : {}),
        be_instance: inst.beparams,
        be_actual: cfg.filledBeparams(inst),
        os_instance: inst.osparams,
        os_actual: cfg.filledOsparams(inst),
        serial_no: inst.serial_no,
        mtime: inst.mtime,
        ctime: inst.ctime,
        uuid: inst.uuid,
      };
    }
    return out;
  }
}
