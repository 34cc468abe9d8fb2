// Raw-HTTP abuse against a listening RAPI server (issue 15 items 3 and 7):
// what Node's HTTP parser refuses, slow clients, CONNECT, and an
// unauthenticated client announcing a huge body. Every answer is Ganeti's
// JSON error body; nothing hangs.
import net from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildRapiServer } from "../../src/rapi/app.js";
import { basic, makeEnv, type Env } from "./harness.js";
import type { FastifyInstance } from "fastify";

let env: Env;
let app: FastifyInstance;
let port: number;

beforeAll(async () => {
  env = await makeEnv();
  // Short timeouts so that the slow-client cases end quickly.
  app = await buildRapiServer({
    config: env.config,
    queue: env.queue,
    rpc: env.rpc,
    usersFile: env.usersFile,
    watchUsers: false,
    headersTimeoutMs: 400,
    requestTimeoutMs: 800,
  });
  await app.listen({ host: "127.0.0.1", port: 0 });
  const addr = app.server.address();
  port = typeof addr === "object" && addr ? addr.port : 0;
});
afterAll(async () => {
  await app?.close();
  await env?.close();
});

interface RawAnswer {
  status: number;
  headers: Record<string, string>;
  body: unknown;
}

/** Send bytes (optionally in timed pieces), read until the server closes, parse the first answer. */
function exchange(pieces: Array<string | Buffer | { waitMs: number }>): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(port, "127.0.0.1");
    const chunks: Buffer[] = [];
    let closed = false;
    sock.on("data", (c) => chunks.push(c));
    sock.on("error", () => undefined);
    sock.on("close", () => {
      closed = true;
      const text = Buffer.concat(chunks).toString("utf8");
      const head = text.slice(0, text.indexOf("\r\n\r\n"));
      const [statusLine, ...lines] = head.split("\r\n");
      const m = /^HTTP\/1\.1 (\d{3}) /.exec(statusLine ?? "");
      if (!m) return reject(new Error(`no HTTP answer: ${JSON.stringify(text.slice(0, 200))}`));
      const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      const rest = text.slice(text.indexOf("\r\n\r\n") + 4);
      const len = Number(headers["content-length"] ?? rest.length);
      resolve({ status: Number(m[1]), headers, body: JSON.parse(rest.slice(0, len)) });
    });
    void (async () => {
      for (const p of pieces) {
        if (closed) return;
        if (typeof p === "object" && "waitMs" in p) await new Promise((r) => setTimeout(r, p.waitMs));
        else sock.write(p);
      }
    })();
  });
}

function expectShape(a: RawAnswer, status: number) {
  expect(a.status).toBe(status);
  expect(a.headers["server"]).toBe("Ganeti 3.0.2");
  expect(a.headers["content-type"]).toBe("application/json");
  const b = a.body as Record<string, unknown>;
  expect(Object.keys(b).sort()).toEqual(["code", "explain", "message"]);
  expect(b["code"]).toBe(status);
}

describe("below fastify: Node's parser and timers", () => {
  it("NUL in a header: 400", async () => {
    expectShape(await exchange(["GET /2/info HTTP/1.1\r\nHost: x\r\nX-Evil: a\0b\r\n\r\n"]), 400);
  });

  it("oversized headers: 431", async () => {
    expectShape(await exchange([`GET /2/info HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(64 * 1024)}\r\n\r\n`]), 431);
  });

  it("a method token Node does not know: 501 on a RAPI path, 404 elsewhere", async () => {
    const a = await exchange(["FROB /2/info HTTP/1.1\r\nHost: x\r\n\r\n"]);
    expectShape(a, 501);
    expect((a.body as { message: string }).message).toBe("Method FROB is unsupported for path /2/info");
    expectShape(await exchange(["FROB /nowhere HTTP/1.1\r\nHost: x\r\n\r\n"]), 404);
  });

  it("garbage instead of a request line: 400", async () => {
    expectShape(await exchange(["\x16\x03\x01 hello\r\n\r\n"]), 400);
  });

  it("CONNECT gets an answer: 404 for a host:port target, 501 on a RAPI path", async () => {
    const a = await exchange(["CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"]);
    expectShape(a, 404);
    const b = await exchange(["CONNECT /2/info HTTP/1.1\r\nHost: x\r\n\r\n"]);
    expectShape(b, 501);
    expect((b.body as { message: string }).message).toBe("Method CONNECT is unsupported for path /2/info");
  });

  it("headers trickled slowly are cut off (408)", async () => {
    const slow: Array<string | { waitMs: number }> = ["GET /2/info HTTP/1.1\r\n"];
    for (let i = 0; i < 20; i++) slow.push({ waitMs: 100 }, `X-Slow-${i}: y\r\n`);
    expectShape(await exchange(slow), 408);
  });

  it("a body trickled slowly is cut off (408), not waited for forever", async () => {
    const auth = basic("admin", "secret");
    const slow: Array<string | { waitMs: number }> = [
      `PUT /2/tags?tag=a HTTP/1.1\r\nHost: x\r\nAuthorization: ${auth}\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n`,
    ];
    for (let i = 0; i < 40; i++) slow.push({ waitMs: 100 }, " ");
    expectShape(await exchange(slow), 408);
    expect(env.queue.submitted).toHaveLength(0);
  });

  it("an anonymous write announcing 1 GiB is refused at once, its body never read", async () => {
    const a = await exchange([
      `PUT /2/tags?tag=a HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${2 ** 30}\r\n\r\n`,
      "{",
    ]);
    expectShape(a, 401);
    expect(a.headers["connection"]).toBe("close");
  });

  it("an authenticated write announcing more than the limit: 413 without reading it", async () => {
    const a = await exchange([
      `PUT /2/tags?tag=a HTTP/1.1\r\nHost: x\r\nAuthorization: ${basic("admin", "secret")}\r\nContent-Type: application/json\r\nContent-Length: ${2 ** 30}\r\n\r\n`,
      "{",
    ]);
    expectShape(a, 413);
  });
});

describe("over HTTPS (the default)", () => {
  it("the same timeouts and error shape apply", async () => {
    const tls = await import("node:tls");
    const { generateClusterCert } = await import("../../src/lib/certs.js");
    const cert = await generateClusterCert("cluster.ganeti.test");
    const secure = await buildRapiServer({
      config: env.config,
      queue: env.queue,
      rpc: env.rpc,
      usersFile: env.usersFile,
      watchUsers: false,
      tls: { key: cert.pem, cert: cert.pem },
      headersTimeoutMs: 400,
      requestTimeoutMs: 800,
    });
    await secure.listen({ host: "127.0.0.1", port: 0 });
    try {
      const addr = secure.server.address();
      const securePort = typeof addr === "object" && addr ? addr.port : 0;
      const text = await new Promise<string>((resolve) => {
        const s = tls.connect({ host: "127.0.0.1", port: securePort, rejectUnauthorized: false }, () =>
          s.write("GET /2/info HTTP/1.1\r\nHost: x\r\n"),
        );
        let buf = "";
        s.on("data", (d: Buffer) => (buf += d.toString("utf8")));
        s.on("close", () => resolve(buf));
        s.on("error", () => undefined);
      });
      expect(text.split("\r\n")[0]).toBe("HTTP/1.1 408 Request Timeout");
      expect(JSON.parse(text.slice(text.indexOf("\r\n\r\n") + 4))).toEqual({
        code: 408,
        message: "Request Timeout",
        explain: "Request timed out; try again later",
      });
    } finally {
      await secure.close();
    }
  });
});
