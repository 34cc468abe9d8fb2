// The QMP client against an in-process fake QMP server on a unix socket:
// greeting and capabilities, commands answered in order, errors, events in
// between, a peer that goes away.
import { promises as fs } from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { QmpClient, QmpError, withQmp } from "../../../src/hypervisors/kvm/qmp.js";
import { withQmpFile } from "../../../src/hypervisors/kvm/qmp-fd.js";

let dir: string;
let server: net.Server;
const sock = () => path.join(dir, "q.sock");
const seen: string[] = [];

beforeAll(async () => {
  dir = await fs.mkdtemp(path.join(os.tmpdir(), "gts-qmp-"));
  server = net.createServer((c) => {
    c.write(JSON.stringify({ QMP: { version: { qemu: { major: 7, minor: 2, micro: 0 } }, capabilities: [] } }) + "\n");
    let buf = "";
    c.on("data", (d) => {
      buf += d.toString();
      let nl;
      while ((nl = buf.indexOf("\n")) >= 0) {
        const msg = JSON.parse(buf.slice(0, nl)) as { execute: string; arguments?: Record<string, unknown> };
        buf = buf.slice(nl + 1);
        seen.push(msg.execute);
        switch (msg.execute) {
          case "qmp_capabilities":
            c.write('{"return": {}}\n');
            break;
          case "query-status":
            // An event arrives before the answer, as QEMU may send one anytime.
            c.write('{"event": "BALLOON_CHANGE", "data": {"actual": 1}, "timestamp": {"seconds": 1, "microseconds": 0}}\n');
            c.write('{"return": {"status": "running", "running": true}}\n');
            break;
          case "balloon":
            c.write(JSON.stringify({ return: {} }) + "\n");
            c.write(JSON.stringify({ event: "BALLOON_CHANGE", data: { actual: msg.arguments?.["value"] } }) + "\n");
            break;
          case "add-fd":
            c.write(JSON.stringify({ return: { "fdset-id": 7, fd: 42 } }) + "\n");
            break;
          case "remove-fd":
          case "human-monitor-command":
            c.write(JSON.stringify({ return: msg.execute === "remove-fd" ? {} : "" }) + "\n");
            break;
          case "quit":
            c.end();
            break;
          default:
            c.write(JSON.stringify({ error: { class: "CommandNotFound", desc: `The command ${msg.execute} has not been found` } }) + "\n");
        }
      }
    });
  });
  await new Promise<void>((r) => server.listen(sock(), r));
});

afterAll(async () => {
  await new Promise((r) => server.close(r));
  await fs.rm(dir, { recursive: true, force: true });
});

describe("QMP client", () => {
  it("negotiates capabilities, runs commands in order and keeps events", async () => {
    const c = await QmpClient.connect(sock());
    const [st, b] = await Promise.all([c.execute("query-status"), c.execute("balloon", { value: 1024 })]);
    expect(st).toEqual({ status: "running", running: true });
    expect(b).toEqual({});
    expect(c.events[0]).toMatchObject({ event: "BALLOON_CHANGE", data: { actual: 1 } });
    const ev = await c.waitEvent("BALLOON_CHANGE", 1000);
    expect(ev.event).toBe("BALLOON_CHANGE");
    c.close();
    expect(seen.slice(0, 3)).toEqual(["qmp_capabilities", "query-status", "balloon"]);
  });

  it("turns a QMP error into a QmpError with its class", async () => {
    const err = await withQmp(sock(), (c) => c.execute("nosuch")).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(QmpError);
    expect((err as QmpError).message).toBe("QMP command nosuch failed: The command nosuch has not been found");
    expect((err as QmpError).qmpClass).toBe("CommandNotFound");
  });

  it("fails pending commands when the peer closes, and refuses a missing socket", async () => {
    const c = await QmpClient.connect(sock());
    await expect(c.execute("quit")).rejects.toThrow(/QMP command quit on .* failed: connection closed/);
    await expect(c.execute("query-status")).rejects.toThrow(/connection closed/);
    await expect(QmpClient.connect(path.join(dir, "none.sock"), 1000)).rejects.toThrow(/^Can't connect to the QMP socket/);
  });

  it("times out waiting for an event that never comes", async () => {
    await expect(withQmp(sock(), (c) => c.waitEvent("SHUTDOWN", 100))).rejects.toThrow(/No SHUTDOWN event/);
  });
});

describe("handing qemu an open file (add-fd through the python3 relay)", () => {
  const session = async (fn: Parameters<typeof withQmpFile>[2], python?: string) => {
    const fh = await fs.open(path.join(dir, "image"), "w+");
    try {
      return await withQmpFile(sock(), fh.fd, fn, python);
    } finally {
      await fh.close();
    }
  };

  it("runs one session: capabilities, add-fd, the caller's commands on the fd set, remove-fd", async () => {
    seen.length = 0;
    const out = await session(async (q, fdset) => {
      await q.execute("human-monitor-command", { "command-line": `drive_add dummy file=/dev/fdset/${fdset}` });
      return fdset;
    });
    expect(out).toBe(7);
    expect(seen).toEqual(["qmp_capabilities", "add-fd", "human-monitor-command", "remove-fd"]);
  });

  it("removes the fd set when the caller fails too", async () => {
    seen.length = 0;
    await expect(
      session(async () => {
        throw new Error("drive_add failed");
      }),
    ).rejects.toThrow("drive_add failed");
    expect(seen).toEqual(["qmp_capabilities", "add-fd", "remove-fd"]);
  });

  it("says what is missing when there is no python3, before qemu hears anything", async () => {
    seen.length = 0;
    await expect(session(async () => 0, "/nonexistent/python3")).rejects.toThrow(
      /^Can't hand qemu an open file: \/nonexistent\/python3 is needed to pass a file descriptor to qemu/,
    );
    expect(seen).toEqual([]);
  });
});
