// OP_NODE_EVACUATE: move instances off a node by submitting one job per
// instance: the iallocator's plan (node-evacuate request) or, with
// remote_node, OP_INSTANCE_REPLACE_DISKS to the new secondary. Result:
// {"jobs": [[true, id] | [false, error], ...]}.
import type { InstanceObject, NodeObject, OpNodeEvacuate } from "@ganeti-ts/schema";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import type { LockDecl, LockSet, OpcodeInput, SubmitResult } from "../base.js";
import { LogicalUnit } from "../base.js";
import { nodeEvacuateRequest, runAllocator } from "../iallocator.js";
import { commaJoin, logInfo, logWarning, niceSort, nodePrimaryInstances, nodeSecondaryInstances } from "../common/node.js";

export class LUNodeEvacuate extends LogicalUnit<OpNodeEvacuate> {
  private node!: NodeObject;
  private remote: NodeObject | null = null;
  private iallocator: string | null = null;
  private instances: InstanceObject[] = [];

  override checkArguments(): void {
    // Ganeti's CheckIAllocatorOrNode.
    if (this.op.remote_node && this.op.iallocator) throw new OpPrereqError("Do not specify both, iallocator and node", "wrong_input");
    this.iallocator = this.op.iallocator;
    if ((!this.op.remote_node && !this.op.iallocator) || this.op.iallocator === ".") {
      const def = this.data.cluster.default_iallocator;
      if (!def)
        throw new OpPrereqError(
          "No iallocator or node given and no cluster-wide default iallocator found; please specify either an iallocator or a node, or set a cluster-wide default iallocator",
          "wrong_input",
        );
      this.iallocator = def;
    }
  }

  expandNames(): LockDecl {
    this.node = this.cfg.expandNode(this.op.node_uuid ?? this.op.node_name);
    if (this.op.remote_node) {
      this.remote = this.cfg.expandNode(this.op.remote_node_uuid ?? this.op.remote_node);
      if (this.remote.uuid === this.node.uuid) throw new OpPrereqError("Can not use evacuated node as a new secondary node", "wrong_input");
      if (this.op.mode !== "secondary-only")
        throw new OpPrereqError("Without the use of an iallocator only secondary instances can be evacuated", "wrong_input");
    }
    this.determineInstances(); // fails early for mode "all"
    const nodes = this.lockNodes();
    return {
      nodegroup: { names: [...new Set(nodes.map((u) => this.cfg.node(u).group))], shared: true },
      instance: { names: [], shared: true },
      node: { names: nodes, shared: true },
    };
  }

  override declareLocks(level: string): LockSet | undefined {
    if (level === "instance") return { names: this.determineInstances().map((i) => i.uuid), shared: true };
    return undefined;
  }

  private lockNodes(): string[] {
    if (this.remote) return [this.node.uuid, this.remote.uuid];
    return [
      this.node.uuid,
      ...this.cfg
        .groupNodes(this.node.group)
        .map((n) => n.uuid)
        .filter((u) => u !== this.node.uuid),
    ];
  }

  private determineInstances(): InstanceObject[] {
    if (this.op.mode === "primary-only") return nodePrimaryInstances(this.cfg, this.node.uuid);
    if (this.op.mode === "secondary-only") return nodeSecondaryInstances(this.cfg, this.node.uuid);
    throw new OpPrereqError(
      "Due to an issue with the iallocator interface it is not possible to evacuate all instances at once; specify explicitly whether to evacuate primary or secondary instances",
      "wrong_input",
    );
  }

  checkPrereq(): void {
    const heldNodes = this.ctx.held("node");
    const need = this.lockNodes();
    if (heldNodes.length > 0 && need.some((u) => !heldNodes.includes(u)))
      throw new OpPrereqError(
        `Nodes in same group as '${this.node.name}' changed since locks were acquired, current nodes are are '${commaJoin(need)}', used to be '${commaJoin(heldNodes)}'; retry the operation`,
        "wrong_state",
      );
    this.instances = this.determineInstances();
    const names = this.instances.map((i) => i.name);
    const held = this.ctx.held("instance").map((u) => this.data.instances[u]?.name ?? u);
    const current = this.instances.map((i) => i.uuid);
    const heldUuids = this.ctx.held("instance");
    if (current.length !== heldUuids.length || current.some((u) => !heldUuids.includes(u)))
      throw new OpExecError(
        `Instances on node '${this.node.name}' changed since locks were acquired, current instances are '${commaJoin(names)}', used to be '${commaJoin(held)}'; retry the operation`,
      );
    if (names.length > 0) logInfo(this.ctx, `Evacuating instances from node '${this.node.name}': ${commaJoin(niceSort(names))}`);
    else logInfo(this.ctx, `No instances to evacuate from node '${this.node.name}'`);
    if (this.remote)
      for (const i of this.instances)
        if (i.primary_node === this.remote.uuid)
          throw new OpPrereqError(
            `Node ${this.remote.name} is the primary node of instance ${i.name}, cannot use it as secondary`,
            "wrong_input",
          );
  }

  async exec(): Promise<{ jobs: SubmitResult[] }> {
    let jobs: OpcodeInput[][] = [];
    if (this.instances.length === 0) {
      jobs = [];
    } else if (this.iallocator) {
      const req = { ...nodeEvacuateRequest(this.instances, this.op.mode), ignore_soft_errors: this.op.ignore_soft_errors };
      const result = await runAllocator(this.ctx, this.iallocator, req, {
        prefix: "Can't compute node evacuation using iallocator",
      });
      jobs = loadNodeEvacResult(this.ctx, result, this.op.early_release);
    } else if (this.remote) {
      jobs = this.instances.map((i) => [
        {
          OP_ID: "OP_INSTANCE_REPLACE_DISKS",
          instance_name: i.name,
          remote_node: this.remote!.name,
          disks: [],
          mode: "replace_new_secondary",
          early_release: this.op.early_release,
        },
      ]);
    }
    return { jobs: jobs.length ? await this.ctx.submitJobs(jobs) : [] };
  }
}

/** Ganeti's LoadNodeEvacResult: [moved, failed, jobs] → job opcode lists; any failure aborts. */
function loadNodeEvacResult(ctx: import("../base.js").LuContext, result: unknown, earlyRelease: boolean): OpcodeInput[][] {
  if (!Array.isArray(result) || result.length !== 3) throw new OpExecError("Invalid node-evacuate result from the iallocator");
  const [moved, failed, jobs] = result as [Array<[string, string, string[]]>, Array<[string, string]>, unknown[][]];
  if (failed.length > 0) {
    const reason = commaJoin(failed.map(([name, why]) => `${name} (${why})`));
    logWarning(ctx, `Unable to evacuate instances ${reason}`);
    throw new OpExecError(`Unable to evacuate instances ${reason}`);
  }
  if (moved.length > 0)
    logInfo(ctx, `Instances to be moved: ${commaJoin(moved.map(([name, , nodes]) => `${name} (to ${commaJoin(nodes)})`))}`);
  return jobs.map((ops) =>
    ops.map((o) => {
      const op = { ...(o as OpcodeInput) };
      if (op.OP_ID === "OP_INSTANCE_REPLACE_DISKS") op["early_release"] = earlyRelease;
      return op;
    }),
  );
}
