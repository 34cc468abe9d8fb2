import type { Command } from "commander";
import type { FilterRuleParams } from "@ganeti-ts/sdk";
import { CliError } from "../errors.js";
import { json, renderInfo, renderTable } from "../output.js";
import type { Ctx } from "./common.js";

function rule(o: { priority?: string; predicates?: string; action?: string; reason?: string }): FilterRuleParams {
  const r: FilterRuleParams = {};
  try {
    if (o.priority !== undefined) r.priority = Number(o.priority);
    if (o.predicates) r.predicates = JSON.parse(o.predicates) as unknown[];
    if (o.action) r.action = o.action.startsWith("[") ? (JSON.parse(o.action) as ["RATE_LIMIT", number]) : (o.action as "ACCEPT");
    if (o.reason) r.reason = [["gnt:user", o.reason, Date.now() * 1e6]];
  } catch (err) {
    throw new CliError(`invalid filter rule: ${(err as Error).message}`);
  }
  return r;
}

export function registerFilterCommands(program: Command, ctx: Ctx): Command {
  const f = program.command("filter").description("job filter rules (gnt-filter)");
  f.command("list")
    .description("list filter rules")
    .option("--no-headers", "no header line")
    .action(async (o: { headers?: boolean }) => {
      const rules = await ctx.client().filters.list({ bulk: true });
      if (ctx.json()) return ctx.io.out(json(rules));
      const text = renderTable(
        [{ title: "UUID" }, { title: "Priority", numeric: true }, { title: "Action" }, { title: "Predicates" }],
        rules.map((r) => [r.uuid, String(r.priority), JSON.stringify(r.action), JSON.stringify(r.predicates)]),
        { headers: o.headers !== false },
      );
      if (text) ctx.io.out(text);
    });
  f.command("info")
    .argument("<uuid>")
    .description("show a filter rule")
    .action(async (uuid: string) => {
      const r = await ctx.client().filters.get(uuid);
      ctx.io.out(ctx.json() ? json(r) : renderInfo(r as Record<string, unknown>));
    });
  const ruleOpts = (c: Command) =>
    c
      .option("--priority <n>", "lower is evaluated first")
      .option("--predicates <json>", 'e.g. [["opcode", ["=", "OP_ID", "OP_INSTANCE_CREATE"]]]')
      .option("--action <action>", 'ACCEPT, PAUSE, REJECT, CONTINUE or ["RATE_LIMIT", n]')
      .option("--reason <text>", "reason");
  ruleOpts(f.command("add").description("add a filter rule")).action(async (o: Record<string, string>) => {
    const uuid = await ctx.client().filters.add(rule(o));
    ctx.io.out(ctx.json() ? json(uuid) : uuid);
  });
  ruleOpts(f.command("replace").argument("<uuid>").description("replace (or create) a filter rule")).action(
    async (uuid: string, o: Record<string, string>) => {
      ctx.io.out(await ctx.client().filters.replace(uuid, rule(o)));
    },
  );
  f.command("delete")
    .argument("<uuid>")
    .description("delete a filter rule")
    .action(async (uuid: string) => {
      await ctx.client().filters.remove(uuid);
    });
  return f;
}
