// Network calls: bridges_exist (Ganeti's backend.BridgesExist), answered in
// the node's network namespace.
import type { BackendContext } from "./context.js";
import { NodeBackendError } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

export function networkHandlers(ctx: BackendContext): HandlerSlice<"bridges_exist"> {
  return {
    bridges_exist: async (args) => {
      const missing = await (await ctx.network()).missingBridges(args.bridges);
      if (missing.length) throw new NodeBackendError(`Missing bridges ${missing.join(", ")}`);
      return null;
    },
  };
}
