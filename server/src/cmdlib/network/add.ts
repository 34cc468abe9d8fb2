// OP_NETWORK_ADD: create a network and its IPv4 address pool (network,
// broadcast and gateway reserved externally; with conflicts_check, node and
// master IPs inside the network too).
import type { NetworkObject, OpNetworkAdd } from "@ganeti-ts/schema";
import { OpExecError, OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { logInfo, logWarning } from "../common/node.js";
import { validateTag } from "../misc/tags-common.js";
import { AddressPool, AddressPoolError } from "./address-pool.js";
import { normalizeMacPrefix } from "./common.js";
import { checkObjectName } from "@ganeti-ts/schema";
import { ganetiCheck } from "../common/params.js";

export class LUNetworkAdd extends LogicalUnit<OpNetworkAdd> {
  private uuid = "";
  private macPrefix: string | null = null;

  override checkArguments(): void {
    ganetiCheck(() => checkObjectName("network", this.op.network_name));
    if (this.op.mac_prefix) this.macPrefix = normalizeMacPrefix(this.op.mac_prefix);
  }

  expandNames(): LockDecl {
    this.uuid = this.cfg.newUuid();
    return this.op.conflicts_check ? { node: { names: "all", shared: true } } : {};
  }

  checkPrereq(): void {
    const existing = this.cfg.findNetwork(this.op.network_name);
    if (existing && existing.name === this.op.network_name)
      throw new OpPrereqError(
        `Desired network name '${this.op.network_name}' already exists as a network (UUID: ${existing.uuid})`,
        "already_exists",
      );
    for (const tag of this.op.tags) validateTag(tag);
  }

  async exec(): Promise<null> {
    const now = this.cfg.now();
    const net: NetworkObject = {
      uuid: this.uuid,
      name: this.op.network_name,
      network: this.op.network,
      gateway: this.op.gateway ?? null,
      network6: this.op.network6 ?? null,
      gateway6: this.op.gateway6 ?? null,
      mac_prefix: this.macPrefix,
      reservations: "",
      ext_reservations: "",
      serial_no: 1,
      ctime: now,
      mtime: now,
      tags: [],
    };
    let pool: AddressPool;
    try {
      pool = AddressPool.initialize(net);
    } catch (err) {
      if (err instanceof AddressPoolError)
        throw new OpExecError(`Cannot create IP address pool for network '${this.op.network_name}': ${err.message}`, {
          cause: err,
        });
      throw err;
    }
    if (this.op.conflicts_check) {
      for (const node of this.cfg.nodes()) {
        for (const ip of [node.primary_ip, node.secondary_ip]) {
          if (!pool.contains(ip)) continue;
          try {
            pool.reserve(ip, true);
            logInfo(this.ctx, `Reserved IP address of node '${node.name}' (${ip})`);
          } catch (err) {
            if (!(err instanceof AddressPoolError)) throw err;
            logWarning(this.ctx, `Cannot reserve IP address '${ip}' of node '${node.name}': ${err.message}`);
          }
        }
      }
      const masterIp = this.data.cluster.master_ip;
      if (pool.contains(masterIp)) {
        try {
          pool.reserve(masterIp, true);
          logInfo(this.ctx, `Reserved cluster master IP address (${masterIp})`);
        } catch (err) {
          if (!(err instanceof AddressPoolError)) throw err;
          logWarning(this.ctx, `Cannot reserve cluster master IP address (${masterIp}): ${err.message}`);
        }
      }
    }
    for (const ip of this.op.add_reserved_ips ?? []) {
      try {
        pool.reserve(ip, true);
      } catch (err) {
        if (err instanceof AddressPoolError) throw new OpExecError(`Cannot reserve IP address '${ip}': ${err.message}`, { cause: err });
        throw err;
      }
    }
    for (const tag of this.op.tags) if (!net.tags.includes(tag)) net.tags.push(tag);
    await this.cfg.mutate((d) => {
      d.networks[net.uuid] = net;
    });
    return null;
  }
}
