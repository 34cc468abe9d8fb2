// `gnt cluster verify`, `verify-disks`, `repair-disk-sizes`: Ganeti's
// gnt-cluster verbs, with its output (job log lines prefixed by the time as
// Python's time.ctime prints it, "Submitted jobs ...", "Waiting for job ...")
// and exit codes (1 when anything was found or a job failed).
import type { Command } from "commander";
import type { GroupVerifyDisksResult, JobIdListOnly } from "@ganeti-ts/sdk";
import { CliError, EXIT, ExitStatus } from "../errors.js";
import { ctime, type Opcode } from "../job-runner.js";
import { json, renderTable } from "../output.js";
import { collect, followJobs, type Ctx } from "./common.js";

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

/** Ganeti's ParseTimespec: seconds, or a number with s, m, h, d or w. */
export function parseTimespec(spec: string): number {
  const m = /^(\d+)([smhdw]?)$/.exec(spec.trim());
  if (!m) throw new CliError(`Invalid time specification '${spec}'`);
  const mult = { "": 1, s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[m[2] as "" | "s" | "m" | "h" | "d" | "w"];
  return Number(m[1]) * mult;
}

function showWatcherPause(ctx: Ctx, until: unknown): void {
  if (typeof until !== "number" || until < Date.now() / 1000) ctx.io.out("The watcher is not paused.");
  else ctx.io.out(`The watcher is paused until ${ctime(until)}.`);
}

function masterOnly(ctx: Ctx): (method: string, args: unknown[]) => Promise<unknown> {
  const control = ctx.masterControl();
  // Ganeti's watcher and watcher pause run on the master only.
  if (!control) throw new CliError("This is not the master node (set GANETI_DATA_DIR to the master's data directory)", EXIT.FAILED);
  return control;
}

/** Ganeti's FormatResultError(status, verbose=True). */
const RS_TEXT: Record<number, string> = { 1: "(unknown)", 2: "(nodata)", 3: "(unavail)", 4: "(offline)" };

interface OobFlags {
  force?: boolean;
  ignoreStatus?: boolean;
  oobTimeout?: string;
  powerDelay?: string;
  headers?: boolean;
  separator?: string;
}

function printNodeTable(ctx: Ctx, rows: string[][], o: OobFlags): void {
  const text = renderTable([{ title: "Node" }, { title: "Status" }], rows, {
    headers: o.headers !== false,
    ...(o.separator !== undefined ? { separator: o.separator } : {}),
  });
  if (text) ctx.io.out(text);
}

/** `gnt node power on|off|cycle|status` and `gnt node health` (Ganeti's PowerNode and Health). */
export function registerOobCommands(node: Command, ctx: Ctx): void {
  const oobOpts = (c: Command) =>
    c
      .option("--oob-timeout <seconds>", "how long the out-of-band program may run", "60")
      .option("--no-headers", "do not print the header line")
      .option("--separator <sep>", "column separator");
  oobOpts(
    node
      .command("power")
      .description("power nodes on, off, cycle them, or show their power state, through their oob_program")
      .argument("<command>", "on | off | cycle | status")
      .argument("[nodes...]", "nodes (status: default all)")
      .option("-f, --force", "do not ask (gnt never asks)")
      .option("--ignore-status", "power off without first marking the node offline")
      .option("--power-delay <seconds>", "wait between powering on nodes", "2"),
  ).action(async (command: string, nodes: string[], o: OobFlags) => {
    if (!["on", "off", "cycle", "status"].includes(command)) {
      ctx.io.err(`power subcommand ${command} not supported.`);
      throw new ExitStatus(EXIT.FAILED);
    }
    const oobCommand = `power-${command}`;
    if (oobCommand !== "power-status" && nodes.length === 0) {
      ctx.io.err("Please provide at least one node for this command");
      throw new ExitStatus(EXIT.FAILED);
    }
    if (!o.ignoreStatus && oobCommand === "power-off")
      for (const n of nodes) await runQuiet(ctx, { OP_ID: "OP_NODE_SET_PARAMS", node_name: n, offline: true });
    const result = (await runQuiet(ctx, {
      OP_ID: "OP_OOB_COMMAND",
      node_names: nodes,
      command: oobCommand,
      ignore_status: Boolean(o.ignoreStatus),
      timeout: Number(o.oobTimeout ?? 60),
      power_delay: Number(o.powerDelay ?? 2),
    })) as [[number, string], [number, unknown]][];
    let errs = 0;
    const rows = result.map(([[, name], [status, payload]]) => {
      if (status !== 0) {
        errs++;
        return [name, RS_TEXT[status] ?? "(unknown)"];
      }
      if (oobCommand === "power-status") return [name, (payload as { powered?: boolean }).powered ? "powered" : "unpowered"];
      return [name, "invoked"];
    });
    if (ctx.json()) ctx.io.out(json(result));
    else printNodeTable(ctx, rows, o);
    if (errs) throw new ExitStatus(EXIT.FAILED);
  });

  oobOpts(node.command("health").description("show the nodes' health as their oob_program reports it").argument("[nodes...]")).action(
    async (nodes: string[], o: OobFlags) => {
      const result = (await runQuiet(ctx, {
        OP_ID: "OP_OOB_COMMAND",
        node_names: nodes,
        command: "health",
        timeout: Number(o.oobTimeout ?? 60),
      })) as [[number, string], [number, unknown]][];
      let errs = 0;
      const rows: string[][] = [];
      for (const [[, name], [status, payload]] of result) {
        if (status !== 0) {
          errs++;
          rows.push([name, RS_TEXT[status] ?? "(unknown)"]);
          continue;
        }
        (payload as [string, string][]).forEach(([item, st], i) => rows.push([i === 0 ? name : "", `${item}=${st}`]));
      }
      if (ctx.json()) ctx.io.out(json(result));
      else printNodeTable(ctx, rows, o);
      if (errs) throw new ExitStatus(EXIT.FAILED);
    },
  );
}

/** Run one opcode; its result. Its log goes to stderr (the table is the output). */
async function runQuiet(ctx: Ctx, op: Opcode): Promise<unknown> {
  const jobs = ctx.jobs();
  const id = await jobs.submit(op);
  const out = await jobs.wait(id, (t, m) => ctx.io.err(`${ctime(t)} ${m}`));
  if (out.status !== "success") {
    ctx.io.err(`Job ${id} has failed: ${out.error ?? out.status}`);
    throw new ExitStatus(EXIT.FAILED);
  }
  return out.opresult[0];
}

export function registerHealthCommands(program: Command, cluster: Command, ctx: Ctx): void {
  program
    .command("watcher")
    .description("run one watcher pass on the master: restart instances, reactivate disks, verify disks, archive jobs")
    .action(async () => {
      const lines = (await masterOnly(ctx)("RunWatcher", [])) as string[];
      for (const l of lines) ctx.io.out(l);
    });

  cluster
    .command("watcher")
    .description("pause the watcher for a while, let it continue, or show whether it is paused")
    .argument("<command>", "pause DURATION | continue | info")
    .argument("[duration]", "for pause: seconds, or with s, m, h, d, w (e.g. 1h)")
    .action(async (command: string, duration: string | undefined) => {
      const call = masterOnly(ctx);
      if (command === "continue") {
        await call("SetWatcherPause", [null]);
        ctx.io.out("The watcher is no longer paused.");
      } else if (command === "pause") {
        if (duration === undefined) throw new CliError("Missing pause duration", EXIT.FAILED);
        showWatcherPause(ctx, await call("SetWatcherPause", [Date.now() / 1000 + parseTimespec(duration)]));
      } else if (command === "info") {
        showWatcherPause(ctx, await call("QueryWatcherPause", []));
      } else throw new CliError(`Command '${command}' is not valid.`, EXIT.FAILED);
    });

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
          ctx.io.out(
            "You need to replace or recreate disks for all the above instances if this message persists after fixing broken nodes.",
          );
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
