// Shared plumbing of the remote (RAPI) verbs: the context handed to every
// command, job running with live progress, `list`/`list-fields` and tag verbs,
// and Ganeti's "key=value,key=value" option syntax.
import type { Command } from "commander";
import { q, RapiError, type GanetiClient, type JobHandle, type JobIdListOnly, type QueryResourceName, type TagKind } from "@ganeti-ts/sdk";
import { CliError, EXIT, ExitStatus, formatJobError, untuple } from "../errors.js";
import { ctime, type JobOutcome, type JobRunner } from "../job-runner.js";
import { makeListFilter } from "../qlang-text.js";
import { JobProgress, json, queryToObjects, renderQuery, renderTable, type Io, type Units } from "../output.js";

export interface Ctx {
  io: Io;
  /** The SDK client for the resolved connection settings (built on first use). */
  client(): GanetiClient;
  /** `--output json` was given. */
  json(): boolean;
  /**
   * Jobs for opcodes Ganeti's RAPI does not carry: the master's control
   * socket when on the master (and no --url was given), else the ganeti-ts
   * RAPI extension.
   */
  jobs(): JobRunner;
  /** The master's control socket when this machine is the master, else null (watcher verbs). */
  masterControl(): ((method: string, args: unknown[]) => Promise<unknown>) | null;
  /** Aborted on SIGINT: stops waiting (the job keeps running). */
  signal?: AbortSignal;
  /** After a change of the master candidates: the etcd members of a local HA cluster follow (no-op elsewhere). */
  syncCandidates?: () => Promise<void>;
}

export interface JobFlags {
  submit?: boolean;
  dryRun?: boolean;
  reason?: string;
  waitTimeout?: string;
}

/** Add --submit, --dry-run, --reason, --wait-timeout to a job-submitting verb. */
export function jobOptions(cmd: Command, dryRun = true): Command {
  cmd.option("--submit", "submit the job and print its id instead of waiting");
  if (dryRun) cmd.option("--dry-run", "only check prerequisites (the job still runs, without changes)");
  return cmd
    .option("--reason <text>", "reason recorded in the job's reason trail")
    .option("--wait-timeout <seconds>", "stop waiting after this long (the job keeps running)");
}

/** The SDK's per-call job options from the flags. */
export function jobCall(o: JobFlags): { dryRun?: boolean; reason?: string } {
  const out: { dryRun?: boolean; reason?: string } = {};
  if (o.dryRun) out.dryRun = true;
  if (o.reason !== undefined) out.reason = o.reason;
  return out;
}

