// OP_NODE_QUERY_STORAGE: storage units of the nodes (storage_list RPC), one
// row of output_fields per unit, sorted by node then unit name.
import { diskTemplateInfo, type NodeObject, type OpNodeQueryStorage } from "@ganeti-ts/schema";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import {
  checkStorageTypeEnabled,
  commaJoin,
  getWantedNodes,
  logWarning,
  niceSort,
  STS_REPORT,
  storageTypeArgs,
  VALID_STORAGE_FIELDS,
} from "../common/node.js";

export class LUNodeQueryStorage extends LogicalUnit<OpNodeQueryStorage> {
  private nodes: NodeObject[] = [];
  private storageType = "";

  override checkArguments(): void {
    const bad = this.op.output_fields.filter((f) => !VALID_STORAGE_FIELDS.includes(f));
    if (bad.length) throw new OpPrereqError(`Unknown output fields selected: ${bad.join(",")}`, "wrong_input");
  }

  expandNames(): LockDecl {
    this.nodes = this.op.nodes.length ? getWantedNodes(this.cfg, this.op.nodes) : this.cfg.nodes();
    return { node: { names: this.op.nodes.length ? this.nodes.map((n) => n.uuid) : "all", shared: true } };
  }

  checkPrereq(): void {
    const cluster = this.data.cluster;
    if (this.op.storage_type) {
      checkStorageTypeEnabled(cluster, this.op.storage_type);
      this.storageType = this.op.storage_type;
    } else {
      const first = cluster.enabled_disk_templates[0] ?? "";
      this.storageType = diskTemplateInfo(first)?.storageType ?? first;
      if (!STS_REPORT.includes(this.storageType))
        throw new OpPrereqError(
          `Storage reporting for storage type '${this.storageType}' is not supported. Please use the --storage-type option to specify one of the supported storage types (${commaJoin(STS_REPORT)}) or set the default disk template to one that supports storage reporting.`,
        );
    }
  }

  async exec(): Promise<unknown[][]> {
    const fields = this.op.output_fields.includes("name") ? [...this.op.output_fields] : ["name", ...this.op.output_fields];
    const nodeFields = fields.filter((f) => f !== "node" && f !== "type");
    const idx = new Map(nodeFields.map((f, i) => [f, i]));
    const nameIdx = idx.get("name")!;
    const data = await this.ctx.rpc.callMany(this.nodes, "storage_list", {
      su_name: this.storageType,
      su_args: storageTypeArgs(this.data.cluster, this.storageType),
      name: this.op.name,
      fields: nodeFields,
    });
    const out: unknown[][] = [];
    // Ganeti orders nodes by uuid (NiceSort of the locked uuids).
    for (const uuid of niceSort(this.nodes.map((n) => n.uuid))) {
      const node = this.cfg.node(uuid);
      const r = data.get(uuid);
      if (!r || (!r.ok && r.offline)) continue;
      if (!r.ok) {
        logWarning(this.ctx, `Can't get storage data from node ${node.name}: ${r.error}`);
        continue;
      }
      const rows = new Map(r.result.map((row) => [String(row[nameIdx]), row]));
      for (const name of niceSort([...rows.keys()])) {
        const row = rows.get(name)!;
        out.push(
          this.op.output_fields.map((f) => {
            if (f === "node") return node.name;
            if (f === "type") return this.storageType;
            const i = idx.get(f);
            if (i === undefined) throw new OpExecError(`Unknown field ${f}`);
            return row[i];
          }),
        );
      }
    }
    return out;
  }
}
