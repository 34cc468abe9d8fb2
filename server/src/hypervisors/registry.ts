// Hypervisors known to the node daemon, created lazily per name; the backend
// never names a concrete class.
import path from "node:path";
import { HypervisorError } from "../lib/errors.js";
import { FakeHypervisor } from "./fake/fake-hypervisor.js";
import type { HostNetwork } from "./host-net.js";
import type { HostInfoSource, Hypervisor } from "./hypervisor.js";
import { KvmHypervisor } from "./kvm/kvm-hypervisor.js";
import { kvmBaseDir } from "./kvm/runtime.js";
import { TapNicBackend } from "./kvm/netdev.js";

interface HypervisorContext {
  dataDir: string;
  host: HostInfoSource;
  clock: () => number;
  /** The node's instance networking (its network namespace, from the node settings). */
  network: () => Promise<HostNetwork>;
}

type Factory = (ctx: HypervisorContext) => Hypervisor;

const FACTORIES: Record<string, Factory> = {
  fake: (ctx) => new FakeHypervisor({ stateDir: path.join(ctx.dataDir, "hypervisors", "fake"), host: ctx.host, clock: ctx.clock }),
  kvm: (ctx) =>
    new KvmHypervisor({
      baseDir: kvmBaseDir(ctx.dataDir),
      host: ctx.host,
      clock: ctx.clock,
      nicBackend: new TapNicBackend(ctx.dataDir, ctx.network),
    }),
};

export const SUPPORTED_HYPERVISORS: readonly string[] = Object.keys(FACTORIES);

export class HypervisorRegistry {
  private readonly instances = new Map<string, Hypervisor>();
  constructor(private readonly ctx: HypervisorContext) {}

  get(name: string): Hypervisor {
    let hv = this.instances.get(name);
    if (!hv) {
      const factory = FACTORIES[name];
      if (!factory) throw new HypervisorError(`Unknown hypervisor '${name}'`);
      hv = factory(this.ctx);
      this.instances.set(name, hv);
    }
    return hv;
  }
}
