// OP_CLUSTER_VERIFY_GROUP (Ganeti's LUClusterVerifyGroup): ask every node of
// the group what it sees (node_verify: versions, hypervisor health, running
// instances, memory, clock, files, storage) and compare it with the
// configuration. The checks follow Ganeti's, with its texts and codes; the
// node's instance list comes from each hypervisor's own listing (fake: its
// state files, kvm: its running qemu processes), so every hypervisor is
// covered the same way.
import { diskTemplateInfo, isMirroredTemplate, templateMirror } from "@ganeti-ts/schema";
import type {
  BlockDevStatus,
  DiskObject,
  InstanceObject,
  NodeObject,
  NodeVerifyChecks,
  NodeVerifyResult,
  OpClusterVerifyGroup,
} from "@ganeti-ts/schema";
import { PROTOCOL_VERSION, SOFTWARE_VERSION } from "../../../config/defaults.js";
import type { RpcOutcome } from "../../../rpc/runner.js";
import { LogicalUnit, type LockDecl, type LockLevel, type LockSet } from "../../base.js";
import { ipolicyInstanceViolations } from "../../common/ipolicy-violation.js";
import { VerifyReporter } from "./reporter.js";

/** Seconds a node's clock may differ from the master's (Ganeti's NODE_MAX_CLOCK_SKEW). */
export const NODE_MAX_CLOCK_SKEW = 150;
/** Files every node holds, relative to its data directory (Ganeti's ancillary files). */
export const CLUSTER_FILES = ["server.pem"];
const EX_TAGS_PREFIX = "htools:iextags:";

/** The logical and physical state of one node (Ganeti's NodeImage). */
/** Ganeti 3.0's LDS_NAMES. */
const LDS_NAMES: Record<number, string> = { 1: "ok", 2: "syncing", 3: "unknown", 4: "faulty" };

interface NodeImage {
  uuid: string;
  name: string;
  offline: boolean;
  vmCapable: boolean;
  /** Referenced by an instance but not in the config. */
  ghost: boolean;
  rpcFail: boolean;
  hypFail: boolean;
  /** Names of the instances the node runs. */
  instances: string[];
  pinst: string[];
  sinst: string[];
  /** primary node uuid → instances (uuids) this node is secondary for. */
  sbp: Map<string, string[]>;
  mfree: number;
  /** Memory figures came back. */
  memOk: boolean;
  /** Disk images found in the file storage directories, null when not known. */
  volumes: Set<string> | null;
}

