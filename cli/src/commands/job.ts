import type { Command } from "commander";
import { JobCanceledError, JobFailedError, q } from "@ganeti-ts/sdk";
import { CliError, EXIT, ExitStatus, formatJobError } from "../errors.js";
import { genericInfo, JOB_INFO_FIELDS, jobInfo, Ordered, toInfo } from "../info.js";
import { ctime } from "../job-runner.js";
import { json, queryToObjects } from "../output.js";
import { addListVerbs, type Ctx } from "./common.js";

const FINAL = new Set(["success", "error", "canceled"]);

function jobId(s: string): number {
  if (!/^\d+$/.test(s)) throw new CliError(`invalid job id ${JSON.stringify(s)}`);
  return Number(s);
}

export function registerJobCommands(program: Command, ctx: Ctx): Command {
  const job = program.command("job").description("inspect and control jobs (gnt-job)");
  addListVerbs(job, ctx, "job", ["id", "status", "summary"], "id");

  job
    .command("info")
    .description("show job details: status, timestamps, each opcode with its input, result and log (Ganeti's gnt-job info)")
    .argument("<ids...>")
    .action(async (ids: string[]) => {
      const wanted = ids.map(jobId);
      const res = await ctx.client().query.run("job", [...JOB_INFO_FIELDS], q.oneOf("id", wanted));
      const rows = queryToObjects(res) as Record<(typeof JOB_INFO_FIELDS)[number], unknown>[];
      const byId = new Map(rows.map((r) => [Number(r.id), r]));
      if (ctx.json()) {
        const list = wanted.map((id) => byId.get(id) ?? { id, status: null });
        ctx.io.out(json(ids.length === 1 ? list[0] : list));
        return;
      }
      ctx.io.out(genericInfo(wanted.map((id) => jobInfo(byId.get(id) ?? ({ id, status: null } as never)))));
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
    .description("print a job's log, following it until it finishes, then its result")
    .argument("<id>")
    .option("--wait-timeout <seconds>", "stop waiting after this long")
    .action(async (id: string, o: { waitTimeout?: string }) => {
      const c = ctx.client();
      const n = jobId(id);
      const msg = `Output from job ${n} follows`;
      if (!ctx.json()) ctx.io.out(`${msg}\n${"-".repeat(msg.length)}`);
      const print = (sec: number, usec: number, message: unknown) => {
        if (!ctx.json()) ctx.io.out(`${ctime(sec + usec / 1e6)} ${typeof message === "string" ? message : JSON.stringify(message)}`);
      };
      let info = await c.jobs.get(n);
      if (info.status === null) throw new CliError(`Job ID ${n} not found`, EXIT.FAILED);
      // Everything logged so far (a finished job: all of it), then what follows.
      let serial = 0;
      for (const [s, [sec, usec], , message] of (info.oplog ?? []).flat().sort((a, b) => a[0] - b[0])) {
        serial = s;
        print(sec, usec, message);
      }
      if (!FINAL.has(info.status)) {
        const timeout = o.waitTimeout !== undefined ? Number(o.waitTimeout) : undefined;
        if (timeout !== undefined && !(timeout > 0)) throw new CliError(`invalid --wait-timeout ${o.waitTimeout}`);
        await c.jobs
          .handle(n)
          .wait({
            followUp: false,
            onLog: (l) => {
              if (l.serial > serial) print(Math.floor(l.time / 1000), (l.time % 1000) * 1000, l.message);
            },
            ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
            ...(ctx.signal ? { signal: ctx.signal } : {}),
          })
          .catch((err: unknown) => {
            if (err instanceof JobFailedError || err instanceof JobCanceledError) return null;
            throw err;
          });
        info = await c.jobs.get(n);
      }
      if (ctx.json()) ctx.io.out(json({ job_id: n, status: info.status, opresult: info.opresult }));
      if (info.status === "success") {
        const result = info.opresult ?? [];
        if (!ctx.json() && result.some((r) => r !== null))
          ctx.io.out(genericInfo([new Ordered([["Result", toInfo(result.length === 1 ? result[0] : result)]])]));
        return;
      }
      const failed = (info.opresult ?? []).find((_, i) => info.opstatus?.[i] === "error");
      const why = info.status === "error" ? formatJobError(failed) : info.status;
      if (!ctx.json()) ctx.io.err(`Job ${n} failed: ${why}`);
      throw new ExitStatus(EXIT.FAILED);
    });
  return job;
}
