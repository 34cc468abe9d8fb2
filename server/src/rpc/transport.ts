// What both RPC runners share: the wire envelope, result parsing against the
// call table, and how failures become RpcError(node, call, message).
import { RpcReplySchema, type NodeObject, type RpcCallName, type RpcResultOf } from "@ganeti-ts/schema";
import { RpcError } from "../lib/errors.js";
import { checkResult } from "./result-checks.js";
import type { RpcOutcome } from "./runner.js";

const OFFLINE_MESSAGE = "Node is marked offline";

export function offlineError(node: NodeObject, name: RpcCallName): RpcError {
  return new RpcError(node.name, name, OFFLINE_MESSAGE);
}

/** Turn a decoded reply body into the call's typed result, or throw RpcError. */
export function decodeReply<N extends RpcCallName>(node: NodeObject, name: N, body: unknown): RpcResultOf<N> {
  const reply = RpcReplySchema.safeParse(body);
  if (!reply.success) {
    throw new RpcError(node.name, name, `Malformed reply from node ${node.name}: ${reply.error.message}`, {
      cause: reply.error,
    });
  }
  if (!reply.data.ok) throw new RpcError(node.name, name, reply.data.error);
  const parsed = checkResult(name, reply.data.result);
  if (!parsed.success) {
    throw new RpcError(node.name, name, `Invalid result of ${name} from node ${node.name}: ${parsed.error.message}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}

/** Run `one` on every node in parallel; offline nodes are never contacted. */
export async function fanOut<N extends RpcCallName>(
  nodes: NodeObject[],
  one: (node: NodeObject) => Promise<RpcResultOf<N>>,
): Promise<Map<string, RpcOutcome<RpcResultOf<N>>>> {
  const entries = await Promise.all(
    nodes.map(async (node): Promise<[string, RpcOutcome<RpcResultOf<N>>]> => {
      if (node.offline) return [node.uuid, { ok: false, error: OFFLINE_MESSAGE, offline: true }];
      try {
        return [node.uuid, { ok: true, result: await one(node) }];
      } catch (err) {
        // Reported per node, as Ganeti's RpcResult.fail_msg: the caller decides.
        const message = err instanceof Error ? err.message : String(err);
        return [node.uuid, { ok: false, error: message, offline: false }];
      }
    }),
  );
  return new Map(entries);
}

/** host:port for a URL (brackets for IPv6 literals). */
export function hostPort(node: NodeObject): string {
  const host = node.rpc_address.includes(":") ? `[${node.rpc_address}]` : node.rpc_address;
  return `${host}:${node.rpc_port}`;
}
