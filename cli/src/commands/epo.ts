// `gnt cluster epo`: Ganeti's emergency power off. Stops the instances on
// the given nodes (or node groups with --groups, or the whole cluster with
// --all) and powers the nodes off through their oob_program; --on powers
// them back on, waits until their node daemons answer again and starts the
// instances whose nodes are all back. Nodes without out-of-band support are
// left to the operator, as in Ganeti.
//
// One deliberate difference: Ganeti 3.0's `--on` sends power-off to the
// nodes (a bug in its gnt-cluster); here it sends power-on.
import { setTimeout as sleep } from "node:timers/promises";
import { createInterface } from "node:readline/promises";
import type { Command } from "commander";
import { EXIT, ExitStatus } from "../errors.js";
import { ctime } from "../job-runner.js";
import type { Ctx } from "./common.js";

interface EpoFlags {
  on?: boolean;
  groups?: boolean;
  all?: boolean;
  force?: boolean;
  oobTimeout: string;
  shutdownTimeout: string;
  powerDelay: string;
}

/** Ganeti's _EPO_REACHABLE_TIMEOUT; the poll interval is shorter than its 30 s ping interval (a query, not a ping). */
const REACHABLE_TIMEOUT_S = 15 * 60;
const POLL_S = 2;

type Row = Record<string, unknown>;

async function query(ctx: Ctx, resource: "node" | "group", fields: string[], names: string[]): Promise<Row[]> {
  const filter = names.length ? ["|", ...names.map((n) => ["=", "name", n])] : null;
  const res = await ctx.client().query.run(resource, fields as never, filter as never);
  const rows = res.data.map((row) => Object.fromEntries(fields.map((f, i) => [f, row[i]?.[0] === 0 ? row[i]![1] : null])));
  // QueryNodes / QueryGroups: unknown names are errors, the order is the requested one
  for (const n of names)
    if (!rows.some((r) => r["name"] === n)) {
      ctx.io.err(`Failure: prerequisites not met for this operation:\n${resource === "node" ? "Node" : "Group"} '${n}' not known`);
      throw new ExitStatus(EXIT.FAILED);
    }
  return names.length ? names.map((n) => rows.find((r) => r["name"] === n)!) : rows;
}

/** Ganeti's _InstanceStart: one job per instance, then their results. */
async function instanceStart(ctx: Ctx, insts: string[], start: boolean, shutdownTimeout: number): Promise<boolean> {
  const [submit, success, failed] = start ? ["startup", "started", "starting"] : ["shutdown", "stopped", "stopping"];
  const c = ctx.client();
  const jobs: Array<[string, number | Error]> = [];
  for (const inst of insts) {
    ctx.io.out(`Submit ${submit} of instance ${inst}`);
    const h = start ? c.instances.startup(inst) : c.instances.shutdown(inst, { timeout: shutdownTimeout }, { noRemember: true });
    jobs.push([inst, await h.id.catch((e: unknown) => (e instanceof Error ? e : new Error(String(e))))]);
  }
  const ok = jobs.filter(([, j]) => typeof j === "number").map(([, j]) => j);
  if (ok.length) ctx.io.out(`Submitted jobs ${ok.join(", ")}`);
  let bad = 0;
  for (const [inst, j] of jobs) {
    if (typeof j !== "number") {
      ctx.io.err(`Failed to submit job for ${inst}: ${j.message}`);
      bad++;
      continue;
    }
    ctx.io.out(`Waiting for job ${j} for ${inst} ...`);
    const r = await ctx.jobs().wait(j, (t, m) => ctx.io.out(`${ctime(t)} ${m}`));
    if (r.status !== "success") {
      ctx.io.err(`Job ${j} for ${inst} has failed: ${r.error ?? r.status}`);
      bad++;
    }
  }
  if (bad === 0) ctx.io.out(`All instances have been ${success} successfully`);
  else ctx.io.err(`There were errors while ${failed} instances:\n${bad} error(s) out of ${jobs.length} instance(s)`);
  return bad === 0;
}

/** Ganeti's _OobPower: one OP_OOB_COMMAND on the nodes (status ignored); false if any node failed. */
async function oobPower(ctx: Ctx, nodes: string[], on: boolean, o: EpoFlags): Promise<boolean> {
  const jobs = ctx.jobs();
  const id = await jobs.submit({
    OP_ID: "OP_OOB_COMMAND",
    node_names: nodes,
    command: on ? "power-on" : "power-off",
    ignore_status: true,
    timeout: Number(o.oobTimeout),
    power_delay: Number(o.powerDelay),
  });
  const r = await jobs.wait(id, (t, m) => ctx.io.out(`${ctime(t)} ${m}`));
  if (r.status !== "success") {
    ctx.io.err(`Job ${id} has failed: ${r.error ?? r.status}`);
    return false;
  }
  let errs = 0;
  for (const [[, name], [status]] of r.opresult[0] as [[number, string], [number, unknown]][]) {
    if (status !== 0) {
      errs++;
      ctx.io.err(`There was a problem changing power for ${name}, please investigate`);
    }
  }
  return errs === 0;
}

/**
 * Ganeti's _RunWhenNodesReachable: wait until the nodes' daemons answer
 * (here: the master gets their live data), starting the instances whose
 * nodes are all back as nodes come up.
 */
