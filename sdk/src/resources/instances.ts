import { z } from "zod";
import {
  InstanceConsoleSchema,
  InstanceInfoSchema,
  InstanceListItemSchema,
  type InstanceConsole,
  type InstanceInfo,
  type InstanceListItem,
} from "@ganeti-ts/schema";
import type { CallOptions, JobCallOptions } from "../core/request.js";
import type { JobHandle } from "../core/job-handle.js";
import { path } from "../core/path.js";
import { Resource, callOpts, type ListOptions } from "./base.js";
import type {
  InstanceCreateParams,
  InstanceExportParams,
  InstanceFailoverParams,
  InstanceGrowDiskParams,
  InstanceMigrateParams,
  InstanceModifyParams,
  InstanceMultiAllocParams,
  InstanceRebootParams,
  InstanceRecreateDisksParams,
  InstanceReinstallParams,
  InstanceRemoveParams,
  InstanceRenameParams,
  InstanceReplaceDisksParams,
  InstanceShutdownParams,
} from "./params.js";

/** Job results (opresult) of instance jobs, as Ganeti returns them. */
export type InstanceCreateResult = [string[]];
export type ChangeList = [string, unknown][];

/** `client.instances`: /2/instances and below. */
export class Instances extends Resource {
  /** `GET /2/instances` (`bulk: true` → full objects). */
  list(opts: ListOptions & { bulk: true }): Promise<InstanceInfo[]>;
  list(opts?: ListOptions & { bulk?: false }): Promise<InstanceListItem[]>;
  list(opts: ListOptions & { bulk?: boolean } = {}): Promise<InstanceInfo[] | InstanceListItem[]> {
    const schema = opts.bulk ? z.array(InstanceInfoSchema) : z.array(InstanceListItemSchema);
    return this.r.call<InstanceInfo[] | InstanceListItem[]>(schema, {
      method: "GET",
      path: "/2/instances",
      query: { bulk: opts.bulk ? 1 : undefined, reason: opts.reason },
      ...callOpts(opts),
    });
  }

  /** Iterate over all instances (one bulk request; yields as a stream of objects). */
  async *iterate(opts: ListOptions = {}): AsyncGenerator<InstanceInfo> {
    yield* await this.list({ ...opts, bulk: true });
  }

  /** `GET /2/instances/NAME` (NotFoundError if unknown). */
  get(name: string, opts?: CallOptions): Promise<InstanceInfo> {
    return this.r.call(InstanceInfoSchema, { method: "GET", path: path`/2/instances/${name}`, ...callOpts(opts) });
  }

  /** `POST /2/instances`: create with the version-1 body. Result: `[[primary, secondary?]]`. */
  create(params: InstanceCreateParams, opts?: JobCallOptions): JobHandle<InstanceCreateResult> {
    return this.r.submit({ method: "POST", path: "/2/instances", body: { ...params, __version__: 1 }, ...opts });
  }

