// NICs of kvm instances on the node's network, as Ganeti's kvm-ifup does it:
// one tap per NIC, made before qemu starts and handed to qemu as
//   -netdev tap,ifname=TAP,script=no,downscript=no
// (qemu attaches to the existing persistent tap; no vhost-net).
//  - bridged: the tap joins the bridge named by the NIC's link;
//  - routed: the tap gets a route to the NIC's IP (in the routing table
//    named by the link when one is set) and proxy ARP, as Ganeti's
//    net-common setup_route;
//  - openvswitch: not supported here (refused).
// The guest's MAC and the NIC model (nic_type) are on qemu's -device, not on
// the tap. Taps live in the node's network namespace (the node setting
// netns), and so does qemu (the wrapping command line), so that it can open
// them.
//
// Tap names: "gnt" + 12 hex digits of a hash of the node's data directory,
// the instance and the NIC: at most 15 characters (IFNAMSIZ), the same for
// a NIC across restarts of qemu or of the node daemon, and different for the
// source and the target of a migration even when both nodes share one
// namespace (two node daemons of one machine).
import { createHash } from "node:crypto";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import type { RpcInstance, RpcNic } from "@ganeti-ts/schema";
import { HypervisorError } from "../../lib/errors.js";
import type { HostNetwork } from "../host-net.js";
import { nicQueues } from "./cmdline.js";
import type { NicBackend } from "./nic.js";

const run = promisify(execFile);

export interface TapBackendData extends Record<string, unknown> {
  tap: string;
  mode: string;
  link: string;
  ip: string | null;
}

export function tapName(nodeKey: string, instanceUuid: string, nicUuid: string): string {
  return "gnt" + createHash("sha256").update(`${nodeKey}\0${instanceUuid}\0${nicUuid}`).digest("hex").slice(0, 12);
}

export class TapNicBackend implements NicBackend {
  constructor(
    /** Distinguishes node daemons sharing a namespace (their data directory). */
    private readonly nodeKey: string,
    private readonly network: () => Promise<HostNetwork>,
  ) {}

  /** The command line that runs `argv` where the taps are (qemu). */
  async wrapCommand(argv: string[]): Promise<string[]> {
    return (await this.network()).wrap(argv);
  }

  async prepare(instance: RpcInstance, nic: RpcNic, _index: number): Promise<{ netdev: string; backend: TapBackendData }> {
    const net = await this.network();
    const mode = nic.mode || "bridged";
    if (mode !== "bridged" && mode !== "routed")
      throw new HypervisorError(`NIC mode '${mode}' is not supported by this node (bridged and routed are)`);
    if (mode === "routed" && !nic.ip) throw new HypervisorError(`Routed NIC ${nic.uuid} of ${instance.name} has no IP address`);
    const tap = tapName(this.nodeKey, instance.uuid, nic.uuid);
    // A tap left by a qemu that died is reused: delete and make it afresh.
    if (await net.linkExists(tap)) await net.ip(["link", "del", tap]);
    // Several queues (virtio_net_queues) need a multiqueue tap.
    await net.ip(["tuntap", "add", "dev", tap, "mode", "tap", ...(nicQueues(instance.hvparams ?? {}) > 1 ? ["multi_queue"] : [])]);
    const data: TapBackendData = { tap, mode, link: nic.link, ip: nic.ip };
    try {
      if (mode === "bridged") {
        const missing = await net.missingBridges([nic.link]);
        if (missing.length) throw new HypervisorError(`Missing bridges ${missing.join(", ")}`);
        // The tap takes the bridge's MTU before joining it (net-common does the same).
        const mtu = await this.mtuOf(net, nic.link);
        if (mtu) await net.ip(["link", "set", "dev", tap, "mtu", String(mtu)]);
        await net.ip(["link", "set", "dev", tap, "master", nic.link]);
        await net.ip(["link", "set", "dev", tap, "up"]);
      } else {
        await net.ip(["link", "set", "dev", tap, "up"]);
        await this.sysctl(net, `net.ipv4.conf.${tap}.proxy_arp`, "1");
        const table = nic.link ? ["table", nic.link] : [];
        await net.ip(["route", "replace", nic.ip!, ...table, "proto", "static", "dev", tap]);
      }
    } catch (err) {
      await net.ip(["link", "del", tap]).catch(() => undefined);
      throw err instanceof HypervisorError
        ? err
        : new HypervisorError(`Cannot set up NIC ${nic.uuid}: ${(err as Error).message}`, { cause: err });
    }
    return { netdev: `tap,ifname=${tap},script=no,downscript=no`, backend: data };
  }

  /** Delete the tap (its route and bridge port go with it). Never throws for a missing tap. */
  async release(_instance: RpcInstance, _nic: RpcNic, backend: Record<string, unknown>): Promise<void> {
    const tap = typeof backend["tap"] === "string" ? backend["tap"] : null;
    if (!tap) return;
    const net = await this.network();
    if (await net.linkExists(tap)) await net.ip(["link", "del", tap]);
  }

  private async mtuOf(net: HostNetwork, dev: string): Promise<number | null> {
    const [info] = JSON.parse(await net.ip(["-j", "link", "show", "dev", dev])) as Array<{ mtu?: number }>;
    return info?.mtu ?? null;
  }

  private async sysctl(net: HostNetwork, key: string, value: string): Promise<void> {
    const [bin, ...args] = net.wrap(["sysctl", "-q", "-w", `${key}=${value}`]);
    try {
      await run(bin!, args);
    } catch (err) {
      throw new HypervisorError(`sysctl ${key}=${value} failed: ${(err as Error).message}`, { cause: err });
    }
  }
}
