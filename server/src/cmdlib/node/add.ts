// OP_NODE_ADD: add (or re-add) a node. The node daemon must answer `version`
// with our protocol; the node may become a master candidate (pool size).
// ganeti-ts: rpc_address/rpc_port locate the daemon (defaults: primary_ip and
// the master's port). IP conflict checks skip loopback addresses, where test
// and single-host setups run several daemons on one IP.
import type { NodeObject, OpNodeAdd } from "@ganeti-ts/schema";
import { PROTOCOL_VERSION } from "../../config/defaults.js";
import { newNodeObject } from "../../config/initial-config.js";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";
import { resolveHostname } from "../common/instance-params.js";
import {
  checkParamsNotGlobal,
  decideSelfPromotion,
  defaultGroup,
  forceDictType,
  isValidIPv4,
  logInfo,
  ND_GLOBALS,
  ND_PARAM_TYPES,
} from "../common/node.js";
import { normalizeHostname } from "@ganeti-ts/schema";
import { ganetiCheck } from "../common/params.js";

export class LUNodeAdd extends LogicalUnit<OpNodeAdd> {
  private primaryIp = "";
  private secondaryIp = "";
  private existing: NodeObject | undefined;
  private masterCandidate = false;
  private masterCapable = true;
  private vmCapable = true;
  private groupUuid = "";
  private ndparams: Record<string, unknown> = {};
  private changedPrimaryIp = false;

  override checkArguments(): void {
    // A node name is a host name (Ganeti normalises the resolved name).
    this.op.node_name = ganetiCheck(() => normalizeHostname(this.op.node_name));
    const master = this.data.nodes[this.data.cluster.master_node];
    if (this.op.readd && master && (this.op.node_name === master.name || this.cfg.findNode(this.op.node_name) === master))
      throw new OpPrereqError("Cannot readd the master node", "wrong_state");
    if (this.op.readd && this.op.group) throw new OpPrereqError("Cannot pass a node group when a node is being readded", "wrong_input");
  }

  expandNames(): LockDecl {
    // Ganeti takes the big cluster lock: the node list and candidate pool change.
    return { cluster: { names: ["cluster"], shared: false }, node: { names: "all", shared: false } };
  }

