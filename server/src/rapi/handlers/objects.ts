// Lists and single objects: instances, nodes, groups, networks (+ node role,
// instance console, tag lists).
import { withSshPort } from "../../cmdlib/instance/console.js";
import type { ConsoleInfoSchema } from "@ganeti-ts/schema";
import type { z } from "zod";
import { G_FIELDS, I_FIELDS, NET_FIELDS, N_FIELDS, addMemoryBeparam, memoryBeparam } from "../../config/query/render.js";
import { instanceStatus, runState } from "../../config/query/instance-fields.js";
import { nodeRole } from "../../config/query/node-fields.js";
import type { QueryResourceName } from "../../config/query/engine.js";
import { RapiHttpError, badRequest, notFound } from "../errors.js";
import { RawJson, flagArg, type Handler, type RapiRequest, type RapiServices } from "../context.js";

/** 3.0 rejects locked queries ("Sync queries are not allowed"). */
function noLocking(req: RapiRequest): void {
  if (flagArg(req, "lock")) throw new RapiHttpError(500, "Sync queries are not allowed");
}

function list(res: "instance" | "node" | "group" | "network", prefix: string, key: "id" | "name", fields: readonly string[]): Handler {
  return async (req, svc) => {
    noLocking(req);
    if (flagArg(req, "bulk")) {
      return new RawJson(await svc.engine.objectsJson(res, fields, res === "instance" ? memoryBeparam : undefined));
    }
    return svc.engine.names(res).map((n) => ({ [key]: n, uri: `${prefix}/${n}` }));
  };
}

async function one(svc: RapiServices, res: QueryResourceName, fields: readonly string[], name: string): Promise<Record<string, unknown>> {
  const [obj] = await svc.engine.objects(res, fields, [name]);
  if (!obj) throw notFound();
  return obj;
}

const NR_MAP = { M: "master", C: "master-candidate", R: "regular", D: "drained", O: "offline" } as const;

function tagsGet(req: RapiRequest, svc: RapiServices): string[] {
  const c = svc.config;
  const kind = req.endpoint.path;
  if (kind === "/2/tags") return [...c.data.cluster.tags];
  const name = Object.values(req.params)[0] ?? "";
  const obj = kind.startsWith("/2/instances/")
    ? c.findInstance(name)
    : kind.startsWith("/2/nodes/")
      ? c.findNode(name)
      : kind.startsWith("/2/groups/")
        ? c.findGroup(name)
        : c.findNetwork(name);
  // 3.0 answers an unknown object with a 500 carrying the LUXI error; 404 is kinder and clients treat both as errors.
  if (!obj) throw notFound();
  return [...obj.tags];
}

export const objectHandlers: Record<string, Handler> = {
  "instances.list": list("instance", "/2/instances", "id", I_FIELDS),
  "nodes.list": list("node", "/2/nodes", "id", N_FIELDS),
  "groups.list": list("group", "/2/groups", "name", G_FIELDS),
  "networks.list": list("network", "/2/networks", "name", NET_FIELDS),
  "instances.get": async (req, svc) => {
    noLocking(req);
    return addMemoryBeparam(await one(svc, "instance", I_FIELDS, req.params["instance_name"] ?? ""));
  },
  "nodes.get": async (req, svc) => {
    noLocking(req);
    const n = await one(svc, "node", N_FIELDS, req.params["node_name"] ?? "");
    if ("secondary_ip" in n) throw badRequest("Parameter 'sip' has an alias of 'secondary_ip', but both values are present in response");
    return { ...n, secondary_ip: n["sip"] };
  },
  "groups.get": async (req, svc) => {
    noLocking(req);
    return one(svc, "group", G_FIELDS, req.params["group_name"] ?? "");
  },
  "networks.get": async (req, svc) => {
    noLocking(req);
    return one(svc, "network", NET_FIELDS, req.params["network_name"] ?? "");
  },
  "nodes.role": (req, svc) => {
    noLocking(req);
    const node = svc.config.findNode(req.params["node_name"] ?? "");
    if (!node) throw notFound();
    return NR_MAP[nodeRole({ config: svc.config, data: svc.config.data, live: null }, node)];
  },
  "instances.console": async (req, svc) => {
    const inst = svc.config.findInstance(req.params["instance_name"] ?? "");
    // 3.0: QueryInstances(...)[0] on an empty result → IndexError.
    if (!inst) throw new RapiHttpError(500, "list index out of range");
    const live = await svc.engine.liveFor("instance");
    const ctx = { config: svc.config, data: svc.config.data, live };
    const running = runState(ctx, inst).kind === "running" && instanceStatus(ctx, inst) !== "ERROR_wrongnode";
    if (!running) throw new RapiHttpError(503, "Instance console unavailable");
    const pnode = svc.config.node(inst.primary_node);
    const info: z.infer<typeof ConsoleInfoSchema> = await svc.rpc.call(pnode, "instance_console_info", {
      instance: svc.config.rpcInstance(inst),
    });
    return withSshPort(svc.config, pnode, info);
  },
  "tags.get": (req, svc) => tagsGet(req, svc),
};
