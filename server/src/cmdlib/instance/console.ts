// OP_INSTANCE_CONSOLE (Ganeti's LUInstanceConsole): the hypervisor's console
// description of a running instance.
import type { ConsoleInfoSchema, NodeObject, OpInstanceConsole } from "@ganeti-ts/schema";
import type { z } from "zod";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { OpExecError } from "../../lib/errors.js";
import { checkNodeOnline } from "../common/node-checks.js";
import { errText } from "../common/messages.js";
import { instanceRunningOn } from "../common/instance-state.js";
import { rpcInstance } from "../common/instance-params.js";
import { InstanceLU } from "./instance-lu.js";

/** Ganeti's GetInstanceConsole: an ssh console goes to the primary node's ssh port (its ndparams). */
type ConsoleInfo = z.infer<typeof ConsoleInfoSchema>;

export function withSshPort(cfg: ClusterConfig, pnode: NodeObject, con: ConsoleInfo): ConsoleInfo {
  if (con.kind !== "ssh" || con.port !== undefined) return con;
  return { ...con, port: Number(cfg.filledNdparams(pnode)["ssh_port"] ?? 22) };
}

export class LUInstanceConsole extends InstanceLU<OpInstanceConsole> {
  protected override nodeLocksShared = true;

  override expandNames() {
    const decl = super.expandNames();
    decl.instance = { names: decl.instance!.names, shared: true };
    return decl;
  }

  checkPrereq(): void {
    checkNodeOnline(this.pnode);
  }

  async exec(): Promise<unknown> {
    const inst = this.instance;
    let running: boolean;
    try {
      running = await instanceRunningOn(this.ctx, inst);
    } catch (err) {
      throw new OpExecError(`Error checking node ${this.pnode.name}: ${errText(err)}`, { cause: err });
    }
    if (!running) {
      const state = inst.admin_state === "up" ? "ERROR_down" : "ADMIN_down";
      throw new OpExecError(`Instance ${inst.name} is not running (state ${state})`);
    }
    const con = await this.ctx.rpc.call(this.pnode, "instance_console_info", { instance: rpcInstance(this.cfg, inst) });
    return withSshPort(this.cfg, this.pnode, con);
  }
}
