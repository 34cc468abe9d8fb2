// OP_NODE_QUERYVOLS (gnt node volumes, Ganeti's LUNodeQueryvols): every
// volume of the nodes' volume groups (node_volumes RPC) with the instance it
// belongs to: a plain disk's volume, or a drbd disk's data and metadata
// volumes on both of its nodes. Rows of strings, as Ganeti's.
import type { ConfigData, NodeObject, OpNodeQueryvols } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { getWantedNodes, logWarning } from "../common/node.js";

/** Ganeti's VF_* fields. */
const VOLUME_FIELDS = ["node", "phys", "vg", "name", "size", "instance"];

/** Ganeti's MapInstanceLvsToNodes: "node uuid\0vg/volume" → instance name. */
export function volumeOwners(data: ConfigData): Map<string, string> {
  const out = new Map<string, string>();
  for (const inst of Object.values(data.instances)) {
    for (const u of inst.disks) {
      const d = data.disks[u];
      if (!d) continue;
      const volumes =
        d.dev_type === "plain" ? [d.logical_id] : (d.children ?? []).filter((c) => c.dev_type === "plain").map((c) => c.logical_id);
      for (const node of d.nodes) for (const [vg, name] of volumes) out.set(`${node}\0${String(vg)}/${String(name)}`, inst.name);
    }
  }
  return out;
}

export class LUNodeQueryvols extends LogicalUnit<OpNodeQueryvols> {
  private nodes: NodeObject[] = [];

  override checkArguments(): void {
    const bad = this.op.output_fields.filter((f) => !VOLUME_FIELDS.includes(f));
    if (bad.length) throw new OpPrereqError(`Unknown output fields selected: ${bad.join(",")}`, "wrong_input");
  }

  expandNames(): LockDecl {
    this.nodes = this.op.nodes.length ? getWantedNodes(this.cfg, this.op.nodes) : this.cfg.nodes();
    return { node: { names: this.op.nodes.length ? this.nodes.map((n) => n.uuid) : "all", shared: true } };
  }

  checkPrereq(): void {
    this.nodes = this.nodes.filter((n) => this.data.nodes[n.uuid]);
  }

  async exec(): Promise<string[][]> {
    const volumes = await this.ctx.rpc.callMany(this.nodes, "node_volumes", {});
    const owners = volumeOwners(this.data);
    const out: string[][] = [];
    for (const node of this.nodes) {
      const r = volumes.get(node.uuid);
      if (!r || (!r.ok && r.offline)) continue;
      if (!r.ok) {
        logWarning(this.ctx, `Can't compute volume data on node ${node.name}: ${r.error}`);
        continue;
      }
      // Sorted by physical device, as Ganeti (stable: the node lists them by group and name).
      const vols = [...r.result].sort((a, b) => (a.dev < b.dev ? -1 : a.dev > b.dev ? 1 : 0));
      for (const v of vols) {
        out.push(
          this.op.output_fields.map((f) => {
            switch (f) {
              case "node":
                return node.name;
              case "phys":
                return v.dev;
              case "vg":
                return v.vg;
              case "name":
                return v.name;
              case "size":
                return String(Math.trunc(v.size));
              default:
                return owners.get(`${node.uuid}\0${v.vg}/${v.name}`) ?? "-";
            }
          }),
        );
      }
    }
    return out;
  }
}
