// Real HTTPS server on 127.0.0.1:0 with a self-signed certificate (like a
// Ganeti cluster's rapi.pem): pinning, CA file, insecure, and the default.
import https from "node:https";
import { X509Certificate } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { AddressInfo } from "node:net";
import { generate } from "selfsigned";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConnectionError, GanetiClient } from "../../src/index.js";

let server: https.Server;
let url: string;
let fingerprint: string;
let certPem: string;
let dir: string;
const seenAuth: (string | undefined)[] = [];

beforeAll(async () => {
  const pems = await generate([{ name: "commonName", value: "ganeti.example.com" }], {
    keySize: 2048,
    extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
  });
  certPem = pems.cert;
  fingerprint = new X509Certificate(pems.cert).fingerprint256;
  dir = mkdtempSync(join(tmpdir(), "sdk-tls-"));
  server = https.createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    seenAuth.push(req.headers.authorization);
    res.writeHead(200, { "Content-Type": "application/json", Connection: "close" });
    res.end("2");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((r) => server.close(() => r()));
  rmSync(dir, { recursive: true, force: true });
});

function client(o: Partial<ConstructorParameters<typeof GanetiClient>[0]>): GanetiClient {
  return new GanetiClient({ baseUrl: url, username: "admin", password: "secret", retry: false, ...o });
}

describe("TLS", () => {
  it("the correct pinned fingerprint passes (colons or not, any case)", async () => {
    for (const fp of [fingerprint, fingerprint.replace(/:/g, "").toLowerCase(), `sha256:${fingerprint}`]) {
      const c = client({ fingerprint: fp });
      expect(await c.cluster.version()).toBe(2);
      c.close();
    }
  });

  it("a wrong pin fails before the request (and its credentials) is sent", async () => {
    const before = seenAuth.length;
    const wrong = "AA".repeat(32);
    const c = client({ fingerprint: wrong });
    const err = await c.cluster.version().catch((e: unknown) => e);
    c.close();
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as ConnectionError).code).toBe("CERT_PIN_MISMATCH");
    expect(seenAuth.length).toBe(before);
  });

  it("insecure passes; the default (system CAs) rejects the self-signed cert with a hint", async () => {
    const ok = client({ insecure: true });
    expect(await ok.cluster.version()).toBe(2);
    ok.close();
    const strict = client({});
    const err = await strict.cluster.version().catch((e: unknown) => e);
    strict.close();
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(/self-signed|fingerprint|insecure/);
  });

  it("a CA file (the cluster cert itself) passes", async () => {
    const caFile = join(dir, "rapi.pem");
    writeFileSync(caFile, certPem);
    const c = client({ caFile });
    expect(await c.cluster.version()).toBe(2);
    c.close();
  });

  it("a malformed fingerprint is refused at construction", () => {
    expect(() => client({ fingerprint: "abc" })).toThrow(/64 hex/);
  });
});
