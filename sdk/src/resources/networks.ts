import { z } from "zod";
import { NetworkInfoSchema, NetworkListItemSchema, type NetworkInfo, type NetworkListItem } from "@ganeti-ts/schema";
import type { CallOptions, JobCallOptions } from "../core/request.js";
import type { JobHandle } from "../core/job-handle.js";
import { path } from "../core/path.js";
import { Resource, callOpts, type ListOptions } from "./base.js";
import type { NetworkConnectParams, NetworkCreateParams, NetworkModifyParams } from "./params.js";

/** `client.networks`: /2/networks and below. */
export class Networks extends Resource {
  list(opts: ListOptions & { bulk: true }): Promise<NetworkInfo[]>;
  list(opts?: ListOptions & { bulk?: false }): Promise<NetworkListItem[]>;
  list(opts: ListOptions & { bulk?: boolean } = {}): Promise<NetworkInfo[] | NetworkListItem[]> {
    const schema = opts.bulk ? z.array(NetworkInfoSchema) : z.array(NetworkListItemSchema);
    return this.r.call<NetworkInfo[] | NetworkListItem[]>(schema, {
      method: "GET",
      path: "/2/networks",
      query: { bulk: opts.bulk ? 1 : undefined, reason: opts.reason },
      ...callOpts(opts),
    });
  }

  async *iterate(opts: ListOptions = {}): AsyncGenerator<NetworkInfo> {
    yield* await this.list({ ...opts, bulk: true });
  }

  get(name: string, opts?: CallOptions): Promise<NetworkInfo> {
    return this.r.call(NetworkInfoSchema, { method: "GET", path: path`/2/networks/${name}`, ...callOpts(opts) });
  }

  /** `POST /2/networks`. */
  create(params: NetworkCreateParams, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "POST", path: "/2/networks", body: params, ...opts });
  }

  /** `DELETE /2/networks/NAME` (fails in the job while connected or in use). */
  remove(name: string, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "DELETE", path: path`/2/networks/${name}`, ...opts });
  }

  /** `PUT /2/networks/NAME/modify`. */
  modify(name: string, params: NetworkModifyParams, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "PUT", path: path`/2/networks/${name}/modify`, body: params, ...opts });
  }

  /** `PUT /2/networks/NAME/connect`. */
  connect(name: string, params: NetworkConnectParams, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "PUT", path: path`/2/networks/${name}/connect`, body: params, ...opts });
  }

  /** `PUT /2/networks/NAME/disconnect`. */
  disconnect(name: string, groupName: string, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({
      method: "PUT",
      path: path`/2/networks/${name}/disconnect`,
      body: { group_name: groupName },
      ...opts,
    });
  }
}