  /** `POST /2/instances-multi-alloc`; result `{"jobs", "allocatable", "failed"}` (follow-up jobs are waited on). */
  multiAlloc(params: InstanceMultiAllocParams, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "POST", path: "/2/instances-multi-alloc", body: params, ...opts });
  }

  /** `DELETE /2/instances/NAME`. */
  remove(name: string, params: InstanceRemoveParams = {}, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "DELETE", path: path`/2/instances/${name}`, body: params, ...opts });
  }

  /** `GET /2/instances/NAME/info`: runs OP_INSTANCE_QUERY_DATA; result `[{name: details}]`. */
  info(name: string, opts: JobCallOptions & { static?: boolean } = {}): JobHandle<[Record<string, Record<string, unknown>>]> {
    const { static: st, ...rest } = opts;
    return this.r.submit({
      method: "GET",
      path: path`/2/instances/${name}/info`,
      query: { static: st === undefined ? undefined : st },
      ...rest,
    });
  }

  /** `POST /2/instances/NAME/reboot` (`type` soft|hard|full, default hard). */
  reboot(
    name: string,
    opts: JobCallOptions & { type?: "soft" | "hard" | "full"; ignoreSecondaries?: boolean } = {},
    params: InstanceRebootParams = {},
  ): JobHandle<[null]> {
    const { type, ignoreSecondaries, ...rest } = opts;
    return this.r.submit({
      method: "POST",
      path: path`/2/instances/${name}/reboot`,
      query: { type, ignore_secondaries: ignoreSecondaries },
      body: params,
      ...rest,
    });
  }

  /** `PUT /2/instances/NAME/shutdown`. */
  shutdown(name: string, params: InstanceShutdownParams = {}, opts: JobCallOptions & { noRemember?: boolean } = {}): JobHandle<[null]> {
    const { noRemember, ...rest } = opts;
    return this.r.submit({
      method: "PUT",
      path: path`/2/instances/${name}/shutdown`,
      query: { no_remember: noRemember ? 1 : undefined },
      body: params,
      ...rest,
    });
  }

  /** `PUT /2/instances/NAME/startup` (`force`, `noRemember` go to the query string). */
  startup(name: string, opts: JobCallOptions & { force?: boolean; noRemember?: boolean } = {}): JobHandle<[null]> {
    const { force, noRemember, ...rest } = opts;
    return this.r.submit({
      method: "PUT",
      path: path`/2/instances/${name}/startup`,
      query: { force: force ? 1 : undefined, no_remember: noRemember ? 1 : undefined },
      ...rest,
    });
  }

  /** `POST /2/instances/NAME/reinstall` (v1 body): shutdown + reinstall (+ startup) in one job. */
  reinstall(name: string, params: InstanceReinstallParams = {}, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "POST", path: path`/2/instances/${name}/reinstall`, body: params, ...opts });
  }

  /** `POST /2/instances/NAME/replace-disks` (body form). */
  replaceDisks(name: string, params: InstanceReplaceDisksParams, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "POST", path: path`/2/instances/${name}/replace-disks`, body: params, ...opts });
  }

  /** `PUT /2/instances/NAME/activate-disks`; result `[[node, iv_name, device]...]`. */
  activateDisks(name: string, opts: JobCallOptions & { ignoreSize?: boolean } = {}): JobHandle {
    const { ignoreSize, ...rest } = opts;
    return this.r.submit({
      method: "PUT",
      path: path`/2/instances/${name}/activate-disks`,
      query: { ignore_size: ignoreSize ? 1 : undefined },
      ...rest,
    });
  }

  /** `PUT /2/instances/NAME/deactivate-disks`. */
  deactivateDisks(name: string, opts: JobCallOptions & { force?: boolean } = {}): JobHandle<[null]> {
    const { force, ...rest } = opts;
    return this.r.submit({
      method: "PUT",
      path: path`/2/instances/${name}/deactivate-disks`,
      query: { force: force ? 1 : undefined },
      ...rest,
    });
  }

  /** `POST /2/instances/NAME/recreate-disks`. */
  recreateDisks(name: string, params: InstanceRecreateDisksParams = {}, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "POST", path: path`/2/instances/${name}/recreate-disks`, body: params, ...opts });
  }

  /** `POST /2/instances/NAME/disk/IDX/grow`. */
  growDisk(name: string, disk: number, params: InstanceGrowDiskParams, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "POST", path: path`/2/instances/${name}/disk/${disk}/grow`, body: params, ...opts });
  }

  /** `PUT /2/instances/NAME/prepare-export?mode=local|remote`. */
  prepareExport(name: string, mode: "local" | "remote", opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "PUT", path: path`/2/instances/${name}/prepare-export`, query: { mode }, ...opts });
  }

  /** `PUT /2/instances/NAME/export`. */
  export(name: string, params: InstanceExportParams, opts?: JobCallOptions): JobHandle {
    return this.r.submit({ method: "PUT", path: path`/2/instances/${name}/export`, body: params, ...opts });
  }

  /** `PUT /2/instances/NAME/migrate`. */
  migrate(name: string, params: InstanceMigrateParams = {}, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "PUT", path: path`/2/instances/${name}/migrate`, body: params, ...opts });
  }

  /** `PUT /2/instances/NAME/failover`. */
  failover(name: string, params: InstanceFailoverParams = {}, opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "PUT", path: path`/2/instances/${name}/failover`, body: params, ...opts });
  }

  /** `PUT /2/instances/NAME/rename`; result `[new_name]`. */
  rename(name: string, newName: string, params: InstanceRenameParams = {}, opts?: JobCallOptions): JobHandle<[string]> {
    return this.r.submit({
      method: "PUT",
      path: path`/2/instances/${name}/rename`,
      body: { new_name: newName, ...params },
      ...opts,
    });
  }

  /** `PUT /2/instances/NAME/modify`; result `[[[param, value], ...]]`. */
  modify(name: string, params: InstanceModifyParams, opts?: JobCallOptions): JobHandle<[ChangeList]> {
    return this.r.submit({ method: "PUT", path: path`/2/instances/${name}/modify`, body: params, ...opts });
  }

  /** `GET /2/instances/NAME/console` (needs read access). */
  console(name: string, opts?: CallOptions): Promise<InstanceConsole> {
    return this.r.call(InstanceConsoleSchema, {
      method: "GET",
      path: path`/2/instances/${name}/console`,
      ...callOpts(opts),
    });
  }
}