async function runWhenReachable(ctx: Ctx, nodes: string[], instMap: Map<string, Set<string>>, o: EpoFlags): Promise<boolean> {
  const down = new Set(nodes);
  const up = new Set<string>();
  let success = true;
  const deadline = Date.now() + REACHABLE_TIMEOUT_S * 1000;
  for (;;) {
    const start: string[] = [];
    for (const [inst, ns] of instMap) if ([...ns].every((n) => up.has(n))) start.push(inst);
    for (const i of start) instMap.delete(i);
    if (start.length && !(await instanceStart(ctx, start, true, Number(o.shutdownTimeout)))) success = false;
    if (down.size === 0) return success;
    for (;;) {
      const rows = await query(ctx, "node", ["name", "mtotal"], [...down]);
      const alive = rows.find((r) => r["mtotal"] !== null);
      if (alive) {
        const name = String(alive["name"]);
        ctx.io.out(`Node ${name} became available`);
        up.add(name);
        down.delete(name);
        break;
      }
      if (Date.now() > deadline) {
        ctx.io.err(`Time exceeded while waiting for nodes to become reachable again:\n  - ${[...down].join("  - ")}`);
        return false;
      }
      await sleep(POLL_S * 1000);
    }
  }
}

/** Ganeti's ConfirmOperation: the operator says yes, or nothing happens (no terminal: no). */
async function confirm(ctx: Ctx, nodes: string[]): Promise<boolean> {
  const question = `The epo will operate on ${nodes.length} nodes.\nDo you want to continue?`;
  if (!process.stdin.isTTY) {
    ctx.io.out(`${question}\nNot running interactively and --force not given: aborting.`);
    return false;
  }
  const rl = createInterface({ input: process.stdin, output: process.stdout });
  try {
    for (;;) {
      const a = (await rl.question(`${question}\ny/[n]/v: `)).trim();
      if (a === "v") ctx.io.out(nodes.map((n) => `  ${n}`).join("\n"));
      else return a === "y";
    }
  } finally {
    rl.close();
  }
}

export function registerEpoCommand(cluster: Command, ctx: Ctx): void {
  cluster
    .command("epo")
    .description("emergency power off: stop the instances and power off the given nodes (or node groups) through their oob_program")
    .argument("[names...]", "nodes, or node groups with --groups")
    .option("--on", "power the nodes back on and restart their instances")
    .option("--groups", "the arguments are node groups")
    .option("--all", "the whole cluster")
    .option("-f, --force", "do not ask for confirmation")
    .option("--oob-timeout <seconds>", "how long the out-of-band program may run", "60")
    .option("--shutdown-timeout <seconds>", "how long to wait for an instance to shut down", "120")
    .option("--power-delay <seconds>", "wait between powering on nodes", "2")
    .action(async (names: string[], o: EpoFlags) => {
      if (o.groups && o.all) {
        ctx.io.err("Only one of --groups or --all are allowed");
        throw new ExitStatus(EXIT.FAILED);
      }
      if (names.length && o.all) {
        ctx.io.err("Arguments in combination with --all are not allowed");
        throw new ExitStatus(EXIT.FAILED);
      }
      const nodeNames = o.groups
        ? (await query(ctx, "group", ["name", "node_list"], names)).flatMap((g) => g["node_list"] as string[])
        : names;
      const rows = await query(ctx, "node", ["name", "master", "pinst_list", "sinst_list", "powered", "offline"], nodeNames);
      const on = Boolean(o.on);
      const all = rows.map((r) => String(r["name"]));
      const nodeList: string[] = [];
      const instMap = new Map<string, Set<string>>();
      for (const r of rows) {
        const node = String(r["name"]);
        const master = r["master"] === true;
        const offline = r["offline"] === true;
        const powered = r["powered"] as boolean | null;
        if (!offline)
          for (const inst of [...(r["pinst_list"] as string[]), ...(r["sinst_list"] as string[])]) {
            const cur = instMap.get(inst);
            if (cur) {
              if (!master) cur.add(node);
            } else instMap.set(inst, master ? new Set() : new Set([node]));
          }
        if (master && on) continue; // the master is up: we run on it
        if (master && !o.all) {
          ctx.io.err(
            `${node} is the master node, please do a master-failover to another node not affected by the EPO or use --all if you intend to shutdown the whole cluster`,
          );
          throw new ExitStatus(EXIT.FAILED);
        }
        if (powered === null)
          ctx.io.out(`Node ${node} does not support out-of-band handling, it can not be handled in a fully automated manner`);
        else if (powered === on) ctx.io.out(`Node ${node} is already in desired power state, skipping`);
        else if (!offline || powered) nodeList.push(node);
      }
      if (!o.force && !(await confirm(ctx, all))) throw new ExitStatus(EXIT.FAILED);
      if (on) {
        if (nodeList.length && !(await oobPower(ctx, nodeList, true, o)))
          ctx.io.err("Not all nodes seem to get back up, investigate and start manually if needed");
        ctx.io.out("Waiting until all nodes are available again");
        if (!(await runWhenReachable(ctx, all, instMap, o))) {
          ctx.io.err("Please investigate and start stopped instances manually");
          throw new ExitStatus(EXIT.FAILED);
        }
        return;
      }
      if (!(await instanceStart(ctx, [...instMap.keys()], false, Number(o.shutdownTimeout)))) {
        ctx.io.err("Please investigate and stop instances manually before continuing");
        throw new ExitStatus(EXIT.FAILED);
      }
      if (nodeList.length && !(await oobPower(ctx, nodeList, false, o))) throw new ExitStatus(EXIT.FAILED);
    });
}
