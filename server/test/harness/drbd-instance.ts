// A drbd instance put straight into a test config (creating one through the
// LU is another test's business), and its volumes on the nodes as sparse
// files, as a node makes them.
import { mkdir, open } from "node:fs/promises";
import path from "node:path";
import type { DiskObject, InstanceObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../src/config/cluster-config.js";
import { generateDrbdDisks } from "../../src/config/drbd.js";

const MiB = 1024 * 1024;

export interface DrbdInstanceSpec {
  name: string;
  pnode: string; // node uuid
  snode: string; // node uuid
  sizes: number[]; // MiB per disk
  beparams?: Record<string, unknown>;
  disksActive?: boolean;
}

/** Generate the instance's drbd disks (port, minors, children) and add instance and disks to the config. */
export async function addDrbdInstance(cfg: ClusterConfig, o: DrbdInstanceSpec): Promise<{ inst: InstanceObject; disks: DiskObject[] }> {
  const instanceUuid = cfg.newUuid();
  const disks = generateDrbdDisks(
    cfg,
    o.sizes.map((size) => ({ size, mode: "rw" as const, name: null, spindles: null })),
    { instanceUuid, pnodeUuid: o.pnode, snodeUuid: o.snode },
  );
  const inst: InstanceObject = {
    uuid: instanceUuid,
    serial_no: 1,
    ctime: 0,
    mtime: 0,
    tags: [],
    name: o.name,
    primary_node: o.pnode,
    secondary_nodes: [o.snode],
    os: "noop",
    hypervisor: "fake",
    hvparams: {},
    beparams: o.beparams ?? {},
    osparams: {},
    osparams_private: {},
    admin_state: "down",
    admin_state_source: "admin",
    nics: [],
    disks: disks.map((d) => d.uuid),
    disk_template: "drbd",
    disks_active: o.disksActive ?? false,
    network_port: null,
  };
  await cfg.mutate((data) => {
    for (const d of disks) data.disks[d.uuid] = d;
    data.instances[inst.uuid] = inst;
  });
  return { inst, disks };
}

/** The disks' data and meta volumes under `<root>/nodes/<node>/volumes/<vg>/` on each named node (the harness's layout). */
export async function placeDrbdVolumes(root: string, nodeNames: string[], disks: DiskObject[]): Promise<void> {
  for (const node of nodeNames)
    for (const d of disks)
      for (const ch of d.children!) {
        const dir = path.join(root, "nodes", node, "volumes", String(ch.logical_id[0]));
        await mkdir(dir, { recursive: true });
        const fh = await open(path.join(dir, String(ch.logical_id[1])), "w");
        await fh.truncate(ch.size * MiB);
        await fh.close();
      }
}
