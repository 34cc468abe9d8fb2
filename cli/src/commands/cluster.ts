import type { Command } from "commander";
import type { ClusterModifyParams } from "@ganeti-ts/sdk";
import { CliError } from "../errors.js";
import { json, renderInfo } from "../output.js";
import { addTagVerbs, jobCall, jobOptions, parseHvSpec, parseKeyVal, printObject, runJob, type Ctx, type JobFlags } from "./common.js";

/**
 * What replicates `drbd` disks here. The template keeps Ganeti's name (its
 * clients and htools know a two-node mirror only so), but the engine is not
 * the DRBD kernel driver: said plainly next to the drbd usermode helper.
 */
export const DRBD_ENGINE =
  "qemu-storage-daemon on each node, a synchronous user-space mirror from primary to secondary over NBD with TLS (not the DRBD kernel driver)";

/** The info dict with the replication engine after the drbd helper (text output only; the RAPI's dict is Ganeti's). */
function withDrbdEngine(info: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(info)) {
    out[k] = v;
    if (k === "drbd_usermode_helper") out["drbd_replication_engine"] = DRBD_ENGINE;
  }
  if (!("drbd_replication_engine" in out)) out["drbd_replication_engine"] = DRBD_ENGINE;
  return out;
}

/** `gnt cluster ...` (RAPI verbs). `cluster init|destroy` come from commands/local.ts. */
export function registerClusterCommands(program: Command, ctx: Ctx): Command {
  const cluster = program.command("cluster").description("cluster-wide operations (gnt-cluster)");

  cluster
    .command("info")
    .description("show the cluster configuration")
    .action(async () => {
      const info = await ctx.client().cluster.info();
      printObject(ctx, info, (o) => renderInfo(withDrbdEngine(o)));
    });

  cluster
    .command("version")
    .description("show RAPI and software versions")
    .action(async () => {
      const c = ctx.client();
      const [rapi, info] = await Promise.all([c.cluster.version(), c.cluster.info()]);
      const v = { rapi_version: rapi, software_version: info.software_version, protocol_version: info.protocol_version };
      ctx.io.out(ctx.json() ? json(v) : renderInfo(v));
    });

  cluster
    .command("features")
    .description("list RAPI feature strings")
    .action(async () => {
      const f = await ctx.client().cluster.features();
      ctx.io.out(ctx.json() ? json(f) : [...f].sort().join("\n"));
    });

  cluster
    .command("getmaster")
    .description("print the master node")
    .action(async () => {
      const info = await ctx.client().cluster.info();
      ctx.io.out(ctx.json() ? json(info.master) : info.master);
    });

  jobOptions(
    cluster
      .command("modify")
      .description("change cluster parameters")
      .option("--candidate-pool-size <n>", "master candidates wanted")
      .option("--max-running-jobs <n>", "concurrently running jobs")
      .option("--enabled-hypervisors <list>", "comma-separated hypervisors (first = default)")
      .option("--enabled-disk-templates <list>", "comma-separated disk templates")
      .option("-B, --backend-parameters <k=v,...>", "default backend parameters")
      .option("-H, --hypervisor-parameters <hv:k=v,...>", "hypervisor parameters")
      .option("-N, --nic-parameters <k=v,...>", "default NIC parameters")
      .option("--default-iallocator <name>", "default allocator")
      .option("--mac-prefix <prefix>", "MAC prefix")
      .option("--vg-name <vg>", 'volume group of plain and drbd disks ("" unsets it)')
      .option(
        "--drbd-usermode-helper <path>",
        "Ganeti's DRBD helper setting (required to enable drbd; not used by the replication engine)",
      ),
    false,
  ).action(async (o: JobFlags & Record<string, string | undefined>) => {
    const p: ClusterModifyParams = {};
    if (o.candidatePoolSize) p.candidate_pool_size = Number(o.candidatePoolSize);
    if (o.maxRunningJobs) p.max_running_jobs = Number(o.maxRunningJobs);
    if (o.enabledHypervisors) p.enabled_hypervisors = o.enabledHypervisors.split(",") as ClusterModifyParams["enabled_hypervisors"];
    if (o.enabledDiskTemplates)
      p.enabled_disk_templates = o.enabledDiskTemplates.split(",") as ClusterModifyParams["enabled_disk_templates"];
    if (o.backendParameters) p.beparams = parseKeyVal(o.backendParameters);
    if (o.hypervisorParameters) {
      const [hv, params] = parseHvSpec(o.hypervisorParameters);
      p.hvparams = { [hv]: params };
    }
    if (o.nicParameters) p.nicparams = parseKeyVal(o.nicParameters);
    if (o.defaultIallocator) p.default_iallocator = o.defaultIallocator;
    if (o.macPrefix) p.mac_prefix = o.macPrefix;
    if (o.vgName !== undefined) p.vg_name = o.vgName;
    if (o.drbdUsermodeHelper !== undefined) p.drbd_helper = o.drbdUsermodeHelper;
    if (Object.keys(p).length === 0) throw new CliError("nothing to modify (see gnt cluster modify --help)");
    await runJob(ctx, ctx.client().cluster.modify(p, jobCall(o)), o);
    // A larger pool promotes nodes to candidates (a smaller one demotes none, as in Ganeti).
    if (p.candidate_pool_size !== undefined && !o.submit) await ctx.syncCandidates?.();
  });

  jobOptions(cluster.command("redist-conf").description("redistribute the configuration to all nodes"), false).action(
    async (o: JobFlags) => {
      await runJob(ctx, ctx.client().cluster.redistributeConfig(jobCall(o)), o);
    },
  );

  addTagVerbs(cluster, ctx, "cluster");
  return cluster;
}
