// The handler table type: one async function per row of RPC_CALLS, taking the
// parsed arguments and returning the call's result. Area modules return
// slices of it; NodeBackend's annotation makes a missing call a type error.
import type { RPC_CALLS, RpcCallName, RpcResultOf } from "@ganeti-ts/schema";
import type { z } from "zod";

export type ParsedArgs<N extends RpcCallName> = z.output<(typeof RPC_CALLS)[N]["args"]>;
export type Handlers = { [N in RpcCallName]: (args: ParsedArgs<N>) => Promise<RpcResultOf<N>> };
export type HandlerSlice<K extends RpcCallName> = Pick<Handlers, K>;
