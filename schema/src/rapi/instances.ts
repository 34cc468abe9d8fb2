// /2/instances endpoints.
import { z } from "zod";
import { InstanceConsoleSchema, InstanceInfoSchema, InstanceListItemSchema } from "../objects/instance.js";
import {
  ANONYMOUS, DRY_RUN, JobIdResponseSchema, Q, READ, WRITE, endpoint, flag, fromPath, tagEndpoints,
  type Endpoint, type OpcodeMapping, type StaticSource,
} from "./define.js";

const I = "/2/instances/{instance_name}";
const inst = (): Record<string, StaticSource> => ({ instance_name: fromPath("instance_name") });
const job = (
  name: string, method: Endpoint["method"], path: string, summary: string, opcode: OpcodeMapping, query: Endpoint["query"] = {},
): Endpoint => endpoint({ name, method, path, access: WRITE, summary, query: { ...query, reason: Q.reason }, opcode, response: JobIdResponseSchema });

export const INSTANCE_ENDPOINTS: Endpoint[] = [
  endpoint({
    name: "instances", method: "GET", path: "/2/instances", access: ANONYMOUS, summary: "List instances",
    query: { bulk: Q.bulk, lock: Q.lock, reason: Q.reason }, handler: "instances.list",
    response: z.union([z.array(InstanceListItemSchema), z.array(InstanceInfoSchema)]),
  }),
  endpoint({
    name: "instances", method: "POST", path: "/2/instances", access: WRITE, summary: "Create an instance (request version 1: `__version__: 1`)",
    query: { "dry-run": Q.dryRun, reason: Q.reason }, handler: "instances.create",
    body: z.looseObject({ __version__: z.literal(1) }), response: JobIdResponseSchema,
  }),
  endpoint({
    name: "instances_multi_alloc", method: "POST", path: "/2/instances-multi-alloc", access: WRITE, summary: "Allocate several instances at once",
    query: { "dry-run": Q.dryRun, reason: Q.reason }, handler: "instances.multiAlloc",
    body: z.looseObject({ instances: z.array(z.record(z.string(), z.unknown())) }), response: JobIdResponseSchema,
  }),
  endpoint({ name: "instances_name", method: "GET", path: I, access: ANONYMOUS, summary: "One instance", query: { lock: Q.lock, reason: Q.reason }, handler: "instances.get", response: InstanceInfoSchema }),
  job("instances_name", "DELETE", I, "Remove an instance", {
    opId: "OP_INSTANCE_REMOVE", body: "body", static: { ...inst(), ignore_failures: { from: "const", value: false }, ...DRY_RUN },
  }, { "dry-run": Q.dryRun }),
  endpoint({
    name: "instances_name_info", method: "GET", path: `${I}/info`, access: ANONYMOUS, summary: "Detailed instance information (returns a job id)",
    query: { static: { kind: "int", description: "1: configuration only, no live data" }, reason: Q.reason },
    opcode: {
      opId: "OP_INSTANCE_QUERY_DATA", body: "ignored",
      static: { instances: { from: "path", param: "instance_name", list: true }, static: flag("static") },
    },
    response: JobIdResponseSchema,
  }),
  job("instances_name_reboot", "POST", `${I}/reboot`, "Reboot an instance", {
    opId: "OP_INSTANCE_REBOOT", body: "body",
    static: { ...inst(), reboot_type: { from: "string", query: "type", default: "hard" }, ignore_secondaries: flag("ignore_secondaries"), ...DRY_RUN },
  }, { type: { kind: "string", description: "soft, hard (default) or full" }, ignore_secondaries: { kind: "int", description: "1: ignore errors on secondaries" }, "dry-run": Q.dryRun }),
  job("instances_name_shutdown", "PUT", `${I}/shutdown`, "Shut an instance down", {
    opId: "OP_INSTANCE_SHUTDOWN", body: "body", static: { ...inst(), no_remember: flag("no_remember"), ...DRY_RUN },
  }, { no_remember: Q.noRemember, "dry-run": Q.dryRun }),
  job("instances_name_startup", "PUT", `${I}/startup`, "Start an instance", {
    opId: "OP_INSTANCE_STARTUP", body: "ignored", static: { ...inst(), force: flag("force"), ...DRY_RUN, no_remember: flag("no_remember") },
  }, { force: Q.force, "dry-run": Q.dryRun, no_remember: Q.noRemember }),
  endpoint({
    name: "instances_name_reinstall", method: "POST", path: `${I}/reinstall`, access: WRITE,
    summary: "Reinstall an instance: one job of shutdown, reinstall and (if start) startup",
    query: { os: { kind: "string", description: "legacy: OS to install" }, nostartup: { kind: "int", description: "legacy: 1 = do not start" } },
    body: z.object({ os: z.string().nullable().optional(), start: z.boolean().optional(), osparams: z.record(z.string(), z.unknown()).nullable().optional() }),
    handler: "instances.reinstall", response: JobIdResponseSchema,
  }),
  endpoint({
    name: "instances_name_replace_disks", method: "POST", path: `${I}/replace-disks`, access: WRITE, summary: "Replace the disks of a (DRBD) instance",
    query: {
      mode: { kind: "string", description: "legacy: replace mode" }, remote_node: { kind: "string", description: "legacy: new secondary" },
      disks: { kind: "string", description: "legacy: comma-separated disk indices" }, iallocator: { kind: "string", description: "legacy: allocator" },
      reason: Q.reason,
    },
    handler: "instances.replaceDisks", response: JobIdResponseSchema,
  }),
  job("instances_name_activate_disks", "PUT", `${I}/activate-disks`, "Activate the disks of an instance", {
    opId: "OP_INSTANCE_ACTIVATE_DISKS", body: "ignored", static: { ...inst(), ignore_size: flag("ignore_size") },
  }, { ignore_size: { kind: "int", description: "1: ignore recorded sizes" } }),
  job("instances_name_deactivate_disks", "PUT", `${I}/deactivate-disks`, "Deactivate the disks of an instance", {
    opId: "OP_INSTANCE_DEACTIVATE_DISKS", body: "ignored", static: { ...inst(), force: flag("force") },
  }, { force: Q.force }),
  job("instances_name_recreate_disks", "POST", `${I}/recreate-disks`, "Recreate the disks of an instance", {
    opId: "OP_INSTANCE_RECREATE_DISKS", body: "body", static: inst(),
  }),
  job("instances_name_disk_grow", "POST", `${I}/disk/{disk_index}/grow`, "Grow a disk", {
    opId: "OP_INSTANCE_GROW_DISK", body: "body", static: { ...inst(), disk: { from: "path", param: "disk_index", int: true } },
  }),
  job("instances_name_prepare_export", "PUT", `${I}/prepare-export`, "Prepare an export", {
    opId: "OP_BACKUP_PREPARE", body: "ignored", static: { ...inst(), mode: { from: "string", query: "mode", default: null } },
  }, { mode: { kind: "string", description: "local or remote" } }),
  job("instances_name_export", "PUT", `${I}/export`, "Export an instance", {
    opId: "OP_BACKUP_EXPORT", body: "body", static: inst(), renames: { destination: "target_node" },
  }),
  job("instances_name_migrate", "PUT", `${I}/migrate`, "Migrate an instance", { opId: "OP_INSTANCE_MIGRATE", body: "body", static: inst() }),
  job("instances_name_failover", "PUT", `${I}/failover`, "Fail an instance over", { opId: "OP_INSTANCE_FAILOVER", body: "body", static: inst() }),
  job("instances_name_rename", "PUT", `${I}/rename`, "Rename an instance", { opId: "OP_INSTANCE_RENAME", body: "body", static: inst() }),
  job("instances_name_modify", "PUT", `${I}/modify`, "Modify an instance", {
    opId: "OP_INSTANCE_SET_PARAMS", body: "body", static: inst(),
    renames: { custom_beparams: "beparams", custom_hvparams: "hvparams" }, convertUsbDevices: true,
  }),
  endpoint({
    name: "instances_name_console", method: "GET", path: `${I}/console`, access: READ, summary: "How to reach the instance console",
    query: { reason: Q.reason }, handler: "instances.console", response: InstanceConsoleSchema,
  }),
  ...tagEndpoints(I, "instances_name_tags", "instance", "instance_name"),
];
