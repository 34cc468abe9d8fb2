// The device path of a replicated (drbd) disk as the node hands it to the
// hypervisor. The node's own guests reach the local storage daemon's export
// through a unix socket (root's, or granted to the user the guest's qemu
// runs as: the socket's owner is the access control, no TLS on the way), in
// qemu's own URI syntax:
//   nbd+unix:///EXPORT?socket=PATH
// A network attachment (another node's export, over TLS with the node's
// replication credentials) uses a scheme of ours, since qemu's own nbd://
// URIs carry no TLS:
//   nbds://HOST:PORT/EXPORT?tls-creds-dir=DIR&tls-hostname=NAME
export interface ReplicaTcpUri {
  host: string;
  port: number;
  export: string;
  /** A qemu x509 credentials directory (ca-cert.pem, client-cert.pem, client-key.pem). */
  tlsCredsDir: string;
  /** The name the server's certificate carries. */
  tlsHostname: string;
}

export interface ReplicaUnixUri {
  /** The storage daemon's NBD socket. */
  socket: string;
  export: string;
}

export type ReplicaUri = ReplicaTcpUri | ReplicaUnixUri;

export function isUnixReplica(u: ReplicaUri): u is ReplicaUnixUri {
  return "socket" in u;
}

export function formatReplicaUri(u: ReplicaUri): string {
  if (isUnixReplica(u)) return `nbd+unix:///${encodeURIComponent(u.export)}?${new URLSearchParams({ socket: u.socket }).toString()}`;
  const host = u.host.includes(":") ? `[${u.host}]` : u.host;
  const q = new URLSearchParams({ "tls-creds-dir": u.tlsCredsDir, "tls-hostname": u.tlsHostname });
  return `nbds://${host}:${u.port}/${encodeURIComponent(u.export)}?${q.toString()}`;
}

/** The parts of a replica device path; null for any other path (a file, a block device). */
export function parseReplicaUri(uri: string): ReplicaUri | null {
  if (!uri.startsWith("nbds://") && !uri.startsWith("nbd+unix:///")) return null;
  let u: URL;
  try {
    u = new URL(uri);
  } catch {
    return null;
  }
  const exportName = decodeURIComponent(u.pathname.slice(1));
  if (u.protocol === "nbd+unix:") {
    const socket = u.searchParams.get("socket");
    return socket && exportName ? { socket, export: exportName } : null;
  }
  const dir = u.searchParams.get("tls-creds-dir");
  const name = u.searchParams.get("tls-hostname");
  const port = Number(u.port);
  if (!dir || !name || !Number.isInteger(port) || port <= 0) return null;
  return {
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    export: exportName,
    tlsCredsDir: dir,
    tlsHostname: name,
  };
}
