// OP_NETWORK_SET_PARAMS: gateway, IPv6 settings, MAC prefix and external
// reservations of a network ("none" clears a value, as in Ganeti).
import type { OpNetworkSetParams } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { logWarning } from "../common/node.js";
import { AddressPool, AddressPoolError } from "./address-pool.js";
import { normalizeMacPrefix } from "./common.js";

const VALUE_NONE = "none";

export class LUNetworkSetParams extends LogicalUnit<OpNetworkSetParams> {
  private uuid = "";
  private gateway: string | null = null;
  private macPrefix: string | null = null;
  private network6: string | null = null;
  private gateway6: string | null = null;

  override checkArguments(): void {
    if (this.op.gateway && (this.op.add_reserved_ips || this.op.remove_reserved_ips))
      throw new OpPrereqError("Cannot modify gateway and reserved ips at once", "wrong_input");
  }

  expandNames(): LockDecl {
    this.uuid = this.cfg.expandNetwork(this.op.network_name).uuid;
    return { network: { names: [this.uuid], shared: false } };
  }

  checkPrereq(): void {
    const net = this.cfg.network(this.uuid);
    this.gateway = net.gateway;
    this.macPrefix = net.mac_prefix;
    this.network6 = net.network6;
    this.gateway6 = net.gateway6;
    const pool = new AddressPool(structuredClone(net));
    if (this.op.gateway) {
      if (this.op.gateway === VALUE_NONE) this.gateway = null;
      else {
        this.gateway = this.op.gateway;
        let reserved: boolean;
        try {
          // Ganeti checks instance reservations only and then fails in exec on an
          // external one; both are refused here, before anything changes.
          reserved = pool.isReserved(this.gateway) || pool.isReserved(this.gateway, true);
        } catch (err) {
          if (err instanceof AddressPoolError) throw new OpPrereqError(err.message, "wrong_input", { cause: err });
          throw err;
        }
        if (reserved) throw new OpPrereqError(`Gateway IP address '${this.gateway}' is already reserved`, "wrong_state");
      }
    }
    if (this.op.mac_prefix) this.macPrefix = this.op.mac_prefix === VALUE_NONE ? null : normalizeMacPrefix(this.op.mac_prefix);
    if (this.op.gateway6) this.gateway6 = this.op.gateway6 === VALUE_NONE ? null : this.op.gateway6;
    if (this.op.network6) this.network6 = this.op.network6 === VALUE_NONE ? null : this.op.network6;
  }

  async exec(): Promise<null> {
    await this.cfg.mutate(() => {
      const net = this.cfg.network(this.uuid);
      const pool = new AddressPool(net);
      if (this.op.gateway) {
        if (this.gateway === net.gateway) logWarning(this.ctx, `Gateway is already ${this.gateway}`);
        else {
          if (this.gateway) pool.reserve(this.gateway, true);
          if (net.gateway) pool.release(net.gateway, true);
          net.gateway = this.gateway;
        }
      }
      for (const ip of this.op.add_reserved_ips ?? []) {
        try {
          pool.reserve(ip, true);
        } catch (err) {
          if (!(err instanceof AddressPoolError)) throw err;
          logWarning(this.ctx, `Cannot reserve IP address ${ip}: ${err.message}`);
        }
      }
      for (const ip of this.op.remove_reserved_ips ?? []) {
        if (ip === net.gateway) {
          logWarning(this.ctx, "Cannot unreserve Gateway's IP");
          continue;
        }
        try {
          pool.release(ip, true);
        } catch (err) {
          if (!(err instanceof AddressPoolError)) throw err;
          logWarning(this.ctx, `Cannot release IP address ${ip}: ${err.message}`);
        }
      }
      if (this.op.mac_prefix) net.mac_prefix = this.macPrefix;
      if (this.op.network6) net.network6 = this.network6;
      if (this.op.gateway6) net.gateway6 = this.gateway6;
      this.cfg.touch(net);
    });
    return null;
  }
}
