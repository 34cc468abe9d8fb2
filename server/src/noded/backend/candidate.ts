// master_candidate_role (clusters on the etcd store): this machine takes or
// gives up the master candidate role when the active master says so after a
// change of the candidate pool (node modify, node role, cluster modify
// candidate_pool_size, node add, node remove's promotions).
import type { BackendContext } from "./context.js";
import { NodeBackendError } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

/** One role change at a time per data directory. */
const chains = new Map<string, Promise<unknown>>();

export function candidateHandlers(ctx: BackendContext): HandlerSlice<"master_candidate_role"> {
  return {
    master_candidate_role: async (args) => {
      const role = ctx.candidateRole;
      if (!role) throw new NodeBackendError("This node daemon cannot run a master daemon or an etcd member");
      const prev = chains.get(ctx.dataDir) ?? Promise.resolve();
      const run = prev
        .catch(() => undefined)
        .then(async () => {
          try {
            if (!args.candidate) return await role.giveUp();
            return await role.take({
              address: args.address,
              masterSettings: args.master_settings,
              rapiCert: args.rapi_cert,
              rapiUsers: args.rapi_users,
            });
          } catch (err) {
            const what = args.candidate ? "become a master candidate" : "stop being a master candidate";
            throw new NodeBackendError(`Cannot ${what}: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
          }
        });
      chains.set(ctx.dataDir, run);
      try {
        return await run;
      } finally {
        if (chains.get(ctx.dataDir) === run) chains.delete(ctx.dataDir);
      }
    },
  };
}
