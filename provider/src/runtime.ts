// What runs where the engine calls the provider: the three providers built
// from their operations tables, and configure(). Loaded by the serialized
// provider stub (core/define-resource.ts providerStub) inside Pulumi's
// dynamic-provider host, or directly by tests.
import type { dynamic } from "@pulumi/pulumi";
import { configureRuntime, makeProvider, type ResourceKind } from "./core/define-resource.js";
import type { ConfigSource } from "./core/client.js";
import { engineAddressOf, watchEngine } from "./core/engine-watch.js";
import { instanceOperations } from "./resources/instance.js";
import { nodeGroupOperations } from "./resources/node-group.js";
import { networkOperations } from "./resources/network.js";

export const providers: Record<ResourceKind, dynamic.ResourceProvider> = {
  Instance: makeProvider(instanceOperations),
  NodeGroup: makeProvider(nodeGroupOperations),
  Network: makeProvider(networkOperations),
};

export const runtime = {
  providers,
  configure: (config: unknown) => configureRuntime(config as ConfigSource | undefined),
};

// Let stubs in this process find this copy instead of importing another one.
(globalThis as unknown as Record<symbol, unknown>)[Symbol.for("@ganeti-ts/pulumi/runtime")] = Promise.resolve(runtime);

// Inside Pulumi's dynamic-provider host: end with the engine (core/engine-watch.ts).
const engine = engineAddressOf(process.argv);
const g = globalThis as unknown as Record<symbol, unknown>;
if (engine && !g[Symbol.for("@ganeti-ts/pulumi/engine-watch")]) g[Symbol.for("@ganeti-ts/pulumi/engine-watch")] = watchEngine(engine);
