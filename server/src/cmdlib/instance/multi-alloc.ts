// OP_INSTANCE_MULTI_ALLOC (Ganeti's LUInstanceMultiAlloc): place every
// instance with one multi-allocate request (unless all give nodes), then
// submit one OP_INSTANCE_CREATE job per allocatable instance.
import { templateMirror, type OpInstanceMultiAlloc } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl, type OpcodeInput } from "../base.js";
import { computeDiskSpecs } from "../common/disk-specs.js";
import { filledBeparams, forceBeparams, upgradeBeparams } from "../common/instance-params.js";
import { allocatorName, multiAllocateRequest, runAllocator, type AllocateSpec } from "../iallocator.js";

type CreateDict = Record<string, unknown>;

export class LUInstanceMultiAlloc extends LogicalUnit<OpInstanceMultiAlloc> {
  private insts: CreateDict[] = [];
  private allocator: string | null = null;
  private allocatable: Array<[string, string[]]> = [];
  private failed: string[] = [];

  override checkArguments(): void {
    this.insts = (this.op.instances as unknown[]).map((i) => {
      if (typeof i !== "object" || i === null || Array.isArray(i))
        throw new OpPrereqError("Instances must be instance-create opcode dicts", "wrong_input");
      return i as CreateDict;
    });
    const hasNodes: boolean[] = [];
    for (const inst of this.insts) {
      if (inst["iallocator"] !== undefined && inst["iallocator"] !== null)
        throw new OpPrereqError("iallocator are not allowed to be set on instance objects", "wrong_input");
      hasNodes.push(Boolean(inst["pnode"]));
      if (templateMirror(String(inst["disk_template"])) === "internal") hasNodes.push(Boolean(inst["snode"]));
    }
    const any = hasNodes.some(Boolean);
    if (hasNodes.every(Boolean) !== any)
      throw new OpPrereqError("There are instance objects providing pnode/snode while others do not", "wrong_input");
    const names = this.insts.map((i) => String(i["instance_name"]));
    const dups = [...new Set(names.filter((n, i) => names.indexOf(n) !== i))];
    if (dups.length) throw new OpPrereqError(`There are duplicate instance names: ${dups.join(", ")}`, "wrong_input");
    if (!any && this.insts.length) this.allocator = "";
  }

  expandNames(): LockDecl {
    if (this.allocator !== null) {
      const name = allocatorName(this.cfg, this.op.iallocator);
      if (!name)
        throw new OpPrereqError(
          "No iallocator or nodes on the instances given and no cluster-wide default iallocator found; please specify either an iallocator or nodes on the instances or set a cluster-wide default iallocator",
          "wrong_input",
        );
      this.allocator = name;
      return { node: { names: "all", shared: true } };
    }
    return {};
  }

  private spec(inst: CreateDict): AllocateSpec {
    const cfg = this.cfg;
    const be = filledBeparams(forceBeparams(upgradeBeparams((inst["beparams"] as Record<string, unknown>) ?? {})), cfg);
    const template = String(inst["disk_template"] ?? cfg.cluster.enabled_disk_templates[0] ?? "diskless");
    const disks = computeDiskSpecs((inst["disks"] as Array<Record<string, unknown>>) ?? []);
    const nics = ((inst["nics"] as Array<Record<string, unknown>>) ?? []).map((n) => ({
      mac: String(n["mac"] ?? "auto"),
      ip: (n["ip"] as string) ?? null,
      mode: n["mode"] ?? null,
      link: n["link"] ?? null,
      network: n["network"] ? (cfg.findNetwork(String(n["network"]))?.uuid ?? String(n["network"])) : null,
    }));
    // Ganeti builds each allocation request from the opcode as given and
    // validates it: an instance without a hypervisor fails the job (no default).
    const hv = inst["hypervisor"];
    if (typeof hv !== "string") {
      const pyType =
        hv === undefined || hv === null
          ? "NoneType"
          : typeof hv === "number"
            ? Number.isInteger(hv)
              ? "int"
              : "float"
            : typeof hv === "boolean"
              ? "bool"
              : Array.isArray(hv)
                ? "list"
                : "dict";
      const pyValue = hv === undefined || hv === null ? "None" : JSON.stringify(hv);
      throw new OpPrereqError(`Request parameter 'hypervisor' has invalid type <class '${pyType}'>/value ${pyValue}`, "wrong_input");
    }
    return {
      name: String(inst["instance_name"]),
      disk_template: template,
      tags: (inst["tags"] as string[]) ?? [],
      os: String(inst["os_type"] ?? ""),
      vcpus: Number(be["vcpus"]),
      memory: Number(be["maxmem"]),
      spindle_use: Number(be["spindle_use"]),
      disks: disks.map((d) => ({ size: d.size, mode: d.mode, spindles: d.spindles })),
      nics,
      hypervisor: hv,
    };
  }

  async checkPrereq(): Promise<void> {
    if (!this.allocator) return;
    const specs = this.insts.map((i) => this.spec(i));
    const res = (await runAllocator(this.ctx, this.allocator, multiAllocateRequest(specs))) as [unknown[], unknown[]];
    const [ok, failed] = Array.isArray(res) ? res : [[], []];
    this.allocatable = (ok as Array<[string, string[]]>).map(([n, nodes]) => [String(n), nodes.map(String)]);
    // Ganeti's result lists failed names; accept [name, reason] pairs too.
    this.failed = (failed ?? []).map((f) => (Array.isArray(f) ? String(f[0]) : String(f)));
  }

  // Ganeti's dry run answers like a real run, with no jobs submitted.
  override dryRunResult(): unknown {
    return { ...this.partial(), jobs: [] };
  }

  private partial(): { allocatable: string[]; failed: string[] } {
    if (!this.allocator) return { allocatable: this.insts.map((i) => String(i["instance_name"])), failed: [] };
    return { allocatable: this.allocatable.map(([n]) => n), failed: this.failed };
  }

  async exec(): Promise<unknown> {
    const jobs: OpcodeInput[][] = [];
    const byName = new Map(this.insts.map((i) => [String(i["instance_name"]), i]));
    const build = (inst: CreateDict, extra: CreateDict): OpcodeInput => {
      const op: OpcodeInput = { ...inst, ...extra, OP_ID: "OP_INSTANCE_CREATE" };
      op["comment"] = "Submitted by OP_INSTANCE_MULTI_ALLOC";
      return op;
    };
    if (this.allocator) {
      for (const [name, nodes] of this.allocatable) {
        const inst = byName.get(name);
        if (!inst) continue;
        const pnode = this.cfg.expandNode(nodes[0]!);
        const extra: CreateDict = { pnode: pnode.name, pnode_uuid: pnode.uuid, iallocator: null };
        if (nodes[1]) {
          const snode = this.cfg.expandNode(nodes[1]);
          extra["snode"] = snode.name;
          extra["snode_uuid"] = snode.uuid;
        }
        jobs.push([build(inst, extra)]);
      }
    } else {
      for (const inst of this.insts) jobs.push([build(inst, {})]);
    }
    const submitted = jobs.length ? await this.ctx.submitJobs(jobs) : [];
    return { ...this.partial(), jobs: submitted };
  }
}
