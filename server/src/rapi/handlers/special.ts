// Opcode-backed endpoints whose input is not "body + static parameters":
// instance create (request version 1), multi-alloc, reinstall (3 opcodes),
// replace-disks and node migrate (legacy query forms), node role and storage.
import { z } from "zod";
import { badRequest, checkType } from "../errors.js";
import { flagArg, intArg, stringArg, type Handler, type RapiRequest, type RapiServices } from "../context.js";
import { convertUsbDevices, fillOpcode } from "../opcode-handler.js";
import { reasonTrail } from "../context.js";

const statics = (req: RapiRequest, svc: RapiServices, s: Record<string, unknown>) => ({ ...s, reason: reasonTrail(req, svc) });
const CREATE_RENAMES = { os: "os_type", name: "instance_name" };
const dict = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);

export const specialHandlers: Record<string, Handler> = {
  "instances.create": async (req, svc) => {
    checkType(req.body, "dict", "Body contents");
    const body = structuredClone(req.body as Record<string, unknown>);
    const version = "__version__" in body ? body["__version__"] : 0;
    if (version === 0 || version === false) throw badRequest("Instance creation request version 0 is no longer supported");
    if (version !== 1 && version !== true) throw badRequest(`Unsupported request data version ${String(version)}`);
    delete body["__version__"];
    convertUsbDevices(body);
    const op = fillOpcode("OP_INSTANCE_CREATE", body, statics(req, svc, { dry_run: flagArg(req, "dry-run") }), CREATE_RENAMES);
    return svc.queue.submit([op]);
  },

  "instances.multiAlloc": async (req, svc) => {
    const body = req.body;
    if (!dict(body) || !("instances" in body)) throw badRequest("Request is missing required 'instances' field in body");
    const insts = body["instances"];
    if (!Array.isArray(insts)) throw badRequest("Invalid body parameters: Parameter 'OP_INSTANCE_MULTI_ALLOC.instances' fails validation");
    const filled = insts.map((i) => {
      const op = fillOpcode("OP_INSTANCE_CREATE", i, {}, CREATE_RENAMES);
      return op;
    });
    const op = fillOpcode(
      "OP_INSTANCE_MULTI_ALLOC",
      { ...body, instances: filled },
      statics(req, svc, { dry_run: flagArg(req, "dry-run") }),
    );
    return svc.queue.submit([op]);
  },

  "instances.reinstall": async (req, svc) => {
    const name = req.params["instance_name"] ?? "";
    let body: unknown;
    const hasBody =
      req.body !== null &&
      !(dict(req.body) && Object.keys(req.body).length === 0) &&
      req.body !== "" &&
      !(Array.isArray(req.body) && req.body.length === 0);
    if (hasBody) {
      if (req.query.size > 0) throw badRequest("Can't combine query and body parameters");
      body = req.body;
    } else if (req.query.size > 0) {
      body = { os: stringArg(req, "os", null), start: !intArg(req, "nostartup") };
    } else body = {};
    if (!dict(body)) throw badRequest("Invalid body contents, not a dictionary");
    const os = "os" in body ? body["os"] : null;
    const start = "start" in body ? body["start"] : true;
    if (typeof start !== "boolean") throw badRequest(`'start' parameter: Type is '${typeNameOf(start)}', but 'bool' is expected`);
    const osparams = "osparams" in body ? body["osparams"] : null;
    // Ganeti builds these opcodes directly (no reason trail, no body validation beyond the opcodes').
    const ops = [
      fillOpcode("OP_INSTANCE_SHUTDOWN", {}, { instance_name: name }),
      fillOpcode("OP_INSTANCE_REINSTALL", {}, { instance_name: name, os_type: os, osparams }),
    ];
    if (start) ops.push(fillOpcode("OP_INSTANCE_STARTUP", {}, { instance_name: name, force: false }));
    return svc.queue.submit(ops);
  },

  "instances.replaceDisks": async (req, svc) => {
    let data: Record<string, unknown>;
    if (req.body !== null && !(dict(req.body) && Object.keys(req.body).length === 0)) {
      checkType(req.body, "dict", "Body contents");
      data = { ...(req.body as Record<string, unknown>) };
    } else if (req.query.size > 0) {
      data = {
        remote_node: stringArg(req, "remote_node", null),
        mode: stringArg(req, "mode", null),
        disks: stringArg(req, "disks", null),
        iallocator: stringArg(req, "iallocator", null),
      };
    } else data = {};
    if ("disks" in data) {
      const raw = data["disks"];
      delete data["disks"];
      if (raw !== null && raw !== "" && !(Array.isArray(raw) && raw.length === 0)) {
        if (Array.isArray(raw) && raw.every((x) => typeof x === "number" && Number.isInteger(x))) data["disks"] = raw;
        else if (typeof raw === "string") {
          const parts = raw.split(",");
          const bad = parts.find((p) => !/^\s*[+-]?\d+\s*$/.test(p));
          if (bad !== undefined) throw badRequest(`Invalid disk index passed: invalid literal for int() with base 10: '${bad}'`);
          data["disks"] = parts.map((p) => Number(p.trim()));
        } else throw badRequest("Invalid disk index passed: 'list' object has no attribute 'split'");
      }
    }
    const op = fillOpcode("OP_INSTANCE_REPLACE_DISKS", data, statics(req, svc, { instance_name: req.params["instance_name"] }));
    return svc.queue.submit([op]);
  },

  "nodes.setRole": async (req, svc) => {
    checkType(req.body, "str", "Body contents");
    const role = req.body as string;
    let mc: boolean | null = null;
    let offline: boolean | null = null;
    let drained: boolean | null = null;
    if (role === "regular") mc = offline = drained = false;
    else if (role === "master-candidate") mc = true;
    else if (role === "drained") drained = true;
    else if (role === "offline") offline = true;
    else throw badRequest(`Can't set '${role}' role`);
    const op = fillOpcode(
      "OP_NODE_SET_PARAMS",
      {},
      statics(req, svc, {
        node_name: req.params["node_name"],
        master_candidate: mc,
        offline,
        drained,
        force: flagArg(req, "force"),
        auto_promote: flagArg(req, "auto-promote"),
      }),
    );
    return svc.queue.submit([op]);
  },

  "nodes.migrate": async (req, svc) => {
    let data: unknown;
    // Any query argument selects the legacy form (the body is then ignored).
    const legacyKeys = [...req.query.keys()].filter((k) => k !== "reason");
    if (legacyKeys.length > 0) {
      if (req.query.has("live") && req.query.has("mode")) throw badRequest("Only one of 'live' and 'mode' should be passed");
      let mode: string | null;
      if (req.query.has("live")) mode = intArg(req, "live", 1) ? "live" : "non-live";
      else mode = stringArg(req, "mode", null);
      data = { mode };
    } else data = req.body;
    const op = fillOpcode("OP_NODE_MIGRATE", data, statics(req, svc, { node_name: req.params["node_name"] }));
    return svc.queue.submit([op]);
  },

  "nodes.storage": async (req, svc) => {
    const storageType = stringArg(req, "storage_type", null);
    const fields = stringArg(req, "output_fields", null);
    if (!fields) throw badRequest("Missing the required 'output_fields' parameter");
    const op = fillOpcode(
      "OP_NODE_QUERY_STORAGE",
      {},
      statics(req, svc, {
        nodes: [req.params["node_name"]],
        storage_type: storageType,
        output_fields: fields.split(","),
      }),
    );
    return svc.queue.submit([op]);
  },

  "nodes.storageModify": async (req, svc) => {
    const storageType = stringArg(req, "storage_type", null);
    const name = stringArg(req, "name", null);
    if (!name) throw badRequest("Missing the required 'name' parameter");
    const changes: Record<string, boolean> = {};
    if (req.query.has("allocatable")) changes["allocatable"] = flagArg(req, "allocatable", 1);
    const op = fillOpcode(
      "OP_NODE_MODIFY_STORAGE",
      {},
      statics(req, svc, {
        node_name: req.params["node_name"],
        storage_type: storageType,
        name,
        changes,
      }),
    );
    return svc.queue.submit([op]);
  },

  "nodes.storageRepair": async (req, svc) => {
    const storageType = stringArg(req, "storage_type", null);
    const name = stringArg(req, "name", null);
    if (!name) throw badRequest("Missing the required 'name' parameter");
    const op = fillOpcode(
      "OP_REPAIR_NODE_STORAGE",
      {},
      statics(req, svc, { node_name: req.params["node_name"], storage_type: storageType, name }),
    );
    return svc.queue.submit([op]);
  },
};

function typeNameOf(v: unknown): string {
  return z.boolean().safeParse(v).success
    ? "bool"
    : v === null
      ? "NoneType"
      : Array.isArray(v)
        ? "list"
        : typeof v === "string"
          ? "str"
          : typeof v === "number"
            ? Number.isInteger(v)
              ? "int"
              : "float"
            : "dict";
}
