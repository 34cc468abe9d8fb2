// Layout of a daemon data directory. The master and the node daemon of the
// same machine share one directory (and the cluster certificate in it).
import path from "node:path";

export function dataPaths(dataDir: string) {
  const root = path.resolve(dataDir);
  return {
    root,
    /** Cluster certificate + key: node daemons and the master's RPC client. */
    clusterCert: path.join(root, "server.pem"),
    /** RAPI certificate + key (HTTPS of the Remote API). */
    rapiCert: path.join(root, "rapi.pem"),
    rapiUsers: path.join(root, "rapi", "users"),
    masterSettings: path.join(root, "master.json"),
    /** Where the node daemon listens: {name, address, port}. (noded.json holds resource overrides.) */
    nodeSettings: path.join(root, "noded-address.json"),
    /** FileStore root of the master: config.data, queue/, archive/. */
    masterState: path.join(root, "master-state"),
    controlSocket: path.join(root, "master.sock"),
    /** The RAPI for root on the master, without credentials (HTTP on a unix socket of mode 0600). */
    adminSocket: path.join(root, "rapi.sock"),
    masterPid: path.join(root, "master.pid"),
    nodePid: path.join(root, "noded.pid"),
    logDir: path.join(root, "log"),
  };
}
export type DataPaths = ReturnType<typeof dataPaths>;
