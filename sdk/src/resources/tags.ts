import { TagListSchema } from "@ganeti-ts/schema";
import type { CallOptions, JobCallOptions } from "../core/request.js";
import type { JobHandle } from "../core/job-handle.js";
import { seg } from "../core/path.js";
import { Resource, callOpts } from "./base.js";

/** Tag kinds as Ganeti names them (OP_TAGS_* `kind`). */
export type TagKind = "cluster" | "node" | "nodegroup" | "network" | "instance";

const PREFIX: Record<Exclude<TagKind, "cluster">, string> = {
  node: "/2/nodes/",
  nodegroup: "/2/groups/",
  network: "/2/networks/",
  instance: "/2/instances/",
};

function tagsPath(kind: TagKind, name?: string): string {
  if (kind === "cluster") return "/2/tags";
  if (name === undefined) throw new TypeError(`tags of a ${kind} need its name`);
  return `${PREFIX[kind]}${seg(name)}/tags`;
}

/**
 * `client.tags`: tags of the cluster and of nodes, groups, networks and
 * instances. Tags travel in the query string (`?tag=a&tag=b`).
 */
export class Tags extends Resource {
  /** `GET .../tags`. */
  list(kind: TagKind, name?: string, opts?: CallOptions): Promise<string[]> {
    return this.r.call(TagListSchema, { method: "GET", path: tagsPath(kind, name), ...callOpts(opts) });
  }

  /** `PUT .../tags?tag=...` (OP_TAGS_SET). */
  add(kind: TagKind, name: string | undefined, tags: string[], opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "PUT", path: tagsPath(kind, name), query: { tag: tags }, ...opts });
  }

  /** `DELETE .../tags?tag=...` (OP_TAGS_DEL; fails in the job for a tag not set). */
  remove(kind: TagKind, name: string | undefined, tags: string[], opts?: JobCallOptions): JobHandle<[null]> {
    return this.r.submit({ method: "DELETE", path: tagsPath(kind, name), query: { tag: tags }, ...opts });
  }
}
