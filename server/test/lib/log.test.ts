import { mkdtempSync, readFileSync, renameSync, rmSync, truncateSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { createDaemonLog, logTarget, textLine, withLogContext, withoutLogContext } from "../../src/lib/log.js";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(path.join(os.tmpdir(), "gts-log-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const lines = (f: string) =>
  readFileSync(f, "utf8")
    .split("\n")
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Record<string, unknown>);

describe("daemon logs", () => {
  it("go to stdout under systemd, to the file otherwise", () => {
    expect(logTarget({})).toBe("file");
    expect(logTarget({ JOURNAL_STREAM: "8:12345" })).toBe("stdout");
    expect(logTarget({ INVOCATION_ID: "0123abcd" })).toBe("stdout");
    expect(logTarget({ INVOCATION_ID: "0123abcd", GANETI_LOG_TARGET: "file" })).toBe("file");
    expect(logTarget({ GANETI_LOG_TARGET: "stdout" })).toBe("stdout");
  });

  it("write JSON lines with level, daemon, time and the fields given", async () => {
    const file = path.join(dir, "log", "master.log");
    const d = createDaemonLog({ daemon: "master", file, env: {} });
    d.log("job 7 submitted", { jobId: 7 });
    d.log("something broke", { level: "error", reqId: "ab12" });
    d.log("not shown at info", { level: "debug" });
    await d.close();
    const [a, b, ...rest] = lines(file);
    expect(rest).toEqual([]);
    expect(a).toMatchObject({ level: 30, daemon: "master", msg: "job 7 submitted", jobId: 7 });
    expect(typeof a!["time"]).toBe("string");
    expect(b).toMatchObject({ level: 50, msg: "something broke", reqId: "ab12" });
  });

  it("add the fields of the log context (a request id) to every line logged within it", async () => {
    const file = path.join(dir, "master.log");
    const d = createDaemonLog({ daemon: "master", file, env: {} });
    let later: Promise<void> = Promise.resolve();
    await withLogContext({ reqId: "r1" }, async () => {
      d.log("job 1 submitted", { jobId: 1 });
      later = withoutLogContext(async () => {
        await new Promise((r) => setTimeout(r, 5));
        d.log("job 1 success", { jobId: 1 });
      });
      await new Promise((r) => setTimeout(r, 1));
      d.log("answered");
    });
    d.log("outside");
    await later;
    await d.close();
    const got = lines(file).map((l) => [l["msg"], l["reqId"]]);
    expect(got).toEqual([
      ["job 1 submitted", "r1"],
      ["answered", "r1"],
      ["outside", undefined],
      ["job 1 success", undefined],
    ]);
  });

  it("honour GANETI_LOG_LEVEL", async () => {
    const file = path.join(dir, "noded.log");
    const d = createDaemonLog({ daemon: "noded", file, env: { GANETI_LOG_LEVEL: "debug" } });
    d.log("feedback", { level: "debug", jobId: 3 });
    await d.close();
    expect(lines(file)).toEqual([expect.objectContaining({ level: 20, jobId: 3, daemon: "noded" })]);
  });

  it("write to stdout under systemd, and as text with GANETI_LOG_FORMAT=text", async () => {
    const out: string[] = [];
    const d = createDaemonLog({
      daemon: "master",
      file: path.join(dir, "unused.log"),
      env: { JOURNAL_STREAM: "8:1", GANETI_LOG_FORMAT: "text" },
      stdout: { write: (s: string) => out.push(s) },
    });
    d.log("GET /2/info 200", { reqId: "ff00", status: 200, path: "/2/info" });
    await d.close();
    expect(d.target).toBe("stdout");
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d{4}-\d\d-\d\dT\S+Z INFO {2}master: GET \/2\/info 200 reqId=ff00 status=200 path=\/2\/info\n$/);
    expect(() => readFileSync(path.join(dir, "unused.log"))).toThrow();
  });

  it("text lines quote values with spaces", () => {
    expect(textLine(JSON.stringify({ level: 40, time: "T", daemon: "d", msg: "m", note: "a b" }))).toBe('T WARN  d: m note="a b"\n');
  });

  it("reopen the file on SIGHUP (logrotate's create mode)", async () => {
    const file = path.join(dir, "master.log");
    const d = createDaemonLog({ daemon: "master", file, env: {} });
    d.log("before rotation");
    renameSync(file, `${file}.1`);
    process.emit("SIGHUP", "SIGHUP");
    d.log("after rotation");
    await d.close();
    expect(lines(`${file}.1`).map((l) => l["msg"])).toEqual(["before rotation"]);
    expect(lines(file).map((l) => l["msg"])).toEqual(["log file reopened (SIGHUP)", "after rotation"]);
  });

  it("append, so that copytruncate leaves no hole", async () => {
    const file = path.join(dir, "master.log");
    const d = createDaemonLog({ daemon: "master", file, env: {} });
    d.log("a line long enough to leave a hole if the offset were kept");
    truncateSync(file, 0);
    d.log("after truncate");
    await d.close();
    const text = readFileSync(file, "utf8");
    expect(text.startsWith("{")).toBe(true);
    expect(lines(file).map((l) => l["msg"])).toEqual(["after truncate"]);
  });

  it("stop listening for SIGHUP once closed", async () => {
    const before = process.listenerCount("SIGHUP");
    const d = createDaemonLog({ daemon: "master", file: path.join(dir, "x.log"), env: {} });
    expect(process.listenerCount("SIGHUP")).toBe(before + 1);
    await d.close();
    expect(process.listenerCount("SIGHUP")).toBe(before);
  });
});
