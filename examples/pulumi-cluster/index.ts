// A node group, a network connected to it, and three instances (diskless,
// file, sharedfile) on the one-node `make demo` cluster.
//
// Connection: `pulumi config set ganeti:url https://127.0.0.1:5080`,
// `pulumi config set ganeti:user admin`, `pulumi config set --secret
// ganeti:password ...`, and `ganeti:caCert` / `ganeti:fingerprint` (or
// GANETI_RAPI_URL, GANETI_RAPI_USER, GANETI_RAPI_PASSWORD, GANETI_RAPI_CA).
import * as pulumi from "@pulumi/pulumi";
import { Instance, Network, NodeGroup } from "@ganeti-ts/pulumi";

const cfg = new pulumi.Config();
const node = cfg.get("node") ?? "node1.example.com";
const domain = cfg.get("domain") ?? "example.com";
const prefix = cfg.get("prefix") ?? "demo";
// The demo node stays in its group; the new group is empty unless nodes are listed.
const groupNodes = cfg.getObject<string[]>("groupNodes") ?? [];
const nodeGroup = cfg.get("nodeGroup") ?? "default";

const group = new NodeGroup("apps", {
  name: `${prefix}-apps`,
  allocPolicy: "preferred",
  nodes: groupNodes,
  tags: ["env:demo"],
});

const lan = new Network("lan", {
  name: `${prefix}-lan`,
  subnet: cfg.get("subnet") ?? "192.0.2.0/24",
  gateway: cfg.get("gateway") ?? "192.0.2.1",
  reservedIps: ["192.0.2.2"],
  connections: [
    { group: nodeGroup, mode: "bridged", link: "br0" },
    { group: group.name, mode: "bridged", link: "br0" },
  ],
  tags: ["env:demo"],
});

const common = {
  os: "noop",
  hypervisor: "fake",
  primaryNode: node,
  vcpus: 1,
  tags: ["env:demo"],
  updatePolicy: { allowReboot: true },
};

const web = new Instance("web", {
  ...common,
  name: `${prefix}-web.${domain}`,
  diskTemplate: "diskless",
  memory: 256,
  nics: [{ network: lan.name, ip: "pool" }],
});

const db = new Instance("db", {
  ...common,
  name: `${prefix}-db.${domain}`,
  diskTemplate: "file",
  memory: "512M",
  disks: [
    { size: "1G", name: "root" },
    { size: 2048, name: "data" },
  ],
  nics: [{ network: lan.name, ip: "pool" }],
});

const batch = new Instance("batch", {
  ...common,
  name: `${prefix}-batch.${domain}`,
  diskTemplate: "sharedfile",
  memory: 256,
  disks: [{ size: "1G" }],
  nics: [{ link: "br0" }],
  state: "stopped",
});

export const groupUuid = group.uuid;
export const networkFree = lan.freeCount;
export const instances = {
  web: { uuid: web.uuid, ip: web.nicIps, status: web.status },
  db: { uuid: db.uuid, ip: db.nicIps, disks: db.diskUuids, status: db.status },
  batch: { uuid: batch.uuid, status: batch.status },
};