function newImage(uuid: string, node: NodeObject | undefined): NodeImage {
  return {
    uuid,
    name: node?.name ?? uuid,
    offline: node?.offline ?? false,
    vmCapable: node?.vm_capable ?? true,
    ghost: node === undefined,
    rpcFail: false,
    hypFail: false,
    instances: [],
    pinst: [],
    sinst: [],
    sbp: new Map(),
    mfree: 0,
    memOk: false,
    volumes: null,
  };
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

export class LUClusterVerifyGroup extends LogicalUnit<OpClusterVerifyGroup> {
  private groupUuid = "";
  private report!: VerifyReporter;
  /** drbd disks' state per instance: [node uuid, disk index, status or why none]. */
  private drbdStatus = new Map<string, Array<[string, number, BlockDevStatus | string]>>();

  expandNames(): LockDecl {
    this.groupUuid = this.cfg.expandGroup(this.op.group_name).uuid;
    const insts = this.groupInstances().map((i) => i.uuid);
    return {
      instance: { names: insts, shared: true },
      nodegroup: { names: [this.groupUuid], shared: true },
      node: { names: [], shared: true },
    };
  }

  override declareLocks(level: LockLevel): LockSet | undefined {
    if (level !== "node") return undefined;
    // The group's nodes, and the other nodes of its mirrored instances.
    const nodes = new Set(this.cfg.groupNodes(this.groupUuid).map((n) => n.uuid));
    for (const uuid of this.ctx.held("instance")) {
      const inst = this.data.instances[uuid];
      if (inst && templateMirror(inst.disk_template) === "internal")
        for (const s of inst.secondary_nodes) if (this.data.nodes[s]) nodes.add(s);
    }
    return { names: [...nodes], shared: true };
  }

  checkPrereq(): void {}

  private groupInstances(): InstanceObject[] {
    return Object.values(this.data.instances)
      .filter((i) => this.data.nodes[i.primary_node]?.group === this.groupUuid)
      .sort(byName);
  }

  private nodeName(uuid: string): string {
    return this.data.nodes[uuid]?.name ?? uuid;
  }

  private disksOf(inst: InstanceObject): DiskObject[] {
    return inst.disks.map((u) => this.data.disks[u]).filter((d): d is DiskObject => d !== undefined);
  }

  async exec(): Promise<boolean> {
    const group = this.cfg.group(this.groupUuid);
    this.ctx.log(`* Verifying group '${group.name}'`);
    const nodes = this.cfg.groupNodes(this.groupUuid).sort(byName);
    if (nodes.length === 0) {
      this.ctx.log("* Empty node group, skipping verification");
      return true;
    }
    this.report = new VerifyReporter(this.op, (m) => this.ctx.log(m));
    const instances = this.groupInstances();

    this.ctx.log(`* Gathering data (${nodes.length} nodes)`);
    const images = new Map<string, NodeImage>(nodes.map((n) => [n.uuid, newImage(n.uuid, n)]));
    for (const inst of instances) {
      for (const nuuid of [inst.primary_node, ...inst.secondary_nodes]) {
        if (!images.has(nuuid)) images.set(nuuid, newImage(nuuid, this.data.nodes[nuuid]));
      }
      images.get(inst.primary_node)!.pinst.push(inst.uuid);
      for (const s of inst.secondary_nodes) {
        const img = images.get(s)!;
        img.sinst.push(inst.uuid);
        img.sbp.set(inst.primary_node, [...(img.sbp.get(inst.primary_node) ?? []), inst.uuid]);
      }
    }

    this.ctx.log(`* Gathering information about nodes (${nodes.length} nodes)`);
    const start = this.ctx.now();
    const nvinfo = await this.ctx.rpc.callMany(nodes, "node_verify", { checks: this.nodeChecks() });
    const end = this.ctx.now();
    const fileInfo = new Map(nvinfo);
    const master = this.data.nodes[this.data.cluster.master_node];
    const fileNodes = [...nodes];
    if (master && !images.has(master.uuid)) {
      this.ctx.log("* Gathering information about the master node");
      const extra = await this.ctx.rpc.callMany([master], "node_verify", { checks: { filelist: CLUSTER_FILES } });
      for (const [k, v] of extra) fileInfo.set(k, v);
      fileNodes.push(master);
    }

    this.ctx.log(`* Gathering disk information (${nodes.length} nodes)`);
    await this.collectDrbdStatus(instances);

    this.ctx.log("* Verifying configuration file consistency");
    this.verifyFiles(fileNodes, fileInfo);

    this.ctx.log("* Verifying node status");
    let nOffline = 0;
    let nDrained = 0;
    for (const node of nodes) {
      const img = images.get(node.uuid)!;
      if (node.offline) {
        if (this.op.verbose) this.ctx.log(`* Skipping offline node ${node.name}`);
        nOffline++;
        continue;
      }
      if (node.drained && node.uuid !== this.data.cluster.master_node && !node.master_candidate) nDrained++;
      if (this.op.verbose) this.ctx.log(`* Verifying node ${node.name} (${this.nodeType(node)})`);
      const outcome = nvinfo.get(node.uuid);
      if (!outcome || !outcome.ok) {
        this.report.error("ENODERPC", node.name, `while contacting node: ${outcome && !outcome.ok ? outcome.error : "no answer"}`);
        img.rpcFail = true;
        continue;
      }
      this.verifyNode(node, img, outcome.result, start, end);
    }

    this.ctx.log("* Verifying instance status");
    const nonRedundant: InstanceObject[] = [];
    const nonBalanced: InstanceObject[] = [];
    for (const inst of instances) {
      if (this.op.verbose) this.ctx.log(`* Verifying instance ${inst.name}`);
      this.verifyInstance(inst, images);
      const disks = this.disksOf(inst);
      const redundant = disks.length === 0 ? inst.disk_template === "diskless" : disks.every((d) => isMirroredTemplate(d.dev_type));
      if (!redundant) nonRedundant.push(inst);
      if (!this.cfg.filledBeparams(inst)["auto_balance"]) nonBalanced.push(inst);
    }

    this.ctx.log("* Verifying orphan volumes");
    this.verifyOrphanVolumes(images);

    if (!this.op.skip_checks.includes("nplusone_mem")) {
      this.ctx.log("* Verifying N+1 Memory redundancy");
      this.verifyNPlusOneMemory(images, instances);
    }

    this.ctx.log("* Other Notes");
    if (nonRedundant.length) this.ctx.log(`  - NOTICE: ${nonRedundant.length} non-redundant instance(s) found.`);
    if (nonBalanced.length) this.ctx.log(`  - NOTICE: ${nonBalanced.length} non-auto-balanced instance(s) found.`);
    const iOffline = instances.filter((i) => i.admin_state === "offline").length;
    if (iOffline) this.ctx.log(`  - NOTICE: ${iOffline} offline instance(s) found.`);
    if (nOffline) this.ctx.log(`  - NOTICE: ${nOffline} offline node(s) found.`);
    if (nDrained) this.ctx.log(`  - NOTICE: ${nDrained} drained node(s) found.`);
    // ganeti-ts runs no hook scripts; Ganeti prints the heading all the same.
    this.ctx.log("* Hooks Results");
    return !this.report.bad;
  }

  private nodeType(node: NodeObject): string {
    if (node.uuid === this.data.cluster.master_node) return "master";
    if (node.master_candidate) return "master candidate";
    if (node.drained) return "drained";
    return "regular";
  }

  /** The file storage directories of the enabled file templates. */
  private fileDirs(): Record<string, string> {
    const c = this.data.cluster;
    const dirs: Record<string, string> = {};
    if (c.enabled_disk_templates.includes("file")) dirs["file"] = c.file_storage_dir;
    if (c.enabled_disk_templates.includes("sharedfile")) dirs["sharedfile"] = c.shared_file_storage_dir;
    return dirs;
  }

  private nodeChecks(): NodeVerifyChecks {
    const c = this.data.cluster;
    const hvs = c.enabled_hypervisors;
    const hv = hvs[0] ?? "fake";
    const oobPaths = [
      ...new Set(
        Object.values(this.data.nodes)
          .map((n) => this.cfg.filledNdparams(n)["oob_program"])
          .filter((p): p is string => typeof p === "string" && p !== ""),
      ),
    ];
    const checks: NodeVerifyChecks = {
      version: true,
      hypervisor: hvs,
      instancelist: hvs,
      hvinfo: { hypervisor: hv, hvparams: c.hvparams[hv] ?? {} },
      time: true,
      nodesetup: true,
      filelist: CLUSTER_FILES,
    };
    const dirs = this.fileDirs();
    if (Object.keys(dirs).length) {
      checks.file_storage_paths = dirs;
      checks.file_volumes = dirs;
    }
    if (oobPaths.length) checks.oob_paths = oobPaths;
    return checks;
  }

  /** The cluster files must exist on every node with one content (Ganeti's _VerifyFiles). */
  private verifyFiles(nodes: NodeObject[], nvinfo: Map<string, RpcOutcome<NodeVerifyResult>>): void {
    const ignore = new Set<string>();
    const info = new Map<string, Map<string, Set<string>>>(CLUSTER_FILES.map((f) => [f, new Map()]));
    for (const node of nodes) {
      if (node.offline) {
        ignore.add(node.uuid);
        continue;
      }
      const out = nvinfo.get(node.uuid);
      const files = out && out.ok ? out.result.filelist : undefined;
      this.report.errorIf(!files, "ENODEFILECHECK", node.name, "Node did not return file checksum data");
      if (!files) {
        ignore.add(node.uuid);
        continue;
      }
      for (const [file, sum] of Object.entries(files)) {
        const sums = info.get(file);
        if (!sums) continue;
        sums.set(sum, (sums.get(sum) ?? new Set()).add(node.uuid));
      }
    }
    const names = (uuids: Iterable<string>) =>
      [...uuids]
        .map((u) => this.nodeName(u))
        .sort()
        .join(", ");
    for (const [file, sums] of info) {
      const withFile = new Set([...sums.values()].flatMap((s) => [...s]).filter((u) => !ignore.has(u)));
      const expected = nodes.map((n) => n.uuid).filter((u) => !ignore.has(u));
      const missing = expected.filter((u) => !withFile.has(u));
      this.report.errorIf(missing.length > 0, "ECLUSTERFILECHECK", null, () => `File ${file} is missing from node(s) ${names(missing)}`);
      const variants = [...sums.entries()]
        .sort((a, b) => a[0].localeCompare(b[0]))
        .map(([, us], idx) => `variant ${idx + 1} on ${names(us)}`);
      this.report.errorIf(
        sums.size > 1,
        "ECLUSTERFILECHECK",
        null,
        () => `File ${file} found with ${sums.size} different checksums (${variants.join("; ")})`,
      );
    }
  }

  private verifyNode(node: NodeObject, img: NodeImage, res: NodeVerifyResult, start: number, end: number): void {
    const r = this.report;
    const version = res.version;
    r.errorIf(!version, "ENODERPC", node.name, "connection to node returned invalid data");
    if (!version) return;
    r.errorIf(
      version[0] !== PROTOCOL_VERSION,
      "ENODEVERSION",
      node.name,
      () => `incompatible protocol versions: master ${PROTOCOL_VERSION}, node ${version[0]}`,
    );
    if (version[0] !== PROTOCOL_VERSION) return;
    r.errorIf(
      version[1] !== SOFTWARE_VERSION,
      "ENODEVERSION",
      node.name,
      () => `software version mismatch: master ${SOFTWARE_VERSION}, node ${version[1]}`,
      "WARNING",
    );
    if (node.vm_capable)
      for (const [hv, problem] of Object.entries(res.hypervisor ?? {}))
        r.errorIf(problem !== null, "ENODEHV", node.name, () => `hypervisor ${hv} verify failure: '${problem}'`);
    const setup = res.nodesetup ?? ["Missing NODESETUP results"];
    r.errorIf(setup.length > 0, "ENODESETUP", node.name, () => `node setup error: ${setup.join("; ")}`);

    // Clock skew against the window in which the node answered.
    if (!res.time) r.error("ENODETIME", node.name, "Node returned invalid time");
    else {
      const t = res.time[0] + res.time[1] / 1e6;
      const diff = t < start - NODE_MAX_CLOCK_SKEW ? Math.abs(start - t) : t > end + NODE_MAX_CLOCK_SKEW ? Math.abs(t - end) : null;
      r.errorIf(
        diff !== null,
        "ENODETIME",
        node.name,
        () => `Node time diverges by at least ${(diff ?? 0).toFixed(1)}s from master node time`,
      );
    }

    if (node.master_candidate || node.master_capable)
      for (const problem of res.oob_paths ?? []) r.error("ENODEOOBPATH", node.name, problem);

    for (const [template, code] of [
      ["file", "ENODEFILESTORAGEPATHUNUSABLE"],
      ["sharedfile", "ENODESHAREDFILESTORAGEPATHUNUSABLE"],
    ] as const) {
      const problem = res.file_storage_paths?.[template];
      r.errorIf(problem !== undefined, code, node.name, () => `The configured ${template} storage path is unusable: ${problem}`);
    }

    if (!img.vmCapable) return;
    const vols = res.file_volumes;
    if (vols) {
      const found = new Set<string>();
      let ok = true;
      for (const [template, v] of Object.entries(vols)) {
        if (typeof v === "string") {
          r.error("ENODELVM", node.name, `cannot list the ${template} storage directory: ${v}`);
          ok = false;
        } else v.forEach((p) => found.add(p));
      }
      img.volumes = ok ? found : null;
    }
    const ilist = res.instancelist;
    r.errorIf(!Array.isArray(ilist), "ENODEHV", node.name, () => `rpc call to node failed (instancelist): ${String(ilist)}`);
    if (Array.isArray(ilist)) img.instances = ilist;
    else img.hypFail = true;
    const hv = res.hvinfo;
    r.errorIf(!hv, "ENODEHV", node.name, "rpc call to node failed (hvinfo)");
    if (hv) {
      img.mfree = Math.trunc(hv.memory_free);
      img.memOk = true;
    }

    // Instances running here that should not (Ganeti checks this per node:
    // the wrong instance may belong to another group).
    const primaries = new Set(img.pinst.map((u) => this.data.instances[u]?.name));
    for (const name of img.instances.filter((n) => !primaries.has(n))) {
      const known = this.cfg.findInstance(name);
      if (known && known.name === name) r.error("EINSTANCEWRONGNODE", name, `instance should not run on node ${node.name}`);
      else r.error("ENODEORPHANINSTANCE", node.name, `node is running unknown instance ${name}`);
    }
    this.verifyExclusionTags(node, img);
  }

  private verifyExclusionTags(node: NodeObject, img: NodeImage): void {
    const prefixes = this.data.cluster.tags.filter((t) => t.startsWith(EX_TAGS_PREFIX)).map((t) => t.slice(EX_TAGS_PREFIX.length));
    if (prefixes.length === 0) return;
    const seen = new Set<string>();
    const conflicts = new Set<string>();
    for (const uuid of img.pinst) {
      const tags = (this.data.instances[uuid]?.tags ?? []).filter((t) => prefixes.some((p) => t.startsWith(p)));
      for (const t of new Set(tags)) (seen.has(t) ? conflicts : seen).add(t);
    }
    this.report.errorIf(
      conflicts.size > 0,
      "EEXTAGS",
      node.name,
      () => `Tags where there is more than one instance: [${[...conflicts].map((t) => `'${t}'`).join(", ")}]`,
      "WARNING",
    );
  }

  /** Image paths of an instance's file disks, by node uuid. */
  private fileVolumesByNode(inst: InstanceObject): Map<string, string[]> {
    const out = new Map<string, string[]>();
    for (const d of this.disksOf(inst)) {
      if (!diskTemplateInfo(d.dev_type)?.fileBased) continue;
      const p = d.logical_id[1];
      if (typeof p !== "string") continue;
      for (const n of d.nodes.length ? d.nodes : [inst.primary_node]) out.set(n, [...(out.get(n) ?? []), p]);
    }
    return out;
  }

  /**
   * Ganeti's _CollectDiskInfo for drbd disks: each node holding one is asked
   * for its own side (blockdev_getmirrorstatus with that node's dynamic
   * params). Offline nodes are not asked; a failed call is ENODERPC.
   */
  private async collectDrbdStatus(instances: InstanceObject[]): Promise<void> {
    const perNode = new Map<string, Array<[InstanceObject, number, DiskObject]>>();
    for (const inst of instances)
      this.disksOf(inst).forEach((d, idx) => {
        if (d.dev_type !== "drbd") return;
        for (const n of d.nodes) perNode.set(n, [...(perNode.get(n) ?? []), [inst, idx, d]]);
      });
    await Promise.all(
      [...perNode].map(async ([nuuid, entries]) => {
        const node = this.data.nodes[nuuid];
        if (!node || node.offline) return;
        let res: Array<BlockDevStatus | null>;
        try {
          res = await this.ctx.rpc.call(node, "blockdev_getmirrorstatus", { disks: entries.map(([, , d]) => this.cfg.rpcDisk(d, nuuid)) });
        } catch (err) {
          const msg = err instanceof Error ? err.message : String(err);
          this.report.error("ENODERPC", node.name, `while getting disk information: ${msg}`);
          res = entries.map(() => null);
          entries.forEach(([inst, idx]) => this.drbdStatus.set(inst.uuid, [...(this.drbdStatus.get(inst.uuid) ?? []), [nuuid, idx, msg]]));
          return;
        }
        entries.forEach(([inst, idx], i) =>
          this.drbdStatus.set(inst.uuid, [
            ...(this.drbdStatus.get(inst.uuid) ?? []),
            [nuuid, idx, res[i] ?? `Can't find device disk/${idx}`],
          ]),
        );
      }),
    );
  }

  /** Ganeti's disk checks of _VerifyInstance: a drbd disk's state unknown on an online node, or degraded. */
  private verifyDrbdDisks(inst: InstanceObject): void {
    if (!inst.disks_active) return;
    const rows = [...(this.drbdStatus.get(inst.uuid) ?? [])].sort(
      (a, b) => a[1] - b[1] || this.nodeName(a[0]).localeCompare(this.nodeName(b[0])),
    );
    for (const [nuuid, idx, st] of rows) {
      if (typeof st === "string") {
        this.report.error("EINSTANCEFAULTYDISK", inst.name, `couldn't retrieve status for disk/${idx} on ${this.nodeName(nuuid)}: ${st}`);
        continue;
      }
      if (!st.is_degraded) continue;
      // Ganeti's LDS_OKAY and LDS_SYNC make it a warning (the mirror is resyncing or waits for its peer).
      const level = st.ldisk_status === 1 || st.ldisk_status === 2 ? "WARNING" : "ERROR";
      this.report.error(
        "EINSTANCEFAULTYDISK",
        inst.name,
        `disk/${idx} on ${this.nodeName(nuuid)} is degraded; local disk state is '${LDS_NAMES[st.ldisk_status]}'`,
        level,
      );
    }
  }

  private verifyInstance(inst: InstanceObject, images: Map<string, NodeImage>): void {
    const r = this.report;
    const pimg = images.get(inst.primary_node)!;
    const group = this.cfg.group(this.groupUuid);
    const violations = ipolicyInstanceViolations(this.cfg.filledIpolicy(group), inst, this.disksOf(inst), this.cfg.filledBeparams(inst));
    r.errorIf(violations.length > 0, "EINSTANCEPOLICY", inst.name, () => violations.join(", "), "WARNING");

    for (const [nuuid, vols] of this.fileVolumesByNode(inst)) {
      const img = images.get(nuuid);
      if (!img || img.offline || img.rpcFail || img.volumes === null) continue;
      for (const v of vols)
        r.errorIf(!img.volumes.has(v), "EINSTANCEMISSINGDISK", inst.name, () => `volume ${v} missing on node ${this.nodeName(nuuid)}`);
    }

    if (inst.admin_state === "up") {
      r.errorIf(
        !pimg.instances.includes(inst.name) && !pimg.offline,
        "EINSTANCEDOWN",
        inst.name,
        () => `instance not running on its primary node ${this.nodeName(inst.primary_node)}`,
      );
      r.errorIf(
        pimg.offline,
        "EINSTANCEBADNODE",
        inst.name,
        () => `instance is marked as running and lives on offline node ${this.nodeName(inst.primary_node)}`,
      );
    }
    this.verifyDrbdDisks(inst);
    r.errorIf(
      pimg.rpcFail && !pimg.offline,
      "ENODERPC",
      this.nodeName(inst.primary_node),
      () => `instance ${inst.name}, connection to primary node failed`,
    );
    r.errorIf(
      inst.secondary_nodes.length > 1,
      "EINSTANCELAYOUT",
      inst.name,
      () => `instance has multiple secondary nodes: ${inst.secondary_nodes.join(", ")}`,
      "WARNING",
    );
    if (templateMirror(inst.disk_template) === "internal") {
      const groups = new Map<string, string[]>();
      for (const n of [inst.primary_node, ...inst.secondary_nodes]) {
        const g = this.data.nodes[n]?.group ?? "";
        groups.set(g, [...(groups.get(g) ?? []), this.nodeName(n)]);
      }
      const pretty = [...groups.entries()]
        .sort((a, b) => Number(b[1].includes(this.nodeName(inst.primary_node))) - Number(a[1].includes(this.nodeName(inst.primary_node))))
        .map(([g, ns]) => `${ns.join(", ")} (group ${this.data.nodegroups[g]?.name ?? g})`);
      r.errorIf(
        groups.size > 1,
        "EINSTANCESPLITGROUPS",
        inst.name,
        () => `instance has primary and secondary nodes in different groups: ${pretty.join(", ")}`,
        "WARNING",
      );
    }
    const offlineSecondaries: string[] = [];
    for (const s of inst.secondary_nodes) {
      const simg = images.get(s)!;
      r.errorIf(
        simg.rpcFail && !simg.offline,
        "ENODERPC",
        this.nodeName(s),
        () => `instance ${inst.name}, connection to secondary node failed`,
      );
      if (simg.offline) offlineSecondaries.push(this.nodeName(s));
    }
    r.errorIf(
      offlineSecondaries.length > 0,
      "EINSTANCEBADNODE",
      inst.name,
      () => `instance has offline secondary node(s) ${offlineSecondaries.join(", ")}`,
    );
    for (const n of [inst.primary_node, ...inst.secondary_nodes]) {
      const img = images.get(n)!;
      r.errorIf(img.ghost, "EINSTANCEBADNODE", inst.name, () => `instance lives on ghost node ${this.nodeName(n)}`);
      r.errorIf(!img.vmCapable, "EINSTANCEBADNODE", inst.name, () => `instance lives on non-vm_capable node ${this.nodeName(n)}`);
    }
  }

  /**
   * Disk images no instance owns (Ganeti's orphan LVs, for file storage): a
   * file is an orphan when no disk of the whole cluster names it. The shared
   * directory is the same on every node, so each image is reported once.
   */
  private verifyOrphanVolumes(images: Map<string, NodeImage>): void {
    const known = new Set<string>();
    for (const d of Object.values(this.data.disks)) if (typeof d.logical_id[1] === "string") known.add(d.logical_id[1]);
    const reported = new Set<string>();
    for (const img of [...images.values()].sort((a, b) => a.name.localeCompare(b.name))) {
      if (img.offline || img.rpcFail || img.volumes === null || this.data.nodes[img.uuid]?.group !== this.groupUuid) continue;
      for (const v of [...img.volumes].sort()) {
        if (known.has(v) || reported.has(v)) continue;
        reported.add(v);
        this.report.error("ENODEORPHANLV", img.name, `volume ${v} is unknown`, "WARNING");
      }
    }
  }

  /**
   * N+1: should one node fail, can its instances start elsewhere? As Ganeti:
   * each secondary node must hold the minimum memory of the auto-balanced
   * instances whose primary it mirrors. ganeti-ts also checks externally
   * mirrored (sharedfile, diskless) instances, which fail over to any node:
   * they must fit on the group node with the most free memory.
   */
  private verifyNPlusOneMemory(images: Map<string, NodeImage>, instances: InstanceObject[]): void {
    const minmem = (uuids: string[]) =>
      uuids.reduce((sum, u) => {
        const inst = this.data.instances[u];
        if (!inst) return sum;
        const be = this.cfg.filledBeparams(inst);
        return be["auto_balance"] ? sum + Number(be["minmem"] ?? 0) : sum;
      }, 0);
    const eligible = [...images.values()]
      .filter((img) => !img.offline && img.memOk && this.data.nodes[img.uuid]?.group === this.groupUuid)
      .sort((a, b) => a.name.localeCompare(b.name));
    for (const img of eligible) {
      for (const [prinode, uuids] of img.sbp) {
        const needed = minmem(uuids);
        this.report.errorIf(
          img.mfree < needed,
          "ENODEN1",
          img.name,
          () =>
            `not enough memory to accomodate instance failovers should node ${this.nodeName(prinode)} fail (${needed}MiB needed, ${img.mfree}MiB available)`,
        );
      }
    }
    const extByPrimary = new Map<string, string[]>();
    for (const inst of instances) {
      if (inst.secondary_nodes.length || templateMirror(inst.disk_template) !== "external") continue;
      extByPrimary.set(inst.primary_node, [...(extByPrimary.get(inst.primary_node) ?? []), inst.uuid]);
    }
    for (const [prinode, uuids] of extByPrimary) {
      const targets = eligible.filter((img) => img.uuid !== prinode && img.vmCapable && !this.data.nodes[img.uuid]?.drained);
      if (targets.length === 0) continue;
      const best = targets.reduce((a, b) => (b.mfree > a.mfree ? b : a));
      const needed = minmem(uuids);
      this.report.errorIf(
        best.mfree < needed,
        "ENODEN1",
        best.name,
        () =>
          `not enough memory to accomodate instance failovers should node ${this.nodeName(prinode)} fail (${needed}MiB needed, ${best.mfree}MiB available)`,
      );
    }
  }
}
