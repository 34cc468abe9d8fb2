// Master → node daemons over HTTPS. Both sides hold the cluster certificate:
// we present it as client certificate and accept only a server presenting it
// (CA pinning to the one self-signed cert; the host name is not checked since
// the CN is the cluster name). One keep-alive pool per node via undici.
import { Agent, request } from "undici";
import { RPC_CALLS, type NodeObject, type RpcArgs, type RpcCallName, type RpcResultOf } from "@ganeti-ts/schema";
import { parseCertPem } from "../lib/certs.js";
import { RpcError } from "../lib/errors.js";
import type { RpcOutcome, RpcRunner } from "./runner.js";
import { decodeReply, fanOut, hostPort, offlineError } from "./transport.js";

interface HttpsRpcRunnerOptions {
  /** The cluster certificate and key (server.pem). */
  certPem: string;
  /** Multiplies every call's timeout (slow CI, or tests that want it short). */
  timeoutScale?: number;
  /** Connections per node (default 16). */
  connectionsPerNode?: number;
}

export class HttpsRpcRunner implements RpcRunner {
  private readonly agent: Agent;
  private readonly timeoutScale: number;

  constructor(opts: HttpsRpcRunnerOptions) {
    const { cert, key } = parseCertPem(opts.certPem);
    this.timeoutScale = opts.timeoutScale ?? 1;
    this.agent = new Agent({
      connections: opts.connectionsPerNode ?? 16,
      keepAliveTimeout: 30_000,
      connect: {
        ca: [cert],
        cert,
        key,
        rejectUnauthorized: true,
        checkServerIdentity: () => undefined,
      },
    });
  }

  async call<N extends RpcCallName>(node: NodeObject, name: N, args: RpcArgs<N>): Promise<RpcResultOf<N>> {
    if (node.offline) throw offlineError(node, name);
    const timeoutMs = Math.max(1, Math.round(RPC_CALLS[name].timeout * 1000 * this.timeoutScale));
    let text: string;
    let status: number;
    try {
      const res = await request(`https://${hostPort(node)}/${name}`, {
        method: "POST",
        body: JSON.stringify(args),
        headers: { "content-type": "application/json" },
        dispatcher: this.agent,
        headersTimeout: timeoutMs,
        bodyTimeout: timeoutMs,
      });
      status = res.statusCode;
      text = await res.body.text();
    } catch (err) {
      throw new RpcError(node.name, name, `Error while contacting node ${node.name} (${hostPort(node)}): ${describe(err)}`, { cause: err });
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (err) {
      throw new RpcError(node.name, name, `Node ${node.name} answered HTTP ${status} with non-JSON data`, { cause: err });
    }
    return decodeReply(node, name, body);
  }

  callMany<N extends RpcCallName>(nodes: NodeObject[], name: N, args: RpcArgs<N>): Promise<Map<string, RpcOutcome<RpcResultOf<N>>>> {
    return fanOut<N>(nodes, (node) => this.call(node, name, args));
  }

  /** Close the connection pools. */
  async close(): Promise<void> {
    await this.agent.close();
  }
}

function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  const code = (err as NodeJS.ErrnoException).code;
  const cause = (err as { cause?: unknown }).cause;
  const inner = cause instanceof Error && cause.message !== err.message ? ` (${cause.message})` : "";
  return `${code ? code + ": " : ""}${err.message}${inner}`;
}
