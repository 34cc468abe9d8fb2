import type { Command } from "commander";
import type { GroupInfo } from "@ganeti-ts/sdk";
import { CliError } from "../errors.js";
import { renderInfo } from "../output.js";
import { addListVerbs, addTagVerbs, jobCall, jobOptions, parseKeyVal, printObject, runJob, type Ctx, type JobFlags } from "./common.js";

const POLICIES = ["preferred", "last_resort", "unallocable"] as const;
type Policy = (typeof POLICIES)[number];
function policy(p: string | undefined): Policy | undefined {
  if (p === undefined) return undefined;
  if (!(POLICIES as readonly string[]).includes(p)) throw new CliError(`invalid --alloc-policy ${p} (${POLICIES.join(", ")})`);
  return p as Policy;
}

export function registerGroupCommands(program: Command, ctx: Ctx): Command {
  const group = program.command("group").description("manage node groups (gnt-group)");
  addListVerbs(group, ctx, "group", ["name", "node_cnt", "pinst_cnt", "alloc_policy"]);

  group
    .command("info")
    .description("show group details")
    .argument("<names...>")
    .action(async (names: string[]) => {
      const objs: GroupInfo[] = [];
      for (const n of names) objs.push(await ctx.client().groups.get(n));
      printObject(ctx, names.length === 1 ? objs[0] : objs, () =>
        objs.map((o) => `Node group: ${o.name}\n${renderInfo(o as Record<string, unknown>, "  ")}`).join("\n\n"),
      );
    });

  jobOptions(
    group
      .command("add")
      .description("create a node group")
      .argument("<name>")
      .option("--alloc-policy <policy>", POLICIES.join(" | "))
      .option("--node-parameters <k=v,...>", "node parameters"),
  ).action(async (name: string, o: JobFlags & { allocPolicy?: string; nodeParameters?: string }) => {
    const p: { group_name: string; alloc_policy?: Policy; ndparams?: Record<string, unknown> } = { group_name: name };
    const ap = policy(o.allocPolicy);
    if (ap) p.alloc_policy = ap;
    if (o.nodeParameters) p.ndparams = parseKeyVal(o.nodeParameters);
    await runJob(ctx, ctx.client().groups.create(p, jobCall(o)), o);
  });

  jobOptions(group.command("remove").description("remove an empty node group").argument("<name>")).action(
    async (name: string, o: JobFlags) => {
      await runJob(ctx, ctx.client().groups.remove(name, jobCall(o)), o);
    },
  );

  jobOptions(
    group
      .command("modify")
      .description("change group parameters")
      .argument("<name>")
      .option("--alloc-policy <policy>", POLICIES.join(" | "))
      .option("--node-parameters <k=v,...>", "node parameters"),
    false,
  ).action(async (name: string, o: JobFlags & { allocPolicy?: string; nodeParameters?: string }) => {
    const p: { alloc_policy?: Policy; ndparams?: Record<string, unknown> } = {};
    const ap = policy(o.allocPolicy);
    if (ap) p.alloc_policy = ap;
    if (o.nodeParameters) p.ndparams = parseKeyVal(o.nodeParameters);
    if (Object.keys(p).length === 0) throw new CliError("nothing to modify (see gnt group modify --help)");
    await runJob(ctx, ctx.client().groups.modify(name, p, jobCall(o)), o);
  });

  jobOptions(group.command("rename").description("rename a node group").argument("<name>").argument("<new-name>")).action(
    async (name: string, newName: string, o: JobFlags) => {
      await runJob(ctx, ctx.client().groups.rename(name, newName, jobCall(o)), o);
    },
  );

  jobOptions(
    group
      .command("assign-nodes")
      .description("move nodes into a group")
      .argument("<group>")
      .argument("<nodes...>")
      .option("--force", "even if it splits instances across groups"),
  ).action(async (name: string, nodes: string[], o: JobFlags & { force?: boolean }) => {
    await runJob(ctx, ctx.client().groups.assignNodes(name, nodes, { ...jobCall(o), force: Boolean(o.force) }), o);
  });

  addTagVerbs(group, ctx, "nodegroup");
  return group;
}
