// OP_CLUSTER_VERIFY_CONFIG (Ganeti's LUClusterVerifyConfig): the configuration's
// own consistency, the cluster certificate, hypervisor parameters, and nodes
// and instances that point at groups or nodes that do not exist.
import { HYPERVISORS, type OpClusterVerifyConfig } from "@ganeti-ts/schema";
import { verifyConfigData } from "../../../config/verify.js";
import { LogicalUnit, LOCK_LEVELS, type LockDecl } from "../../base.js";
import { VerifyReporter } from "./reporter.js";

export class LUClusterVerifyConfig extends LogicalUnit<OpClusterVerifyConfig> {
  expandNames(): LockDecl {
    return Object.fromEntries(LOCK_LEVELS.map((l) => [l, { names: "all", shared: true }]));
  }

  checkPrereq(): void {}

  async exec(): Promise<boolean> {
    const report = new VerifyReporter(this.op, (m) => this.ctx.log(m));
    const data = this.data;

    this.ctx.log("* Verifying cluster config");
    for (const msg of verifyConfigData(data)) report.error("ECLUSTERCFG", null, msg);

    this.ctx.log("* Verifying cluster certificate files");
    await this.verifyCertificates(report);

    this.ctx.log("* Verifying hypervisor parameters");
    for (const hv of data.cluster.enabled_hypervisors) {
      report.errorIf(
        !(HYPERVISORS as readonly string[]).includes(hv),
        "ECLUSTERCFG",
        null,
        () => `hypervisor cluster parameters syntax check (source ${hv}): Unknown hypervisor '${hv}'`,
      );
    }

    this.ctx.log("* Verifying all nodes belong to an existing group");
    const dangling = Object.values(data.nodes)
      .filter((n) => !data.nodegroups[n.group])
      .sort((a, b) => a.name.localeCompare(b.name));
    const danglingUuids = new Set(dangling.map((n) => n.uuid));
    const danglingInstances = new Map<string, string[]>();
    const noNode: string[] = [];
    for (const inst of Object.values(data.instances).sort((a, b) => a.name.localeCompare(b.name))) {
      if (danglingUuids.has(inst.primary_node)) {
        danglingInstances.set(inst.primary_node, [...(danglingInstances.get(inst.primary_node) ?? []), inst.name]);
      } else if (!data.nodes[inst.primary_node]) noNode.push(inst.name);
    }
    report.errorIf(
      dangling.length > 0,
      "ECLUSTERDANGLINGNODES",
      null,
      () =>
        `the following nodes (and their instances) belong to a non existing group: ${dangling
          .map((n) => `${n.name} (${(danglingInstances.get(n.uuid) ?? []).join(", ")})`)
          .join(", ")}`,
    );
    report.errorIf(
      noNode.length > 0,
      "ECLUSTERDANGLINGINST",
      null,
      () => `the following instances have a non-existing primary-node: ${noNode.join(", ")}`,
    );
    return !report.bad;
  }

  /**
   * The cluster certificate as the master node's daemon holds it: expired,
   * expiring within 7 days (error) or 30 days (warning), unreadable.
   */
  private async verifyCertificates(report: VerifyReporter): Promise<void> {
    const master = this.data.nodes[this.data.cluster.master_node];
    if (!master) return; // reported as ECLUSTERCFG above
    let problems: [string, "ERROR" | "WARNING", string][];
    try {
      const res = await this.ctx.rpc.call(master, "node_verify", { checks: { certificates: true } });
      problems = res.certificates ?? [];
    } catch (err) {
      report.error("ECLUSTERCERT", null, `cannot verify the certificate files of the master node: ${(err as Error).message}`);
      return;
    }
    for (const [, level, msg] of problems) report.error("ECLUSTERCERT", null, msg, level);
  }
}
