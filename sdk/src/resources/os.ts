import { OsListSchema } from "@ganeti-ts/schema";
import type { CallOptions } from "../core/request.js";
import { Resource, callOpts } from "./base.js";

/** `client.os`: GET /2/os. */
export class Os extends Resource {
  /** OS names; `name+variant` for OSes with variants. */
  list(opts?: CallOptions & { reason?: string }): Promise<string[]> {
    return this.r.call(OsListSchema, { method: "GET", path: "/2/os", query: { reason: opts?.reason }, ...callOpts(opts) });
  }
}
