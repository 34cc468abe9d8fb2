// Where networking plugs into the kvm hypervisor. Before qemu starts (and
// before a NIC is hot-added) the backend prepares each NIC on the node and
// returns the -netdev backend qemu attaches it to; when the instance stops
// (or the NIC is hot-removed) it releases what it prepared. The hypervisor
// persists `backend` in the runtime file, so release works after a node
// daemon restart too.
//
// The default backend attaches NICs without any network (a NIC device with
// no netdev: the guest sees a link-less card). Bridged and routed modes
// (taps on bridges, routes) are a NicBackend of their own, given to
// KvmHypervisor through its options.
import type { RpcInstance, RpcNic } from "@ganeti-ts/schema";

export interface PreparedNic {
  /** -netdev value without id (e.g. "tap,ifname=tap0,script=no,downscript=no"), null: no backend. */
  netdev: string | null;
  /** Opaque data for release(), kept in the runtime file. */
  backend: Record<string, unknown>;
}

export interface NicBackend {
  prepare(instance: RpcInstance, nic: RpcNic, index: number): Promise<PreparedNic>;
  /** Called after qemu is gone (or the NIC was hot-removed). Never throws for a missing resource. */
  release(instance: RpcInstance, nic: RpcNic, backend: Record<string, unknown>): Promise<void>;
  /** The command line that runs qemu where the NICs were prepared (e.g. inside a network namespace). */
  wrapCommand?(argv: string[]): Promise<string[]>;
}

export const noNetworkNicBackend: NicBackend = {
  async prepare() {
    return { netdev: null, backend: {} };
  },
  async release() {},
};
