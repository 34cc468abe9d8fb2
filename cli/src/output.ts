// Output helpers: gnt-*-style tables (aligned columns, numbers right-aligned,
// --no-headers, --separator), value formatting by query field kind, JSON
// output, key/value "info" views, and the live job progress display.
import stringWidth from "string-width";
import { SingleBar } from "cli-progress";
import type { JobLogLine, QueryFieldDefinition, QueryResult, RapiJobStatus } from "@ganeti-ts/sdk";

export interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Whether stderr is a terminal (enables the progress bar). */
  isTTY: boolean;
  /** The stream the progress bar draws on (stderr). */
  progressStream?: NodeJS.WritableStream;
  /** Whether stdin is a terminal: confirmation questions are asked only then. */
  stdinIsTTY?: boolean;
  /** Ask one question on the terminal; the answer line (null at end of input). */
  ask?: (prompt: string) => Promise<string | null>;
}

export type Units = "h" | "m" | "g" | "t";

/** Ganeti's unit formatting: MiB in, "512M" / "1.5G" / "2.0T" out for `h`. */
export function formatUnit(mib: number, units: Units = "h"): string {
  switch (units) {
    case "m":
      return String(Math.round(mib));
    case "g":
      return (mib / 1024).toFixed(1);
    case "t":
      return (mib / 1024 / 1024).toFixed(1);
    default:
      if (mib < 1024) return `${Math.round(mib)}M`;
      if (mib < 1024 * 1024) return `${(mib / 1024).toFixed(1)}G`;
      return `${(mib / 1024 / 1024).toFixed(1)}T`;
  }
}

const STATUS_TEXT: Record<number, string> = { 1: "(unknown)", 2: "?", 3: "-", 4: "*" };

/** Format one query cell by the field's kind. */
function formatCell(kind: QueryFieldDefinition["kind"], status: number, value: unknown, units: Units): string {
  if (status !== 0) return STATUS_TEXT[status] ?? "?";
  return formatValue(kind, value, units);
}

export function formatValue(kind: string, value: unknown, units: Units = "h"): string {
  if (value === null || value === undefined) return "-";
  if (kind === "bool") return value ? "Y" : "N";
  if (kind === "unit" && typeof value === "number") return formatUnit(value, units);
  if (kind === "timestamp" && typeof value === "number") return new Date(value * 1000).toISOString();
  if (Array.isArray(value)) {
    return value.map((v) => (Array.isArray(v) || (v && typeof v === "object") ? JSON.stringify(v) : String(v))).join(",");
  }
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

const NUMERIC = new Set(["number", "unit", "float"]);

interface TableOptions {
  headers?: boolean;
  separator?: string;
  units?: Units;
}

/**
 * Render rows like gnt-* list: header titles, columns separated by one space
 * (or --separator, then no padding), numbers right-aligned.
 */
export function renderTable(columns: { title: string; numeric?: boolean }[], rows: string[][], o: TableOptions = {}): string {
  const all = o.headers === false ? rows : [columns.map((c) => c.title), ...rows];
  if (o.separator !== undefined) return all.map((r) => r.join(o.separator)).join("\n");
  if (all.length === 0) return "";
  // Each column as wide as its widest cell (display width), one space
  // between columns, no trailing blanks. (cli-table3 did this before; its
  // per-cell layout cost a 200-instance list a third of its CPU time.)
  const ncols = all.reduce((n, r) => Math.max(n, r.length), columns.length);
  const widths = Array.from({ length: ncols }, (_, i) => all.reduce((w, r) => Math.max(w, stringWidth(r[i] ?? "")), 0));
  return all
    .map((r) =>
      widths
        .map((w, i) => {
          const cell = r[i] ?? "";
          const pad = " ".repeat(w - stringWidth(cell));
          return columns[i]?.numeric ? pad + cell : cell + pad;
        })
        .join(" ")
        .replace(/\s+$/, ""),
    )
    .join("\n");
}

/** Table from a /2/query result. */
export function renderQuery(result: QueryResult, o: TableOptions = {}): string {
  const units = o.units ?? "h";
  const columns = result.fields.map((f) => ({ title: f.title, numeric: NUMERIC.has(f.kind) }));
  const rows = result.data.map((row) => row.map((cell, i) => formatCell(result.fields[i]?.kind ?? "other", cell[0], cell[1], units)));
  return renderTable(columns, rows, o);
}

/** Query result as a list of objects (for --output json). */
export function queryToObjects(result: QueryResult): Record<string, unknown>[] {
  return result.data.map((row) => Object.fromEntries(result.fields.map((f, i) => [f.name, row[i]?.[0] === 0 ? row[i]?.[1] : null])));
}

/** "key: value" lines, nested dicts indented (like gnt-* info). */
export function renderInfo(obj: Record<string, unknown>, indent = ""): string {
  const lines: string[] = [];
  for (const [k, v] of Object.entries(obj)) {
    if (v && typeof v === "object" && !Array.isArray(v)) {
      const entries = Object.keys(v).length;
      lines.push(`${indent}${k}:${entries ? "" : " {}"}`);
      if (entries) lines.push(renderInfo(v as Record<string, unknown>, indent + "  "));
    } else if (Array.isArray(v)) {
      lines.push(`${indent}${k}: ${v.length ? formatValue("other", v) : "[]"}`);
    } else {
      lines.push(`${indent}${k}: ${v === null ? "-" : String(v)}`);
    }
  }
  return lines.join("\n");
}

export function json(value: unknown): string {
  return JSON.stringify(value, null, 2);
}

/** Ganeti-style log line: "Wed Nov 25 03:49:41 2026 * creating instance disks...". */
export function formatLogLine(l: JobLogLine): string {
  const d = new Date(l.time);
  const stamp = d.toUTCString().replace(/^(\w+), (\d+) (\w+) (\d+) ([\d:]+) GMT$/, "$1 $3 $2 $5 $4");
  return `${stamp} ${l.message}`;
}

/**
 * Live progress while waiting for a job: log lines go to stderr as they come;
 * on a terminal a one-line bar shows the job id, status and elapsed time.
 */
export class JobProgress {
  private bar: SingleBar | undefined;
  constructor(
    private readonly io: Io,
    private readonly jobId: number,
  ) {
    if (io.isTTY && io.progressStream) {
      this.bar = new SingleBar({
        format: "Job {jobid} {status} {duration_formatted}",
        stream: io.progressStream,
        clearOnComplete: true,
        hideCursor: false,
        barsize: 0,
      });
      this.bar.start(1, 0, { jobid: jobId, status: "submitted" });
    }
  }
  log(l: JobLogLine): void {
    const line = (l.jobId !== this.jobId ? `[job ${l.jobId}] ` : "") + formatLogLine(l);
    if (this.bar) {
      // Print above the bar: clear the line, write, let the bar redraw.
      this.io.progressStream?.write("\r\x1b[K");
      this.io.err(line);
      this.bar.render();
    } else {
      this.io.err(line);
    }
  }
  status(s: RapiJobStatus, id: number): void {
    this.bar?.update(0, { status: id === this.jobId ? s : `${s} (job ${id})` });
  }
  stop(): void {
    this.bar?.stop();
  }
}
