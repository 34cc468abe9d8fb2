import { z } from "zod";
import { GroupInfoSchema, GroupListItemSchema, type GroupInfo, type GroupListItem } from "@ganeti-ts/schema";
import type { CallOptions, JobCallOptions } from "../core/request.js";
import type { JobHandle } from "../core/job-handle.js";
import { path } from "../core/path.js";
import { Resource, callOpts, type ListOptions } from "./base.js";
import type { GroupCreateParams, GroupModifyParams } from "./params.js";

/** `client.groups`: /2/groups and below. */
export class Groups extends Resource {
  list(opts: ListOptions & { bulk: true }): Promise<GroupInfo[]>;
  list(opts?: ListOptions & { bulk?: false }): Promise<GroupListItem[]>;
  list(opts: ListOptions & { bulk?: boolean } = {}): Promise<GroupInfo[] | GroupListItem[]> {
    const schema = opts.bulk ? z.array(GroupInfoSchema) : z.array(GroupListItemSchema);
    return this.r.call<GroupInfo[] | GroupListItem[]>(schema, {
      method: "GET",
      path: "/2/groups",
      query: { bulk: opts.bulk ? 1 : undefined, reason: opts.reason },
      ...callOpts(opts),
    });
  }

  async *iterate(opts: ListOptions = {}): AsyncGenerator<GroupInfo> {
    yield* await this.list({ ...opts, bulk: true });
  }

  get(name: string, opts?: CallOptions): Promise<GroupInfo> {
    return this.r.call(GroupInfoSchema, { method: "GET", path: path`/2/groups/${name}`, ...callOpts(opts) });
  }

  /** `POST /2/groups`. */
  create(params: GroupCreateParams, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "POST", path: "/2/groups", body: params, ...opts });
  }

  /** `DELETE /2/groups/NAME` (fails in the job if the group has nodes). */
  remove(name: string, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "DELETE", path: path`/2/groups/${name}`, ...opts });
  }

  /** `PUT /2/groups/NAME/modify`. */
  modify(name: string, params: GroupModifyParams, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "PUT", path: path`/2/groups/${name}/modify`, body: params, ...opts });
  }

  /** `PUT /2/groups/NAME/rename`; result `[new_name]`... Ganeti returns the bare name. */
  rename(name: string, newName: string, opts?: JobCallOptions): JobHandle<[string]> {
    return this.r.submit({ method: "PUT", path: path`/2/groups/${name}/rename`, body: { new_name: newName }, ...opts });
  }

  /** `PUT /2/groups/NAME/assign-nodes`. */
  assignNodes(name: string, nodes: string[], opts: JobCallOptions & { force?: boolean } = {}): JobHandle {
    const { force, ...rest } = opts;
    return this.r.submit({
      method: "PUT",
      path: path`/2/groups/${name}/assign-nodes`,
      query: { force: force ? 1 : undefined },
      body: { nodes },
      ...rest,
    });
  }
}
