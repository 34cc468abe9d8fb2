import type { Command } from "commander";
import { q, RapiError } from "@ganeti-ts/sdk";
import { CliError, EXIT, untuple } from "../errors.js";
import { confirm } from "../confirm.js";
import { ctime } from "../job-runner.js";
import { formatUnit, json, queryToObjects, renderTable } from "../output.js";
import { genericInfo, NODE_INFO_FIELDS, nodeInfo } from "../info.js";
import {
  addListVerbs,
  addTagVerbs,
  jobCall,
  jobOptions,
  parseKeyVal,
  reportChildJobs,
  runJob,
  runParentJob,
  yesNo,
  type Ctx,
  type JobFlags,
} from "./common.js";

const DEFAULT_FIELDS = ["name", "dtotal", "dfree", "mtotal", "mnode", "mfree", "pinst_cnt", "sinst_cnt"];
/** gnt-node list-storage and volumes: Ganeti's default fields and column titles. */
const LIST_STORAGE_FIELDS = ["node", "type", "name", "size", "used", "free", "allocatable"];
const STORAGE_TITLES: Record<string, string> = {
  node: "Node",
  type: "Type",
  name: "Name",
  size: "Size",
  used: "Used",
  free: "Free",
  allocatable: "Allocatable",
};
const LIST_VOLUME_FIELDS = ["node", "phys", "vg", "name", "size", "instance"];
const VOLUME_TITLES: Record<string, string> = { node: "Node", phys: "PhysDev", vg: "VG", name: "Name", size: "Size", instance: "Instance" };

/** Ganeti's ParseFields: the defaults, a "+" list added to them, or the list itself. */
function outputFields(spec: string | undefined, defaults: string[]): string[] {
  if (!spec) return defaults;
  return spec.startsWith("+") ? [...defaults, ...spec.slice(1).split(",")] : spec.split(",");
}

/**
 * Ganeti's GenerateTable for these lists: size columns in units (human
 * unless a separator is given, then MiB), numbers right-aligned.
 */
function ganetiTable(
  fields: string[],
  titles: Record<string, string>,
  unitFields: string[],
  rows: string[][],
  o: { headers?: boolean; separator?: string; units?: string },
): string {
  const units = (o.units ?? (o.separator !== undefined ? "m" : "h")) as "h" | "m" | "g" | "t";
  if (!["h", "m", "g", "t"].includes(units)) throw new CliError(`invalid --units ${o.units} (h, m, g or t)`);
  const cells = rows.map((r) =>
    r.map((v, i) => (unitFields.includes(fields[i]!) && /^\d+(\.\d+)?$/.test(v) ? formatUnit(Number(v), units) : v)),
  );
  return renderTable(
    fields.map((f) => ({ title: titles[f] ?? f, numeric: unitFields.includes(f) })),
    cells,
    { headers: o.headers !== false, ...(o.separator !== undefined ? { separator: o.separator } : {}) },
  );
}
const ROLES = ["master-candidate", "regular", "drained", "offline"] as const;
/** Ganeti's EXIT_CONFIRMATION (node migrate/evacuate answered "no"). */
const EXIT_CONFIRMATION = 13;

/** Ganeti's NiceSort: names with numbers in numeric order (node2 before node10). */
function niceSort(names: string[]): string[] {
  return [...names].sort((a, b) => a.localeCompare(b, "en", { numeric: true }));
}

/** The instances of a node (primary and/or secondary), as Ganeti's node verbs read them before asking. */
async function nodeInstances(ctx: Ctx, name: string, fields: ("pinst_list" | "sinst_list")[]): Promise<string[]> {
  const res = await ctx
    .client()
    .query.run("node", ["name", ...fields], q.eq("name", name))
    .catch((err: unknown) => {
      if (err instanceof RapiError && untuple(err.rapiMessage).ecode === "unknown_entity") return null;
      throw err;
    });
  const row = res?.data[0];
  if (!row) throw new CliError(`Node '${name}' not known`, EXIT.FAILED);
  const out = new Set<string>();
  for (const [status, value] of row.slice(1)) if (status === 0 && Array.isArray(value)) for (const v of value) out.add(String(v));
  return niceSort([...out]);
}

