// The store a master's settings name: this data dir's files, or etcd.
import { EtcdStore } from "../store/etcd-store.js";
import { FileStore } from "../store/file-store.js";
import type { Store } from "../store/store.js";
import type { DataPaths } from "./paths.js";
import type { MasterSettings } from "./settings.js";

export function openStore(settings: MasterSettings, p: DataPaths): Store {
  if (settings.store.kind === "etcd") {
    // Our own members take whole configs in one transaction; an external etcd has its default limit.
    return new EtcdStore(settings.store.endpoints, { prefix: settings.store.prefix, maxTxnOps: settings.store.managed ? 10_000 : 128 });
  }
  return new FileStore(p.masterState);
}