  async checkPrereq(): Promise<void> {
    const name = this.op.node_name;
    this.primaryIp = this.op.primary_ip ?? (await resolveHostname(name)).ip;
    if (!isValidIPv4(this.primaryIp))
      throw new OpPrereqError(`Primary IP (${this.primaryIp}) needs to be a valid IPv4 address`, "wrong_input");
    this.secondaryIp = this.op.secondary_ip ?? this.primaryIp;
    if (!isValidIPv4(this.secondaryIp))
      throw new OpPrereqError(`Secondary IP (${this.secondaryIp}) needs to be a valid IPv4 address`, "wrong_input");

    this.existing = this.cfg.nodes().find((n) => n.name === name);
    if (!this.op.readd && this.existing) throw new OpPrereqError(`Node ${name} is already in the configuration`, "already_exists");
    if (this.op.readd && !this.existing) throw new OpPrereqError(`Node ${name} is not in the configuration`, "unknown_entity");

    const loopback = (ip: string) => ip.startsWith("127.");
    for (const other of this.cfg.nodes()) {
      if (this.op.readd && other.name === name) {
        if (other.secondary_ip !== this.secondaryIp)
          throw new OpPrereqError("Readded node doesn't have the same IP address configuration as before", "wrong_input");
        if (other.primary_ip !== this.primaryIp) this.changedPrimaryIp = true;
        continue;
      }
      const theirs = [other.primary_ip, other.secondary_ip];
      const ours = [this.primaryIp, this.secondaryIp].filter((ip) => !loopback(ip));
      if (ours.some((ip) => theirs.includes(ip)))
        throw new OpPrereqError(`New node ip address(es) conflict with existing node ${other.name}`, "resource_not_unique");
    }

    this.masterCapable = this.op.master_capable ?? (this.existing ? this.existing.master_capable : true);
    this.vmCapable = this.op.vm_capable ?? (this.existing ? this.existing.vm_capable : true);
    if (this.op.readd && !this.vmCapable && this.existing) {
      const uses = this.cfg.instances().some((i) => this.cfg.instanceNodes(i).includes(this.existing!.uuid));
      if (uses)
        throw new OpPrereqError(
          `Node ${name} being re-added with vm_capable flag set to false, but it already holds instances`,
          "wrong_state",
        );
    }

    const master = this.cfg.masterNode;
    const masterSingle = master.secondary_ip === master.primary_ip;
    const newSingle = this.secondaryIp === this.primaryIp;
    if (masterSingle !== newSingle)
      throw new OpPrereqError(
        masterSingle
          ? "The master has no secondary ip but the new node has one"
          : "The master has a secondary ip but the new node doesn't have one",
        "wrong_input",
      );

    const exceptions = this.existing ? [this.existing.uuid] : [];
    this.masterCandidate = this.masterCapable ? decideSelfPromotion(this.data, exceptions) : false;
    this.groupUuid = this.existing
      ? this.existing.group
      : this.op.group
        ? this.cfg.expandGroup(this.op.group).uuid
        : defaultGroup(this.cfg).uuid;

    if (this.op.ndparams) {
      this.ndparams = forceDictType(this.op.ndparams, ND_PARAM_TYPES);
      checkParamsNotGlobal(this.op.ndparams, ND_GLOBALS, "node", "node", "cluster or group");
    }

    // Ganeti's TCP ping plus version call, in one: the daemon must answer with our protocol.
    const probe = this.candidateObject();
    let version: { protocol_version: number };
    try {
      version = await this.ctx.rpc.call({ ...probe, offline: false }, "version", {});
    } catch (err) {
      throw new OpPrereqError(
        `Can't get version information from node ${name}: ${err instanceof Error ? err.message : String(err)}`,
        "environment_error",
        { cause: err },
      );
    }
    if (version.protocol_version !== PROTOCOL_VERSION)
      throw new OpPrereqError(
        `Version mismatch master version ${PROTOCOL_VERSION}, node version ${version.protocol_version}`,
        "environment_error",
      );
  }

  /** The node object as it will be stored (fresh for add, updated copy for re-add). */
  private candidateObject(): NodeObject {
    const master = this.cfg.masterNode;
    const rpcAddress = this.op.rpc_address ?? this.existing?.rpc_address ?? this.primaryIp;
    const rpcPort = this.op.rpc_port ?? this.existing?.rpc_port ?? master.rpc_port;
    if (this.existing) return { ...structuredClone(this.existing), rpc_address: rpcAddress, rpc_port: rpcPort };
    return newNodeObject({
      name: this.op.node_name,
      ip: this.primaryIp,
      secondaryIp: this.secondaryIp,
      group: this.groupUuid,
      rpcAddress,
      rpcPort,
      masterCandidate: this.masterCandidate,
      now: this.cfg.now(),
    });
  }

  async exec(): Promise<null> {
    const node = this.candidateObject();
    node.powered = true;
    if (this.op.readd) {
      node.offline = false;
      node.drained = false;
      logInfo(this.ctx, "Readding a node, the offline/drained flags were reset");
      node.master_candidate = this.masterCandidate;
      if (this.changedPrimaryIp) node.primary_ip = this.primaryIp;
    }
    node.master_capable = this.masterCapable;
    node.vm_capable = this.vmCapable;
    if (node.master_candidate) logInfo(this.ctx, "Node will be a master candidate");
    node.ndparams = this.ndparams;
    if (this.op.hv_state) node.hv_state_static = this.op.hv_state;
    if (this.op.disk_state) node.disk_state_static = this.op.disk_state;
    await this.cfg.mutate((d) => {
      if (this.op.readd) this.cfg.touch(node);
      d.nodes[node.uuid] = node;
    });
    return null;
  }
}
