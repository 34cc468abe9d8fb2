import type { Command } from "commander";
import { CliError } from "../errors.js";
import { formatLogLine, json, renderInfo } from "../output.js";
import { addListVerbs, runJob, type Ctx } from "./common.js";

function jobId(s: string): number {
  if (!/^\d+$/.test(s)) throw new CliError(`invalid job id ${JSON.stringify(s)}`);
  return Number(s);
}

export function registerJobCommands(program: Command, ctx: Ctx): Command {
  const job = program.command("job").description("inspect and control jobs (gnt-job)");
  addListVerbs(job, ctx, "job", ["id", "status", "summary"], "id");

  job
    .command("info")
    .description("show job details")
    .argument("<ids...>")
    .action(async (ids: string[]) => {
      const c = ctx.client();
      const jobs = [];
      for (const id of ids) jobs.push(await c.jobs.get(jobId(id)));
      if (ctx.json()) {
        ctx.io.out(json(ids.length === 1 ? jobs[0] : jobs));
        return;
      }
      const parts = jobs.map((j) => {
        if (j.status === null) return `Job ID: ${j.id}\n  unknown`;
        const lines = [`Job ID: ${j.id}`, `  Status: ${j.status}`];
        (j.ops ?? []).forEach((op, i) => {
          lines.push(`  Opcode ${i}: ${op.OP_ID} (${j.opstatus?.[i] ?? "?"})`);
          lines.push(`    Result: ${JSON.stringify(j.opresult?.[i] ?? null)}`);
          for (const [serial, [sec, usec], type, msg] of j.oplog?.[i] ?? []) {
            lines.push(
              `    ${formatLogLine({ jobId: j.id, serial, time: sec * 1000 + Math.floor(usec / 1000), type, message: String(msg) })}`,
            );
          }
        });
        return lines.join("\n");
      });
      ctx.io.out(parts.join("\n\n"));
    });

  job
    .command("cancel")
    .description("cancel queued or waiting jobs")
    .argument("<ids...>")
    .action(async (ids: string[]) => {
      const c = ctx.client();
      let failed = false;
      const results = [];
      for (const id of ids) {
        const [ok, msg] = await c.jobs.cancel(jobId(id));
        results.push({ id: Number(id), canceled: ok, message: msg });
        if (!ok) failed = true;
        if (!ctx.json()) ctx.io.out(msg);
      }
      if (ctx.json()) ctx.io.out(json(results));
      if (failed) throw new CliError("some jobs could not be canceled", 1);
    });

  job
    .command("watch")
    .alias("wait")
    .description("follow a job's log until it finishes")
    .argument("<id>")
    .option("--wait-timeout <seconds>", "stop waiting after this long")
    .action(async (id: string, o: { waitTimeout?: string }) => {
      await runJob(ctx, ctx.client().jobs.handle(jobId(id)), { ...o }, (r) => (r.length ? renderInfo({ result: r }) : undefined));
    });
  return job;
}
