// RpcRunner over NodeBackend objects in this process, keyed by node uuid: the
// same parsing and error semantics as HTTPS (arguments and results make a
// JSON round trip, failures become RpcError), no sockets. Removing a node's
// backend from `backends` makes it unreachable.
import type { NodeObject, RpcArgs, RpcCallName, RpcResultOf } from "@ganeti-ts/schema";
import { RpcError } from "../lib/errors.js";
import type { NodeBackend } from "../noded/backend/node-backend.js";
import type { RpcOutcome, RpcRunner } from "./runner.js";
import { decodeReply, fanOut, offlineError } from "./transport.js";

export class InMemoryRpcRunner implements RpcRunner {
  constructor(readonly backends: Map<string, NodeBackend> = new Map()) {}

  async call<N extends RpcCallName>(node: NodeObject, name: N, args: RpcArgs<N>): Promise<RpcResultOf<N>> {
    if (node.offline) throw offlineError(node, name);
    const backend = this.backends.get(node.uuid);
    if (!backend) {
      throw new RpcError(node.name, name, `Error while contacting node ${node.name}: node daemon not reachable`);
    }
    let result: unknown;
    try {
      result = await backend.handle(name, JSON.parse(JSON.stringify(args ?? {})));
    } catch (err) {
      // Same message as over the wire; the node-side error kept as cause.
      throw new RpcError(node.name, name, err instanceof Error ? err.message : String(err), { cause: err });
    }
    return decodeReply(node, name, { ok: true, result: result === undefined ? null : JSON.parse(JSON.stringify(result)) });
  }

  callMany<N extends RpcCallName>(nodes: NodeObject[], name: N, args: RpcArgs<N>): Promise<Map<string, RpcOutcome<RpcResultOf<N>>>> {
    return fanOut<N>(nodes, (node) => this.call(node, name, args));
  }
}
