// The cluster certificate (Ganeti's server.pem): one self-signed certificate
// whose key and certificate live in the same PEM file. Every node daemon
// serves with it and the master presents it as its client certificate; each
// side pins the other to exactly this certificate, so the CN (the cluster
// name) is never checked against a host name. The RAPI certificate is made
// the same way.
import { X509Certificate } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { generate } from "selfsigned";
import { GanetiError } from "./errors.js";

export class CertificateError extends GanetiError {
  override readonly errorClass = "X509CertError";
  readonly code = "environment_error" as const;
}

export interface ClusterCert {
  /** Certificate then private key, as written to server.pem. */
  pem: string;
  cert: string;
  key: string;
}

const CERT_RE = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/;
const KEY_RE = /-----BEGIN ((?:RSA |EC |ENCRYPTED )?PRIVATE KEY)-----[\s\S]+?-----END \1-----/;

/** A new self-signed certificate valid for `validDays` (Ganeti: 5 years). */
export async function generateClusterCert(
  commonName: string,
  validDays = 5 * 365,
  /** Extra subjectAltNames (host names and IP addresses), e.g. the RAPI's listen address. */
  altNames: string[] = [],
): Promise<ClusterCert> {
  const isIp = (v: string) => /^\d+\.\d+\.\d+\.\d+$/.test(v) || v.includes(":");
  const sans = [...new Set([commonName, ...altNames])].map((v) => (isIp(v) ? { type: 7 as const, ip: v } : { type: 2 as const, value: v }));
  const notBeforeDate = new Date(Date.now() - 60_000); // tolerate small clock skew between nodes
  const notAfterDate = new Date(notBeforeDate.getTime() + validDays * 86_400_000);
  const pems = await generate([{ name: "commonName", value: commonName }], {
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate,
    extensions: [
      // Self-signed and used as its own trust anchor on both sides.
      { name: "basicConstraints", cA: true },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true, keyCertSign: true },
      { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      { name: "subjectAltName", altNames: sans },
    ],
  });
  const cert = normalize(pems.cert);
  const key = normalize(pems.private);
  return { pem: cert + key, cert, key };
}

/** Split a combined PEM into its certificate and private key. */
export function parseCertPem(pem: string): { cert: string; key: string } {
  const cert = CERT_RE.exec(pem)?.[0];
  const key = KEY_RE.exec(pem)?.[0];
  if (!cert) throw new CertificateError("No certificate found in PEM data");
  if (!key) throw new CertificateError("No private key found in PEM data");
  return { cert: cert + "\n", key: key + "\n" };
}

/** Write the combined PEM (mode 0400 as Ganeti does for server.pem), atomically. */
export async function writeCert(file: string, pem: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.tmp-${process.pid}-${Date.now()}`;
  const fh = await fs.open(tmp, "w", 0o400);
  try {
    await fh.writeFile(pem);
    await fh.sync();
  } finally {
    await fh.close();
  }
  await fs.rename(tmp, file);
}

export async function loadCert(file: string): Promise<{ cert: string; key: string; pem: string }> {
  let pem: string;
  try {
    pem = await fs.readFile(file, "utf8");
  } catch (err) {
    throw new CertificateError(`Cannot read certificate file ${file}: ${(err as Error).message}`, { cause: err });
  }
  return { ...parseCertPem(pem), pem };
}

/** SHA-256 fingerprint of the certificate in `pem`, as "AB:CD:..." (OpenSSL style). */
export function fingerprint256(pem: string): string {
  const cert = CERT_RE.exec(pem)?.[0];
  if (!cert) throw new CertificateError("No certificate found in PEM data");
  return new X509Certificate(cert).fingerprint256;
}

function normalize(pem: string): string {
  const s = pem.replace(/\r\n/g, "\n").trim();
  return s + "\n";
}
