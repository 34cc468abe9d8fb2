import type { Command } from "commander";
import { json } from "../output.js";
import type { Ctx } from "./common.js";

export function registerOsCommands(program: Command, ctx: Ctx): Command {
  const os = program.command("os").description("operating system definitions (gnt-os)");
  os.command("list")
    .description("list the OSes (name+variant) usable on the cluster")
    .option("--no-headers", "do not print the header line")
    .action(async (o: { headers?: boolean }) => {
      const list = await ctx.client().os.list();
      if (ctx.json()) ctx.io.out(json(list));
      else ctx.io.out([...(o.headers === false ? [] : ["Name"]), ...list].join("\n"));
    });
  return os;
}
