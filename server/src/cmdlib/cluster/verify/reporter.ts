// How cluster verify reports a problem (Ganeti's _VerifyErrors mix-in): one
// job-log line per problem, "  - ERROR: node node1: text" or, with
// error_codes, the parseable "  - ERROR:ENODERPC:node:node1:text". Codes in
// ignore_errors are demoted to warnings; only errors make the verify fail.
import { CV_ERROR_CODES, type CvErrorCode } from "@ganeti-ts/schema";

export type VerifyLevel = "ERROR" | "WARNING";

export interface VerifyReportOptions {
  error_codes: boolean;
  ignore_errors: readonly string[];
  debug_simulate_errors: boolean;
}

export class VerifyReporter {
  /** An error (not a warning) was reported. */
  bad = false;

  constructor(
    private readonly op: VerifyReportOptions,
    private readonly feedback: (line: string) => void,
  ) {}

  error(code: CvErrorCode, item: string | null, msg: string, level: VerifyLevel = "ERROR"): void {
    const ltype: VerifyLevel = this.op.ignore_errors.includes(code) ? "WARNING" : level;
    const itype = CV_ERROR_CODES[code][0];
    const line = this.op.error_codes
      ? `${ltype}:${code}:${itype}:${item ?? "None"}:${msg}`
      : `${ltype}: ${itype}${item ? ` ${item}` : ""}: ${msg}`;
    this.feedback(`  - ${line}`);
    if (ltype === "ERROR") this.bad = true;
  }

  /** Report when cond holds (always with debug_simulate_errors). */
  errorIf(cond: unknown, code: CvErrorCode, item: string | null, msg: string | (() => string), level?: VerifyLevel): void {
    if (cond || this.op.debug_simulate_errors) this.error(code, item, typeof msg === "function" ? msg() : msg, level);
  }
}
