// Builders for node-side test data: RpcInstance/RpcDisk/NodeObject shapes as
// the master would send them, and temp dirs that tests remove afterwards.
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { NodeObject, RpcDisk, RpcInstance } from "@ganeti-ts/schema";

export async function tempDir(prefix = "ganeti-ts-noded-"): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

export function fileDisk(file: string, size: number, extra: Partial<RpcDisk> = {}): RpcDisk {
  return {
    uuid: `disk-${path.basename(file)}`,
    dev_type: "file",
    size,
    mode: "rw",
    name: null,
    logical_id: ["loop", file],
    params: {},
    ...extra,
  };
}

export function rpcInstance(extra: Partial<RpcInstance> = {}): RpcInstance {
  return {
    name: "inst1.example.com",
    uuid: "11111111-2222-3333-4444-555555555555",
    hypervisor: "fake",
    os: "noop",
    hvparams: {},
    beparams: { maxmem: 512, minmem: 256, vcpus: 2, auto_balance: true },
    osparams: {},
    osparams_private: {},
    nics: [],
    disks: [],
    disk_template: "diskless",
    primary_node: "node1.example.com",
    secondary_nodes: [],
    tags: [],
    ...extra,
  };
}

export function nodeObject(extra: Partial<NodeObject> = {}): NodeObject {
  return {
    uuid: "node-uuid-1",
    serial_no: 1,
    ctime: null,
    mtime: null,
    tags: [],
    name: "node1.example.com",
    primary_ip: "127.0.0.1",
    secondary_ip: "127.0.0.1",
    group: "group-uuid",
    master_candidate: true,
    offline: false,
    drained: false,
    master_capable: true,
    vm_capable: true,
    powered: true,
    ndparams: {},
    hv_state_static: {},
    disk_state_static: {},
    rpc_address: "127.0.0.1",
    rpc_port: 1811,
    ...extra,
  };
}
