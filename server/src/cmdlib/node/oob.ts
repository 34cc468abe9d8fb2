// OP_OOB_COMMAND (Ganeti's LUOobCommand): run each node's oob_program on the
// master (run_oob RPC) with power-on/-off/-cycle/-status or health, check
// the answer's shape, record the power state, and return per node
// [[RS_NORMAL, name], [status, payload]].
import { setTimeout as sleep } from "node:timers/promises";
import { OOB_STATUSES, RS, type NodeObject, type OobCommandResult, type OpOobCommand } from "@ganeti-ts/schema";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { commaJoin, logWarning } from "../common/node.js";

const SKIP_MASTER = new Set(["power-off", "power-cycle"]);

export class LUOobCommand extends LogicalUnit<OpOobCommand> {
  private nodes: NodeObject[] = [];
  private wanted: string[] | null = null;

  expandNames(): LockDecl {
    if (this.op.node_names.length) {
      this.wanted = this.op.node_names.map((n) => this.cfg.expandNode(n).uuid);
      return { node: { names: this.wanted, shared: false } };
    }
    return { node: { names: "all", shared: false } };
  }

  /** The node's oob_program, "" when it has none (Ganeti's SupportsOob). */
  private oobProgram(node: NodeObject): string {
    const p = this.cfg.filledNdparams(node)["oob_program"];
    return typeof p === "string" ? p : "";
  }

  checkPrereq(): void {
    const master = this.cfg.masterNode;
    let uuids: string[];
    if (this.wanted) {
      if (SKIP_MASTER.has(this.op.command) && this.wanted.includes(master.uuid)) {
        const handler = this.oobProgram(master);
        const more = handler
          ? `run '${handler} ${this.op.command} ${master.name}' if you want to operate on the master regardless`
          : "it does not support out-of-band operations";
        throw new OpPrereqError(
          `Operating on the master node ${master.name} is not allowed for ${this.op.command}; ${more}`,
          "wrong_input",
        );
      }
      uuids = this.wanted;
    } else {
      uuids = Object.keys(this.data.nodes).filter((u) => !(SKIP_MASTER.has(this.op.command) && u === master.uuid));
    }
    this.nodes = uuids.map((u) => this.cfg.node(u));
    for (const node of this.nodes) {
      if (!this.op.ignore_status && this.op.command === "power-off" && !node.offline)
        throw new OpPrereqError(`Cannot power off node ${node.name} because it is not marked offline`, "wrong_state");
    }
  }

  async exec(): Promise<OobCommandResult> {
    const ret: OobCommandResult = [];
    const nodes = [...this.nodes].sort((a, b) => a.name.localeCompare(b.name, "en", { numeric: true }));
    const master = this.cfg.masterNode;
    for (const [idx, node] of nodes.entries()) {
      const entry: OobCommandResult[number] = [[RS.NORMAL, node.name]];
      ret.push(entry);
      const program = this.oobProgram(node);
      if (!program) {
        entry.push([RS.UNAVAIL, null]);
        continue;
      }
      let payload: unknown;
      try {
        payload = await this.ctx.rpc.call(master, "run_oob", {
          oob_program: program,
          command: this.op.command,
          node: node.name,
          timeout: this.op.timeout,
        });
      } catch (err) {
        logWarning(this.ctx, `Out-of-band RPC failed on node '${node.name}': ${(err as Error).message}`);
        entry.push([RS.NODATA, null]);
        continue;
      }
      try {
        this.checkPayload(payload);
      } catch (err) {
        logWarning(this.ctx, `Payload returned by node '${node.name}' is not valid: ${(err as Error).message}`);
        entry.push([RS.NODATA, null]);
        continue;
      }
      if (this.op.command === "health") {
        for (const [item, status] of payload as [string, string][])
          if (status === "WARNING" || status === "CRITICAL")
            logWarning(this.ctx, `Item '${item}' on node '${node.name}' has status '${status}'`);
      }
      if (this.op.command === "power-on" || this.op.command === "power-off") {
        const powered = this.op.command === "power-on";
        await this.cfg.mutate(() => {
          node.powered = powered;
          this.cfg.touch(node);
        });
      }
      entry.push([RS.NORMAL, payload]);
      if (this.op.command === "power-on" && idx < nodes.length - 1 && this.op.power_delay > 0) await sleep(this.op.power_delay * 1000);
    }
    return ret;
  }

  private checkPayload(payload: unknown): void {
    const errs: string[] = [];
    const cmd = this.op.command;
    if (cmd === "health") {
      if (!Array.isArray(payload)) errs.push(`command 'health' is expected to return a list but got ${typeName(payload)}`);
      else
        for (const pair of payload) {
          const [item, status] = Array.isArray(pair) ? pair : [pair, undefined];
          if (!(OOB_STATUSES as readonly unknown[]).includes(status))
            errs.push(`health item '${String(item)}' has invalid status '${String(status)}'`);
        }
    }
    if (cmd === "power-status" && (typeof payload !== "object" || payload === null || Array.isArray(payload)))
      errs.push(`power-status is expected to return a dict but got ${typeName(payload)}`);
    if ((cmd === "power-on" || cmd === "power-off" || cmd === "power-cycle") && payload !== null)
      errs.push(`${cmd} is expected to not return payload but got '${JSON.stringify(payload)}'`);
    if (errs.length) throw new OpExecError(`Check of out-of-band payload failed due to ${commaJoin(errs)}`);
  }
}

/** Python's type() names for the JSON values an OOB program can print. */
function typeName(v: unknown): string {
  if (v === null) return "<class 'NoneType'>";
  if (Array.isArray(v)) return "<class 'list'>";
  if (typeof v === "object") return "<class 'dict'>";
  if (typeof v === "string") return "<class 'str'>";
  if (typeof v === "boolean") return "<class 'bool'>";
  return Number.isInteger(v) ? "<class 'int'>" : "<class 'float'>";
}