/** Submit, then either print the id (--submit) or wait with a live log. */
export async function runJob<R>(ctx: Ctx, handle: JobHandle<R>, o: JobFlags, describe?: (result: R) => string | undefined): Promise<void> {
  const id = await handle;
  if (o.submit) {
    ctx.io.out(ctx.json() ? json({ job_id: id }) : String(id));
    return;
  }
  if (!ctx.json() && !ctx.io.isTTY) ctx.io.err(`Submitted job ${id}, waiting...`);
  const progress = new JobProgress(ctx.io, id);
  let result: R;
  try {
    const timeout = o.waitTimeout !== undefined ? Number(o.waitTimeout) : undefined;
    if (timeout !== undefined && !(timeout > 0)) throw new CliError(`invalid --wait-timeout ${o.waitTimeout}`);
    result = await handle.wait({
      // Child jobs (a result {"jobs": [...]}) are followed below, each one reported.
      followUp: false,
      onLog: (l) => progress.log(l),
      onStatus: (s, jid) => progress.status(s, jid),
      ...(timeout !== undefined ? { timeoutMs: timeout * 1000 } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } finally {
    progress.stop();
  }
  const children = childJobs(result);
  if (children) {
    await reportChildJobs(ctx, children, {
      ok: "All jobs completed successfully.",
      failed: (bad, total) => `${bad} of ${total} jobs failed.`,
    });
    return;
  }
  if (ctx.json()) ctx.io.out(json({ job_id: id, result }));
  else {
    const text = describe?.(result);
    if (text) ctx.io.out(text);
  }
}

interface ListFlags {
  filter?: boolean;
  fields?: string;
  headers?: boolean;
  separator?: string;
  units?: string;
}

/** Ganeti's -o syntax: "a,b" replaces the defaults, "+a,b" appends to them. */
export function parseFields(spec: string | undefined, defaults: string[]): string[] {
  if (!spec) return defaults;
  const list = spec
    .replace(/^\+/, "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  return spec.startsWith("+") ? [...defaults, ...list] : list;
}

function units(u: string | undefined): Units {
  if (u === undefined) return "h";
  if (u === "h" || u === "m" || u === "g" || u === "t") return u;
  throw new CliError(`invalid --units ${u} (h, m, g or t)`);
}

/** `list [names...]` and `list-fields [fields...]` for a query resource. */
export function addListVerbs(noun: Command, ctx: Ctx, resource: QueryResourceName, defaults: string[], nameField = "name"): void {
  noun
    .command("list")
    .description(`list ${resource}s (via /2/query/${resource})`)
    .argument("[names...]", `only these ${resource}s (globs like "web*" allowed), or with -F a filter`)
    .option("-F, --filter", 'the argument is a query filter, e.g. \'pnode == "node1" and admin_state == "up"\'')
    .option("-o, --fields <fields>", `fields to show ("+a,b" appends; default ${defaults.join(",")})`)
    .option("--no-headers", "do not print the header line")
    .option("--separator <sep>", "separate columns with this string instead of aligning")
    .option("--units <unit>", "h (human, default), m, g or t")
    .action(async (names: string[], o: ListFlags) => {
      const fields = parseFields(o.fields, defaults);
      const filter = makeListFilter(names, Boolean(o.filter), nameField, nameField === "id");
      const result = await ctx.client().query.run(resource, fields, filter, ctx.signal ? { signal: ctx.signal } : {});
      if (ctx.json()) ctx.io.out(json(queryToObjects(result)));
      else {
        const text = renderQuery(result, {
          headers: o.headers !== false,
          ...(o.separator !== undefined ? { separator: o.separator } : {}),
          units: units(o.units),
        });
        if (text) ctx.io.out(text);
      }
    });
  noun
    .command("list-fields")
    .description(`list the fields available for ${resource}s`)
    .argument("[fields...]", "only these fields")
    .option("--no-headers", "do not print the header line")
    .option("--separator <sep>", "column separator")
    .action(async (fields: string[], o: ListFlags) => {
      const res = await ctx.client().query.fields(resource, fields);
      if (ctx.json()) {
        ctx.io.out(json(res.fields));
        return;
      }
      const rows = res.fields.map((f) => [f.name, f.kind, f.title, f.doc]);
      ctx.io.out(
        renderTable([{ title: "Name" }, { title: "Type" }, { title: "Title" }, { title: "Description" }], rows, {
          headers: o.headers !== false,
          ...(o.separator !== undefined ? { separator: o.separator } : {}),
        }),
      );
    });
}

/** add-tags / remove-tags / list-tags, with or without an object name. */
export function addTagVerbs(noun: Command, ctx: Ctx, kind: TagKind): void {
  const named = kind !== "cluster";
  const nameArg = (c: Command) => (named ? c.argument("<name>", `${kind} name`) : c);
  jobOptions(nameArg(noun.command("add-tags").description("add tags")).argument("<tags...>")).action(async (...args: unknown[]) => {
    const [name, tags, o] = named ? (args as [string, string[], JobFlags]) : [undefined, ...(args as [string[], JobFlags])];
    await runJob(ctx, ctx.client().tags.add(kind, name, tags, jobCall(o)), o);
  });
  jobOptions(nameArg(noun.command("remove-tags").description("remove tags")).argument("<tags...>")).action(async (...args: unknown[]) => {
    const [name, tags, o] = named ? (args as [string, string[], JobFlags]) : [undefined, ...(args as [string[], JobFlags])];
    await runJob(ctx, ctx.client().tags.remove(kind, name, tags, jobCall(o)), o);
  });
  nameArg(noun.command("list-tags").description("list tags")).action(async (...args: unknown[]) => {
    const name = named ? (args[0] as string) : undefined;
    const tags = await ctx.client().tags.list(kind, name);
    ctx.io.out(ctx.json() ? json(tags) : tags.join("\n"));
  });
}

const SIZE_KEYS = new Set(["size", "memory", "maxmem", "minmem", "runtime_mem", "amount"]);

/** Parse a size with an optional unit (M, G, T; default MiB) into MiB. */
export function parseSize(v: string): number {
  const m = /^(\d+(?:\.\d+)?)\s*([mgtMGT])?[iI]?[bB]?$/.exec(v.trim());
  if (!m) throw new CliError(`invalid size ${JSON.stringify(v)}`);
  const n = Number(m[1]);
  const mult = { m: 1, g: 1024, t: 1024 * 1024 }[(m[2] ?? "m").toLowerCase() as "m" | "g" | "t"];
  return Math.round(n * mult);
}

function scalar(key: string, v: string): unknown {
  if (SIZE_KEYS.has(key) && /^\d+(\.\d+)?\s*[mgtMGT]/.test(v)) return parseSize(v);
  if (/^-?\d+$/.test(v)) return Number(v);
  if (/^(true|yes)$/i.test(v)) return true;
  if (/^(false|no)$/i.test(v)) return false;
  return v;
}

/** "a=1,b=x" → {a: 1, b: "x"}; a bare "key" means true, "no_key" false (Ganeti's convention). */
export function parseKeyVal(spec: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  if (!spec) return out;
  for (const part of spec.split(",")) {
    if (!part) continue;
    const eq = part.indexOf("=");
    if (eq < 0) {
      if (part.startsWith("no_")) out[part.slice(3)] = false;
      else out[part] = true;
    } else {
      const k = part.slice(0, eq);
      out[k] = scalar(k, part.slice(eq + 1));
    }
  }
  return out;
}

/** "kvm:kernel_path=/x,acpi=yes" → ["kvm", {...}]. */
export function parseHvSpec(spec: string): [string, Record<string, unknown>] {
  const colon = spec.indexOf(":");
  if (colon < 0) return [spec, {}];
  return [spec.slice(0, colon), parseKeyVal(spec.slice(colon + 1))];
}

/** Indexed device options: "0:size=1G" or "add:size=1G" → [ident, params]. */
export function parseDeviceSpec(spec: string): [string, Record<string, unknown>] {
  const colon = spec.indexOf(":");
  if (colon < 0) return [spec, {}];
  return [spec.slice(0, colon), parseKeyVal(spec.slice(colon + 1))];
}

/** Repeatable option collector for commander. */
export function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** yes/no option values. */
export function yesNo(v: string | undefined, flag: string): boolean | undefined {
  if (v === undefined) return undefined;
  if (/^(yes|true|1)$/i.test(v)) return true;
  if (/^(no|false|0)$/i.test(v)) return false;
  throw new CliError(`${flag} expects yes or no, got ${JSON.stringify(v)}`);
}

/** Print an object as "key: value" or JSON. */
export function printObject(ctx: Ctx, obj: unknown, render: (o: Record<string, unknown>) => string): void {
  ctx.io.out(ctx.json() ? json(obj) : render(obj as Record<string, unknown>));
}

/** Ganeti's JobExecutor.GetResults over already submitted jobs: [ok, result or error] per job, in order. */
export async function followJobs(ctx: Ctx, submitted: JobIdListOnly["jobs"]): Promise<[boolean, unknown][]> {
  const jobs = ctx.jobs();
  const ok = submitted.filter(([s]) => s).map(([, id]) => id);
  if (ok.length) ctx.io.out(`Submitted jobs ${ok.join(", ")}`);
  const results: [boolean, unknown][] = [];
  for (const [s, id] of submitted) {
    if (!s) {
      ctx.io.err(`Failed to submit job: ${typeof id === "string" ? id : formatJobError(id)}`);
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

/** One child job of a parent that submitted several (node migrate/evacuate/failover). */
export interface ChildReport {
  job_id: number | null;
  status: "success" | "error" | "canceled" | "not submitted";
  error?: string;
}

/**
 * Follow every child job, then list each one (id, status, error) and end
 * with Ganeti's summary; exits 1 if any child failed or was not submitted.
 */
export async function reportChildJobs(
  ctx: Ctx,
  submitted: JobIdListOnly["jobs"],
  summary: { ok: string; failed: (bad: number, total: number) => string },
): Promise<void> {
  const jobs = ctx.jobs();
  const reports: ChildReport[] = [];
  const quiet = ctx.json();
  const ids = submitted.filter(([s]) => s).map(([, id]) => id);
  if (ids.length && !quiet) ctx.io.out(`Submitted jobs ${ids.join(", ")}`);
  for (const [s, id] of submitted) {
    if (!s) {
      reports.push({ job_id: null, status: "not submitted", error: typeof id === "string" ? id : formatJobError(id) });
      continue;
    }
    if (!quiet) ctx.io.out(`Waiting for job ${id} ...`);
    const out = await jobs.wait(Number(id), (t, m) => (quiet ? undefined : ctx.io.out(`${ctime(t)} ${m}`)));
    reports.push({ job_id: Number(id), status: out.status, ...(out.status !== "success" ? { error: out.error ?? out.status } : {}) });
  }
  const bad = reports.filter((r) => r.status !== "success").length;
  if (ctx.json()) ctx.io.out(json({ jobs: reports, failed: bad }));
  else {
    for (const r of reports) {
      const line = `Job ${r.job_id ?? "(not submitted)"}: ${r.status}${r.error ? `: ${r.error}` : ""}`;
      if (r.status === "success") ctx.io.out(line);
      else ctx.io.err(line);
    }
    ctx.io.out(bad === 0 ? summary.ok : summary.failed(bad, reports.length));
  }
  if (bad > 0) throw new ExitStatus(EXIT.FAILED);
}

/** The child jobs in a parent's result (`{"jobs": [[true, id], [false, error], ...]}`), or null. */
export function childJobs(result: unknown): JobIdListOnly["jobs"] | null {
  const first = Array.isArray(result) ? (result[0] as unknown) : result;
  if (first && typeof first === "object" && Array.isArray((first as { jobs?: unknown }).jobs)) {
    return (first as JobIdListOnly).jobs;
  }
  return null;
}

/**
 * Submit a parent job (node migrate/evacuate), wait for it alone, then
 * report each child job it submitted.
 */
export async function runParentJob(
  ctx: Ctx,
  handle: JobHandle<unknown>,
  o: JobFlags,
  summary: { ok: string; failed: (bad: number, total: number) => string },
): Promise<void> {
  const id = await handle;
  if (o.submit) {
    ctx.io.out(ctx.json() ? json({ job_id: id }) : String(id));
    return;
  }
  const progress = new JobProgress(ctx.io, id);
  let result: unknown;
  try {
    result = await handle.wait({
      followUp: false,
      onLog: (l) => progress.log(l),
      onStatus: (s, jid) => progress.status(s, jid),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
  } finally {
    progress.stop();
  }
  const children = childJobs(result);
  if (!children) {
    if (ctx.json()) ctx.io.out(json({ job_id: id, result }));
    return;
  }
  await reportChildJobs(ctx, children, summary);
}

/** Ganeti's _EnsureInstancesExist: a destructive verb names the unknown instance before asking anything. */
export async function ensureInstanceExists(ctx: Ctx, name: string): Promise<void> {
  const res = await ctx
    .client()
    .query.run("instance", ["name"], q.eq("name", name), ctx.signal ? { signal: ctx.signal } : {})
    .catch((err: unknown) => {
      // A name filter on an unknown instance: ('Instance name x not found', 'unknown_entity').
      if (err instanceof RapiError && untuple(err.rapiMessage).ecode === "unknown_entity") return null;
      throw err;
    });
  if (!res || res.data.length === 0) throw new CliError(`Instance '${name}' not known`, EXIT.FAILED);
}
