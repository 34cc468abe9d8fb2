// The device path of a replicated (drbd) disk as the node hands it to the
// hypervisor: the local storage daemon's NBD export, reached over TLS with
// the node's replication credentials. qemu's own nbd:// URIs carry no TLS,
// hence a scheme of ours:
//   nbds://HOST:PORT/EXPORT?tls-creds-dir=DIR&tls-hostname=NAME
export interface ReplicaUri {
  host: string;
  port: number;
  export: string;
  /** A qemu x509 credentials directory (ca-cert.pem, client-cert.pem, client-key.pem). */
  tlsCredsDir: string;
  /** The name the server's certificate carries. */
  tlsHostname: string;
}

export function formatReplicaUri(u: ReplicaUri): string {
  const host = u.host.includes(":") ? `[${u.host}]` : u.host;
  const q = new URLSearchParams({ "tls-creds-dir": u.tlsCredsDir, "tls-hostname": u.tlsHostname });
  return `nbds://${host}:${u.port}/${encodeURIComponent(u.export)}?${q.toString()}`;
}

/** The parts of a replica device path; null for any other path (a file, a block device). */
export function parseReplicaUri(uri: string): ReplicaUri | null {
  if (!uri.startsWith("nbds://")) return null;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return null;
  }
  const dir = u.searchParams.get("tls-creds-dir");
  const name = u.searchParams.get("tls-hostname");
  const port = Number(u.port);
  if (!dir || !name || !Number.isInteger(port) || port <= 0) return null;
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    export: decodeURIComponent(u.pathname.slice(1)),
    tlsCredsDir: dir,
    tlsHostname: name,
  };
}
