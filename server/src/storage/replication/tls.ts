// TLS for the replication traffic between nodes. qemu's x509 credentials
// refuse a CA certificate as a server or client certificate, and the
// cluster certificate (server.pem) is a self-signed CA. So each node signs,
// with the cluster key it already holds, a leaf certificate for its storage
// daemons; both ends trust only the cluster certificate as CA. Whoever has
// the cluster key (a cluster node) can connect; nobody else can. A node whose
// cluster certificate changed (renew-crypto) signs a new leaf.
import { X509Certificate } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { generate } from "selfsigned";
import { BlockDeviceError } from "../../lib/errors.js";
import { loadCert } from "../../lib/certs.js";

/** The name in the leaf certificates; clients check the server's against it. */
export const REPLICATION_TLS_NAME = "ganeti-ts-replication";

async function readOrNull(file: string): Promise<string | null> {
  try {
    return await fs.readFile(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw err;
  }
}

/**
 * The directory of qemu x509 credentials (ca-cert.pem, server-/client-cert.pem
 * and -key.pem) for `clusterCertFile`, made or renewed when needed.
 */
export async function ensureReplicationTls(clusterCertFile: string, dir: string): Promise<string> {
  let cluster;
  try {
    cluster = await loadCert(clusterCertFile);
  } catch (err) {
    throw new BlockDeviceError(`Replication needs the cluster certificate ${clusterCertFile}: ${(err as Error).message}`, { cause: err });
  }
  const caFile = path.join(dir, "ca-cert.pem");
  const current = await readOrNull(caFile);
  const leafCert = await readOrNull(path.join(dir, "server-cert.pem"));
  if (current === cluster.cert && leafCert && new Date(new X509Certificate(leafCert).validTo).getTime() > Date.now() + 86_400_000) {
    return dir;
  }
  const ca = new X509Certificate(cluster.cert);
  const notBeforeDate = new Date(Math.max(new Date(ca.validFrom).getTime(), Date.now() - 60_000));
  const leaf = await generate([{ name: "commonName", value: REPLICATION_TLS_NAME }], {
    keySize: 2048,
    algorithm: "sha256",
    notBeforeDate,
    notAfterDate: new Date(ca.validTo),
    ca: { key: cluster.key, cert: cluster.cert },
    extensions: [
      { name: "basicConstraints", cA: false },
      { name: "keyUsage", digitalSignature: true, keyEncipherment: true },
      { name: "extKeyUsage", serverAuth: true, clientAuth: true },
      { name: "subjectAltName", altNames: [{ type: 2, value: REPLICATION_TLS_NAME }] },
    ],
  });
  await fs.mkdir(dir, { recursive: true, mode: 0o700 });
  const write = async (name: string, text: string, mode: number) => {
    const tmp = path.join(dir, `.${name}.tmp`);
    await fs.writeFile(tmp, text, { mode });
    await fs.rename(tmp, path.join(dir, name));
  };
  for (const role of ["server", "client"]) {
    await write(`${role}-key.pem`, leaf.private, 0o600);
    await write(`${role}-cert.pem`, leaf.cert, 0o644);
  }
  // Last: a directory whose CA matches holds a complete pair.
  await write("ca-cert.pem", cluster.cert, 0o644);
  return dir;
}
