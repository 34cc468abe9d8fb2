// OP_OS_DIAGNOSE: OS definitions found on the online vm_capable nodes, one row
// per OS with the requested output_fields (RAPI /2/os asks ["name",
// "variants"]). Like Ganeti's legacy query, invalid/hidden/blacklisted OSes
// are left out unless the matching field is requested.
import type { OpOsDiagnose, OsInfo } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { niceSort } from "../common/node.js";

const OS_FIELDS = [
  "name",
  "valid",
  "hidden",
  "blacklisted",
  "variants",
  "api_versions",
  "parameters",
  "node_status",
  "os_hvp",
  "osparams",
  "trusted",
] as const;

type NodeOsEntry = [string, boolean, string, string[], [string, string][], number[], boolean];

interface OsRecord {
  name: string;
  valid: boolean;
  hidden: boolean;
  blacklisted: boolean;
  variants: string[];
  api_versions: number[];
  parameters: [string, string][];
  node_status: Record<string, NodeOsEntry[]>;
  os_hvp: Record<string, unknown>;
  osparams: Record<string, unknown>;
  trusted: boolean;
}

export class LUOsDiagnose extends LogicalUnit<OpOsDiagnose> {
  override checkArguments(): void {
    const unknown = this.op.output_fields.filter((f) => !(OS_FIELDS as readonly string[]).includes(f));
    if (unknown.length > 0) throw new OpPrereqError(`Unknown output fields selected: ${unknown.join(",")}`, "wrong_input");
  }

  expandNames(): LockDecl {
    return {};
  }

  checkPrereq(): void {}

  async exec(): Promise<unknown[][]> {
    const nodes = this.cfg.nodes().filter((n) => !n.offline && n.vm_capable);
    const res = await this.ctx.rpc.callMany(nodes, "os_diagnose", { search_path: this.data.cluster.os_search_path });
    const good = nodes.filter((n) => res.get(n.uuid)?.ok);
    // os name → node uuid → entries found on that node (search-path order)
    const byOs = new Map<string, Map<string, OsInfo[]>>();
    for (const node of good) {
      const r = res.get(node.uuid);
      if (!r || !r.ok) continue;
      for (const os of r.result) {
        let perNode = byOs.get(os.name);
        if (!perNode) {
          perNode = new Map(good.map((g) => [g.uuid, [] as OsInfo[]]));
          byOs.set(os.name, perNode);
        }
        perNode.get(node.uuid)!.push(os);
      }
    }
    const cluster = this.data.cluster;
    const records: OsRecord[] = [];
    for (const [name, perNode] of byOs) {
      const rec: OsRecord = {
        name,
        valid: true,
        hidden: cluster.hidden_os.includes(name),
        blacklisted: cluster.blacklisted_os.includes(name),
        variants: [],
        api_versions: [],
        parameters: [],
        node_status: {},
        os_hvp: {},
        osparams: {},
        trusted: true,
      };
      let variants: Set<string> | null = null;
      let params: Map<string, string> | null = null;
      let apis: Set<number> | null = null;
      for (const [uuid, entries] of perNode) {
        rec.node_status[uuid] = entries.map((e) => [e.path, e.status, e.diagnose, e.variants, e.parameters, e.api_versions, e.trusted]);
      }
      for (const entries of perNode.values()) {
        const first = entries[0];
        rec.valid = rec.valid && first !== undefined && first.status;
        if (!rec.valid || !first) break;
        if (variants === null || params === null || apis === null) {
          variants = new Set(first.variants);
          params = new Map(first.parameters.map(([k, v]) => [`${k}\0${v}`, k]));
          apis = new Set(first.api_versions);
        } else {
          const nv = new Set(first.variants);
          const np = new Set(first.parameters.map(([k, v]) => `${k}\0${v}`));
          const na = new Set(first.api_versions);
          for (const v of [...variants]) if (!nv.has(v)) variants.delete(v);
          for (const p of [...params.keys()]) if (!np.has(p)) params.delete(p);
          for (const a of [...apis]) if (!na.has(a)) apis.delete(a);
        }
        if (!first.trusted) rec.trusted = false;
      }
      rec.variants = niceSort([...(variants ?? [])]);
      rec.api_versions = [...(apis ?? [])].sort((a, b) => a - b);
      rec.parameters = [...(params?.keys() ?? [])]
        .map((k) => k.split("\0") as [string, string])
        .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
      for (const v of rec.variants) {
        const full = `${name}+${v}`;
        if (full in cluster.os_hvp) rec.os_hvp[full] = cluster.os_hvp[full];
        if (full in cluster.osparams) rec.osparams[full] = cluster.osparams[full];
      }
      records.push(rec);
    }
    const fields = this.op.output_fields;
    const wanted = this.op.names;
    const shown = records.filter(
      (r) =>
        (wanted.length === 0 || wanted.includes(r.name)) &&
        (fields.includes("hidden") || !r.hidden) &&
        (fields.includes("blacklisted") || !r.blacklisted) &&
        (fields.includes("valid") || r.valid),
    );
    const order = niceSort(shown.map((r) => r.name));
    return order.map((n) => {
      const r = shown.find((x) => x.name === n)!;
      return fields.map((f) => r[f as keyof OsRecord]);
    });
  }
}
