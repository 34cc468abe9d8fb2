// `gnt cluster verify`, `verify-disks`, `repair-disk-sizes`: Ganeti's
// gnt-cluster verbs, with its output (job log lines prefixed by the time as
// Python's time.ctime prints it, "Submitted jobs ...", "Waiting for job ...")
// and exit codes (1 when anything was found or a job failed).
import type { Command } from "commander";
import type { GroupVerifyDisksResult, JobIdListOnly } from "@ganeti-ts/sdk";
import { EXIT, ExitStatus } from "../errors.js";
import { ctime, type JobOutcome, type Opcode } from "../job-runner.js";
import { json } from "../output.js";
import { collect, type Ctx } from "./common.js";

interface VerifyFlags {
  errorCodes?: boolean;
  nplusoneMem?: boolean;
  skipNplusone?: boolean;
  ignoreErrors?: string[];
  nodeGroup?: string;
  verbose?: boolean;
  debugSimulateErrors?: boolean;
}

/** Run one opcode, printing its log as Ganeti's PollJob does; fails the command when the job does. */
async function runPrinted(ctx: Ctx, op: Opcode): Promise<unknown> {
  const jobs = ctx.jobs();
  const id = await jobs.submit(op);
  const out = await jobs.wait(id, (t, m) => ctx.io.out(`${ctime(t)} ${m}`));
  if (out.status !== "success") {
    ctx.io.err(`Job ${id} has failed: ${out.error ?? out.status}`);
    throw new ExitStatus(EXIT.FAILED);
  }
  return out.opresult[0];
}

/** Ganeti's JobExecutor.GetResults over already submitted jobs: [ok, result or error]. */
async function followJobs(ctx: Ctx, submitted: JobIdListOnly["jobs"]): Promise<[boolean, unknown][]> {
  const jobs = ctx.jobs();
  const ok = submitted.filter(([s]) => s).map(([, id]) => id);
  if (ok.length) ctx.io.out(`Submitted jobs ${ok.join(", ")}`);
  const results: [boolean, unknown][] = [];
  for (const [s, id] of submitted) {
    if (!s) {
      ctx.io.err(`Failed to submit job: ${String(id)}`);
      results.push([false, id]);
      continue;
    }
    ctx.io.out(`Waiting for job ${id} ...`);
    const out: JobOutcome = await jobs.wait(Number(id), (t, m) => ctx.io.out(`${ctime(t)} ${m}`));
    if (out.status === "success") results.push([true, out.opresult]);
    else {
      ctx.io.err(`Job ${id} has failed: ${out.error ?? out.status}`);
      results.push([false, out.error ?? out.status]);
    }
  }
  return results;
}

export function registerHealthCommands(cluster: Command, ctx: Ctx): void {
  cluster
    .command("verify")
    .description("verify the cluster: configuration, nodes, instances (gnt-cluster verify)")
    .option("--error-codes", "print problems as ERROR|WARNING:ECODE:type:item:message")
    .option("--no-nplusone-mem", "skip the N+1 memory redundancy check")
    .option("--skip-nplusone", "same as --no-nplusone-mem")
    .option("--ignore-errors <ecode>", "treat this error code as a warning (repeatable)", collect)
    .option("-g, --node-group <group>", "verify only this node group")
    .option("-v, --verbose", "report every node and instance checked")
    .option("--debug-simulate-errors", "report every check as failed (debugging)")
    .action(async (o: VerifyFlags) => {
      const skip = o.nplusoneMem === false || o.skipNplusone ? ["nplusone_mem"] : [];
      const res = (await runPrinted(ctx, {
        OP_ID: "OP_CLUSTER_VERIFY",
        verbose: Boolean(o.verbose),
        error_codes: Boolean(o.errorCodes),
        debug_simulate_errors: Boolean(o.debugSimulateErrors),
        skip_checks: skip,
        ignore_errors: o.ignoreErrors ?? [],
        group_name: o.nodeGroup ?? null,
      })) as JobIdListOnly;
      const results = await followJobs(ctx, res.jobs);
      const badJobs = results.filter(([ok]) => !ok).length;
      const badResults = results.filter(([ok, r]) => ok && !(Array.isArray(r) && r[0])).length;
      if (ctx.json()) ctx.io.out(json(results.map(([ok, r]) => ({ success: ok, result: r }))));
      if (badJobs > 0) ctx.io.out(`${badJobs} job(s) failed while verifying the cluster.`);
      if (badJobs + badResults > 0) throw new ExitStatus(EXIT.FAILED);
    });

  cluster
    .command("verify-disks")
    .description("check the instances' disks and activate those that should be (gnt-cluster verify-disks)")
    .option("-g, --node-group <group>", "only this node group")
    .action(async (o: { nodeGroup?: string }) => {
      const res = (await runPrinted(ctx, { OP_ID: "OP_CLUSTER_VERIFY_DISKS", group_name: o.nodeGroup ?? null })) as JobIdListOnly;
      let code: number = EXIT.OK;
      for (const [ok, result] of await followJobs(ctx, res.jobs)) {
        if (!ok) {
          ctx.io.out(`Job failed: ${String(result)}`);
          continue;
        }
        const [badNodes, instances, missing] = (result as [GroupVerifyDisksResult])[0];
        for (const [node, text] of Object.entries(badNodes)) {
          ctx.io.out(`Error gathering data on node ${node}: ${text.slice(-400)}`);
          code = EXIT.FAILED;
          ctx.io.out("You need to fix these nodes first before fixing instances");
        }
        for (const iname of instances) {
          if (iname in missing) continue;
          ctx.io.out(`Activating disks for instance '${iname}'`);
          try {
            await runPrinted(ctx, { OP_ID: "OP_INSTANCE_ACTIVATE_DISKS", instance_name: iname });
          } catch (err) {
            if (!(err instanceof ExitStatus)) throw err;
            ctx.io.err(`Error activating disks for instance ${iname}`);
            code = EXIT.FAILED;
          }
        }
        const missingNames = Object.keys(missing);
        if (missingNames.length) {
          for (const [iname, vols] of Object.entries(missing)) {
            if (vols.every(([node]) => node !== undefined && node in badNodes)) {
              ctx.io.out(`Instance ${iname} cannot be verified as it lives on broken nodes`);
              continue;
            }
            ctx.io.out(`Instance ${iname} has missing logical volumes:`);
            for (const [node, vol] of [...vols].sort()) {
              ctx.io.out(node !== undefined && node in badNodes ? `\tbroken node ${node} /dev/${vol}` : `\t${node} /dev/${vol}`);
            }
          }
          ctx.io.out("You need to replace or recreate disks for all the above instances if this message persists after fixing broken nodes.");
          code = EXIT.FAILED;
        } else if (instances.length === 0) ctx.io.out("No disks need to be activated.");
      }
      if (code !== EXIT.OK) throw new ExitStatus(code);
    });

  cluster
    .command("repair-disk-sizes")
    .description("correct the recorded sizes of the instances' disks (gnt-cluster repair-disk-sizes)")
    .argument("[instances...]", "only these instances")
    .action(async (instances: string[]) => {
      const res = await runPrinted(ctx, { OP_ID: "OP_CLUSTER_REPAIR_DISK_SIZES", instances });
      if (ctx.json()) ctx.io.out(json(res));
    });
}
