// The master's view of node daemons. Calls address a node object (its rpc
// address/port and offline flag come from the config).
import type { NodeObject, RpcArgs, RpcCallName, RpcResultOf } from "@ganeti-ts/schema";

export type RpcOutcome<T> = { ok: true; result: T } | { ok: false; error: string; offline: boolean };

export interface RpcRunner {
  /** One node; throws RpcError (node name, call, message) on failure or when the node is offline. */
  call<N extends RpcCallName>(node: NodeObject, name: N, args: RpcArgs<N>): Promise<RpcResultOf<N>>;
  /** Several nodes in parallel; never throws for a node's failure (offline nodes are not contacted). */
  callMany<N extends RpcCallName>(nodes: NodeObject[], name: N, args: RpcArgs<N>): Promise<Map<string, RpcOutcome<RpcResultOf<N>>>>; // keyed by node uuid
}
