// OP_INSTANCE_QUERY_DATA (Ganeti's LUInstanceQueryData): configuration and,
// unless static, runtime data of instances, keyed by name (capture shape).
import type { DiskObject, InstanceObject, OpInstanceQueryData } from "@ganeti-ts/schema";
import { HV_GLOBALS } from "../../config/defaults.js";
import { LogicalUnit, type LockDecl, type LockLevel, type LockSet } from "../base.js";
import { expandInstance, instanceNodeLocks } from "../common/instance-state.js";
import { logWarning } from "../common/messages.js";

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

  async exec(): Promise<unknown> {
    const cfg = this.cfg;
    const out: Record<string, unknown> = {};
    for (const uuid of this.uuids) {
      const inst = cfg.instance(uuid);
      const pnode = cfg.node(inst.primary_node);
      const pgroup = cfg.data.nodegroups[pnode.group];
      const snodes = inst.secondary_nodes.map((u) => cfg.node(u));
      const disks = cfg.instanceDisks(inst);
      const pstatus = await this.diskStatus(inst, disks);
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
        disks: disks.map((d, i) => ({
          iv_name: d.iv_name,
          dev_type: d.dev_type,
          logical_id: d.logical_id,
          drbd_info: null,
          pstatus: pstatus[i],
          sstatus: null,
          children: [],
          mode: d.mode,
          size: d.size,
          spindles: d.spindles,
          name: d.name,
          uuid: d.uuid,
        })),
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
