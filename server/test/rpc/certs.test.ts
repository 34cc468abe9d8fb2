import { X509Certificate, createPrivateKey } from "node:crypto";
import { stat } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CertificateError,
  fingerprint256,
  generateClusterCert,
  loadCert,
  parseCertPem,
  writeCert,
  type ClusterCert,
} from "../../src/lib/certs.js";
import { tempDir } from "../noded/fixtures.js";

describe("cluster certificates", () => {
  let cert: ClusterCert;
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeAll(async () => {
    ({ dir, cleanup } = await tempDir());
    cert = await generateClusterCert("cluster.example.com");
  });
  afterAll(() => cleanup());

  it("generates a self-signed cert+key PEM for the cluster name", () => {
    expect(cert.pem).toBe(cert.cert + cert.key);
    const x = new X509Certificate(cert.cert);
    expect(x.subject).toBe("CN=cluster.example.com");
    expect(x.issuer).toBe(x.subject);
    expect(x.checkIssued(x)).toBe(true);
    expect(x.ca).toBe(true);
    expect(new Date(x.validTo).getTime() - Date.now()).toBeGreaterThan(4 * 365 * 86_400_000);
    expect(x.checkPrivateKey(createPrivateKey(cert.key))).toBe(true);
  });

  it("splits, writes (0400) and loads the PEM", async () => {
    expect(parseCertPem(cert.pem)).toEqual({ cert: cert.cert, key: cert.key });
    const file = path.join(dir, "sub", "server.pem");
    await writeCert(file, cert.pem);
    expect((await stat(file)).mode & 0o777).toBe(0o400);
    expect(await loadCert(file)).toEqual({ cert: cert.cert, key: cert.key, pem: cert.pem });
    await expect(loadCert(path.join(dir, "missing.pem"))).rejects.toBeInstanceOf(CertificateError);
    expect(() => parseCertPem(cert.key)).toThrow(/No certificate/);
    expect(() => parseCertPem(cert.cert)).toThrow(/No private key/);
  });

  it("fingerprints like OpenSSL (SHA-256, colon separated)", () => {
    const fp = fingerprint256(cert.pem);
    expect(fp).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    expect(fp).toBe(new X509Certificate(cert.cert).fingerprint256);
  });
});