/** `gnt node ...` (RAPI verbs). `node add` is registered by commands/local.ts. */
export function registerNodeCommands(program: Command, ctx: Ctx): Command {
  const node = program.command("node").description("manage nodes (gnt-node)");
  addListVerbs(node, ctx, "node", DEFAULT_FIELDS);

  node
    .command("info")
    .description("show node details (Ganeti's gnt-node info)")
    .argument("[names...]", "these nodes (default: all)")
    .action(async (names: string[]) => {
      const res = await ctx.client().query.run("node", [...NODE_INFO_FIELDS], names.length ? q.oneOf("name", names) : null);
      const rows = queryToObjects(res) as Record<(typeof NODE_INFO_FIELDS)[number], unknown>[];
      const missing = names.filter((n) => !rows.some((r) => r.name === n));
      if (missing.length) throw new CliError(`Node '${missing[0]}' not known`, EXIT.FAILED);
      if (ctx.json()) {
        ctx.io.out(json(names.length === 1 ? rows[0] : rows));
        return;
      }
      ctx.io.out(genericInfo(rows.map((r) => nodeInfo(r))));
    });

  jobOptions(
    node
      .command("role")
      .description("show the role of a node, or set it")
      .argument("<name>")
      .argument("[role]", ROLES.join(" | "))
      .option("--auto-promote", "promote other nodes if the candidate pool shrinks")
      .option("-f, --force", "force"),
    false,
  ).action(async (name: string, role: string | undefined, o: JobFlags & { autoPromote?: boolean; force?: boolean }) => {
    const c = ctx.client();
    if (role === undefined) {
      const r = await c.nodes.getRole(name);
      ctx.io.out(ctx.json() ? JSON.stringify(r) : r);
      return;
    }
    if (!(ROLES as readonly string[]).includes(role)) throw new CliError(`invalid role ${role} (${ROLES.join(", ")})`);
    await runJob(
      ctx,
      c.nodes.setRole(name, role as (typeof ROLES)[number], {
        ...jobCall(o),
        autoPromote: Boolean(o.autoPromote),
        force: Boolean(o.force),
      }),
      o,
    );
    if (!o.submit) await ctx.syncCandidates?.();
  });

  jobOptions(
    node
      .command("modify")
      .description("change node flags")
      .argument("<name>")
      .option("-C, --master-candidate <yes|no>", "master candidate flag")
      .option("-O, --offline <yes|no>", "offline flag")
      .option("-D, --drained <yes|no>", "drained flag")
      .option("--master-capable <yes|no>", "may become master/candidate")
      .option("--vm-capable <yes|no>", "may host instances")
      .option("-s, --secondary-ip <ip>", "new secondary IP")
      .option("--node-parameters <k=v,...>", "node parameters (oob_program, spindle_count, ...)")
      .option("--auto-promote", "promote other nodes if needed")
      .option("-f, --force", "force"),
    false,
  ).action(async (name: string, o: JobFlags & Record<string, string | boolean | undefined>) => {
    const p: Record<string, unknown> = {};
    const set = (k: string, v: unknown, flag: string) => {
      const b = yesNo(v as string | undefined, flag);
      if (b !== undefined) p[k] = b;
    };
    set("master_candidate", o.masterCandidate, "--master-candidate");
    set("offline", o.offline, "--offline");
    set("drained", o.drained, "--drained");
    set("master_capable", o.masterCapable, "--master-capable");
    set("vm_capable", o.vmCapable, "--vm-capable");
    if (o.secondaryIp) p.secondary_ip = o.secondaryIp;
    if (typeof o.nodeParameters === "string") p.ndparams = parseKeyVal(o.nodeParameters);
    if (o.autoPromote) p.auto_promote = true;
    if (o.force) p.force = true;
    if (Object.keys(p).length === 0) throw new CliError("nothing to modify (see gnt node modify --help)");
    await runJob(ctx, ctx.client().nodes.modify(name, p, jobCall(o)), o);
    if (!o.submit) await ctx.syncCandidates?.();
  });

  jobOptions(
    node
      .command("migrate")
      .description("migrate all primary instances away (one job per instance)")
      .argument("<name>")
      .option("--non-live", "non-live migration")
      .option("-n, --target-node <node>", "target node")
      .option("-I, --iallocator <name>", "allocator choosing targets")
      .option("-f, --force", "do not ask for confirmation"),
    false,
  ).action(async (name: string, o: JobFlags & { nonLive?: boolean; targetNode?: string; iallocator?: string; force?: boolean }) => {
    const pinst = await nodeInstances(ctx, name, ["pinst_list"]);
    if (pinst.length === 0) {
      ctx.io.out(`No primary instances on node ${name}, exiting.`);
      return;
    }
    if (!o.force) await confirm(ctx.io, `Migrate instance(s) ${pinst.join(", ")}?`, { exitCode: EXIT_CONFIRMATION });
    const p: Record<string, unknown> = {};
    if (o.nonLive) p.mode = "non-live";
    if (o.targetNode) p.target_node = o.targetNode;
    if (o.iallocator) p.iallocator = o.iallocator;
    await runParentJob(ctx, ctx.client().nodes.migrate(name, p, jobCall(o)), o, {
      ok: "All instances migrated successfully.",
      failed: (bad) => `There were ${bad} errors during the node migration.`,
    });
  });

  jobOptions(
    node
      .command("failover")
      .description("fail over all primary instances to their secondaries (one job per instance)")
      .argument("<name>")
      .option("--ignore-consistency", "proceed even with degraded disks")
      .option("-I, --iallocator <name>", "allocator choosing targets")
      .option("-f, --force", "do not ask for confirmation"),
    false,
  ).action(async (name: string, o: JobFlags & { ignoreConsistency?: boolean; iallocator?: string; force?: boolean }) => {
    const pinst = await nodeInstances(ctx, name, ["pinst_list"]);
    if (pinst.length === 0) {
      ctx.io.err(`No primary instances on node ${name}, exiting.`);
      return;
    }
    if (!o.force) await confirm(ctx.io, `Fail over instance(s) ${pinst.map((n) => `'${n}'`).join(",")}?`, { exitCode: 2 });
    const c = ctx.client();
    const submitted: [boolean, number | string][] = [];
    for (const inst of pinst) {
      const p: Record<string, unknown> = {};
      if (o.ignoreConsistency) p.ignore_consistency = true;
      if (o.iallocator) p.iallocator = o.iallocator;
      try {
        submitted.push([true, await c.instances.failover(inst, p, jobCall(o))]);
      } catch (err) {
        submitted.push([false, `${inst}: ${err instanceof Error ? err.message : String(err)}`]);
      }
    }
    if (o.submit) {
      ctx.io.out(
        ctx.json()
          ? json(submitted.filter(([ok]) => ok).map(([, id]) => id))
          : submitted
              .filter(([ok]) => ok)
              .map(([, id]) => id)
              .join("\n"),
      );
      return;
    }
    await reportChildJobs(ctx, submitted, {
      ok: `All ${pinst.length} instance(s) failed over successfully.`,
      failed: (bad, total) => `There were errors during the failover:\n${bad} error(s) out of ${total} instance(s).`,
    });
  });

  jobOptions(
    node
      .command("evacuate")
      .description("move instances off a node")
      .argument("<name>")
      .option("-p, --primary-only", "only primary instances")
      .option("-s, --secondary-only", "only secondary instances")
      .option("-n, --new-secondary <node>", "new node")
      .option("-I, --iallocator <name>", "allocator choosing new nodes")
      .option("--early-release", "release locks early")
      .option("-f, --force", "do not ask for confirmation"),
  ).action(async (name: string, o: JobFlags & Record<string, string | boolean | undefined>) => {
    if (o.newSecondary) {
      // Ganeti's client: a new secondary means secondary instances only.
      ctx.io.err("New secondary node given (disabling iallocator), hence evacuating secondary instances only.");
      o.secondaryOnly = true;
      o.primaryOnly = false;
    }
    if (o.primaryOnly && o.secondaryOnly) throw new CliError("--primary-only and --secondary-only are exclusive");
    const mode = o.primaryOnly ? "primary-only" : o.secondaryOnly ? "secondary-only" : "all";
    if (!o.dryRun) {
      const fields: ("pinst_list" | "sinst_list")[] = [];
      if (!o.secondaryOnly) fields.push("pinst_list");
      if (!o.primaryOnly) fields.push("sinst_list");
      const instances = await nodeInstances(ctx, name, fields);
      if (instances.length === 0) {
        ctx.io.err(`No instances to evacuate on node(s) ${name}, exiting.`);
        return;
      }
      if (!o.force) {
        await confirm(ctx.io, `Relocate instance(s) ${instances.join(", ")} from node(s) ${name}?`, { exitCode: EXIT_CONFIRMATION });
      }
    }
    const p: { mode: typeof mode; remote_node?: string; iallocator?: string; early_release?: boolean } = { mode };
    if (o.newSecondary) p.remote_node = String(o.newSecondary);
    if (o.iallocator) p.iallocator = String(o.iallocator);
    if (o.earlyRelease) p.early_release = true;
    await runParentJob(ctx, ctx.client().nodes.evacuate(name, p, jobCall(o)), o, {
      ok: "All instances evacuated successfully.",
      failed: (bad) => `There were ${bad} errors during the evacuation.`,
    });
  });

  jobOptions(
    node
      .command("powercycle")
      .description("power-cycle a node")
      .argument("<name>")
      .option("--yes-do-it", "do not ask for confirmation (Ganeti's flag)")
      .option("-f, --force", "even the master; also skips the question"),
    false,
  ).action(async (name: string, o: JobFlags & { force?: boolean; yesDoIt?: boolean }) => {
    if (!o.force && !o.yesDoIt) {
      await confirm(ctx.io, `Are you sure you want to hard powercycle node ${name}?`, { flag: "--yes-do-it (or --force)", exitCode: 2 });
    }
    await runJob(ctx, ctx.client().nodes.powercycle(name, { ...jobCall(o), force: Boolean(o.force) }), o, (r) =>
      Array.isArray(r) && typeof r[0] === "string" ? r[0] : undefined,
    );
  });

  node
    .command("list-storage")
    .description("list the storage units of nodes (all when none given): size, used and free space")
    .argument("[nodes...]")
    .option("-t, --storage-type <type>", "file, sharedfile, lvm-vg, lvm-pv or gluster (default: the first enabled disk template's)")
    .option("-o, --output <fields>", `fields (default ${LIST_STORAGE_FIELDS.join(",")}; "+f" adds)`)
    .option("--no-headers", "no header line")
    .option("--separator <sep>", "column separator")
    .option("--units <unit>", "h (human, default without --separator), m, g or t")
    .action(
      async (names: string[], o: { storageType?: string; output?: string; headers?: boolean; separator?: string; units?: string }) => {
        const fields = outputFields(o.output, LIST_STORAGE_FIELDS);
        const nodes = names.length ? names : niceSort((await ctx.client().nodes.list()).map((n) => n.id));
        const rows: string[][] = [];
        for (const n of nodes) {
          const [r] = await ctx
            .client()
            .nodes.storage(n, { output_fields: fields, ...(o.storageType ? { storage_type: o.storageType } : {}) })
            .wait();
          for (const row of r) rows.push(row.map((v, i) => (fields[i] === "allocatable" ? (v ? "Y" : "N") : String(v))));
        }
        ctx.io.out(ganetiTable(fields, STORAGE_TITLES, ["size", "used", "free"], rows, o));
      },
    );

  node
    .command("volumes")
    .description("list the volumes of the nodes' volume groups (all nodes when none given) and their instances")
    .argument("[nodes...]")
    .option("-o, --output <fields>", `fields (default ${LIST_VOLUME_FIELDS.join(",")}; "+f" adds)`)
    .option("--no-headers", "no header line")
    .option("--separator <sep>", "column separator")
    .option("--units <unit>", "h (human, default without --separator), m, g or t")
    .action(async (names: string[], o: { output?: string; headers?: boolean; separator?: string; units?: string }) => {
      const fields = outputFields(o.output, LIST_VOLUME_FIELDS);
      const jobs = ctx.jobs();
      const id = await jobs.submit({ OP_ID: "OP_NODE_QUERYVOLS", nodes: names, output_fields: fields });
      const out = await jobs.wait(id, (t, m) => ctx.io.out(`${ctime(t)} ${m}`));
      if (out.status !== "success") throw new CliError(`Job ${id} has failed: ${out.error ?? out.status}`, EXIT.FAILED);
      ctx.io.out(ganetiTable(fields, VOLUME_TITLES, ["size"], (out.opresult[0] as string[][]) ?? [], o));
    });

  jobOptions(
    node
      .command("modify-storage")
      .description("change a storage unit")
      .argument("<name>")
      .argument("<storage-type>")
      .argument("<unit>")
      .option("--allocatable <yes|no>", "allocatable flag"),
    false,
  ).action(async (name: string, type: string, unit: string, o: JobFlags & { allocatable?: string }) => {
    const a = yesNo(o.allocatable, "--allocatable");
    await runJob(
      ctx,
      ctx
        .client()
        .nodes.modifyStorage(name, { storage_type: type, name: unit, ...(a !== undefined ? { allocatable: a } : {}) }, jobCall(o)),
      o,
    );
  });

  jobOptions(
    node.command("repair-storage").description("repair a storage unit").argument("<name>").argument("<storage-type>").argument("<unit>"),
    false,
  ).action(async (name: string, type: string, unit: string, o: JobFlags) => {
    await runJob(ctx, ctx.client().nodes.repairStorage(name, { storage_type: type, name: unit }, jobCall(o)), o);
  });

  addTagVerbs(node, ctx, "node");
  return node;
}
