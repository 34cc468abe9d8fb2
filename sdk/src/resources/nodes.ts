import { z } from "zod";
import {
  NodeInfoSchema,
  NodeListItemSchema,
  NodeRoleSchema,
  type NodeInfo,
  type NodeListItem,
  type NodeRole,
  type OobCommandResult,
  type OpOobCommandSchema,
} from "@ganeti-ts/schema";
import type { CallOptions, JobCallOptions } from "../core/request.js";
import type { JobHandle } from "../core/job-handle.js";
import { path } from "../core/path.js";
import { Resource, callOpts, type ListOptions } from "./base.js";
import type { NodeEvacuateParams, NodeMigrateParams, NodeModifyParams, StorageType } from "./params.js";

/** `client.nodes`: /2/nodes and below (`node add` is a local CLI verb, not RAPI). */
/** OP_OOB_COMMAND's parameters as a caller writes them. */
export type NodeOobParams = Omit<z.input<typeof OpOobCommandSchema>, "OP_ID">;

export class Nodes extends Resource {
  /** `GET /2/nodes` (`bulk: true` → full objects). */
  list(opts: ListOptions & { bulk: true }): Promise<NodeInfo[]>;
  list(opts?: ListOptions & { bulk?: false }): Promise<NodeListItem[]>;
  list(opts: ListOptions & { bulk?: boolean } = {}): Promise<NodeInfo[] | NodeListItem[]> {
    const schema = opts.bulk ? z.array(NodeInfoSchema) : z.array(NodeListItemSchema);
    return this.r.call<NodeInfo[] | NodeListItem[]>(schema, {
      method: "GET",
      path: "/2/nodes",
      query: { bulk: opts.bulk ? 1 : undefined, reason: opts.reason },
      ...callOpts(opts),
    });
  }

  async *iterate(opts: ListOptions = {}): AsyncGenerator<NodeInfo> {
    yield* await this.list({ ...opts, bulk: true });
  }

  /** `GET /2/nodes/NAME`. */
  get(name: string, opts?: CallOptions): Promise<NodeInfo> {
    return this.r.call(NodeInfoSchema, { method: "GET", path: path`/2/nodes/${name}`, ...callOpts(opts) });
  }

  /** `GET /2/nodes/NAME/role` → `"master"`, `"master-candidate"`, `"regular"`, `"drained"` or `"offline"`. */
  getRole(name: string, opts?: CallOptions): Promise<NodeRole> {
    return this.r.call(NodeRoleSchema, { method: "GET", path: path`/2/nodes/${name}/role`, ...callOpts(opts) });
  }

  /** `PUT /2/nodes/NAME/role` (body is the bare role string). */
  setRole(
    name: string,
    role: Exclude<NodeRole, "master">,
    opts: JobCallOptions & { force?: boolean; autoPromote?: boolean } = {},
  ): JobHandle<[[string, string][]]> {
    const { force, autoPromote, ...rest } = opts;
    return this.r.submit({
      method: "PUT",
      path: path`/2/nodes/${name}/role`,
      query: { force: force ? 1 : undefined, "auto-promote": autoPromote ? 1 : undefined },
      body: role,
      ...rest,
    });
  }

  /** `POST /2/nodes/NAME/modify`. */
  modify(name: string, params: NodeModifyParams, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "POST", path: path`/2/nodes/${name}/modify`, body: params, ...opts });
  }

  /** `POST /2/nodes/NAME/powercycle`. */
  powercycle(name: string, opts: JobCallOptions & { force?: boolean } = {}): JobHandle {
    const { force, ...rest } = opts;
    return this.r.submit({
      method: "POST",
      path: path`/2/nodes/${name}/powercycle`,
      query: { force: force ? 1 : undefined },
      ...rest,
    });
  }

  /**
   * `POST /2/ganeti-ts/oob` (ganeti-ts extension, OP_OOB_COMMAND): run the
   * nodes' oob_program (power-on, power-off, power-cycle, power-status,
   * health); the result holds `[[0, node], [status, payload]]` per node.
   */
  oob(params: NodeOobParams, opts?: JobCallOptions): JobHandle<[OobCommandResult]> {
    return this.r.submit({ method: "POST", path: "/2/ganeti-ts/oob", body: params, ...opts });
  }

  /**
   * `POST /2/ganeti-ts/node-volumes` (ganeti-ts extension, OP_NODE_QUERYVOLS,
   * gnt node volumes): one row of strings per volume of the nodes' volume
   * groups (fields node, phys, vg, name, size, instance); all nodes when none given.
   */
  volumes(params: { output_fields: string[]; nodes?: string[] }, opts?: JobCallOptions): JobHandle<[string[][]]> {
    return this.r.submit({ method: "POST", path: "/2/ganeti-ts/node-volumes", body: params, ...opts });
  }

  /** `POST /2/nodes/NAME/evacuate` (v1 body); follow-up jobs are waited on by `.wait()`. */
  evacuate(name: string, params: NodeEvacuateParams, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "POST", path: path`/2/nodes/${name}/evacuate`, body: params, ...opts });
  }

  /** `POST /2/nodes/NAME/migrate` (v1 body); follow-up jobs are waited on by `.wait()`. */
  migrate(name: string, params: NodeMigrateParams = {}, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "POST", path: path`/2/nodes/${name}/migrate`, body: params, ...opts });
  }

  /** `GET /2/nodes/NAME/storage` (needs write: it runs a job; no storage_type: the cluster's default); result `[[[col...], ...]]`. */
  storage(name: string, q: { storage_type?: StorageType; output_fields: string[] }, opts?: JobCallOptions): JobHandle<[unknown[][]]> {
    return this.r.submit({
      method: "GET",
      path: path`/2/nodes/${name}/storage`,
      query: { storage_type: q.storage_type, output_fields: q.output_fields.join(",") },
      ...opts,
    });
  }

  /** `PUT /2/nodes/NAME/storage/modify`. */
  modifyStorage(name: string, q: { storage_type: StorageType; name: string; allocatable?: boolean }, opts?: JobCallOptions): JobHandle {
    return this.r.submit({
      method: "PUT",
      path: path`/2/nodes/${name}/storage/modify`,
      query: { storage_type: q.storage_type, name: q.name, allocatable: q.allocatable },
      ...opts,
    });
  }

  /** `PUT /2/nodes/NAME/storage/repair`. */
  repairStorage(name: string, q: { storage_type: StorageType; name: string }, opts?: JobCallOptions): JobHandle {
    return this.r.submit({
      method: "PUT",
      path: path`/2/nodes/${name}/storage/repair`,
      query: { storage_type: q.storage_type, name: q.name },
      ...opts,
    });
  }
}
