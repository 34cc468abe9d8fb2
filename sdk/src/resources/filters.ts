import { z } from "zod";
import { FilterInfoSchema, FilterListItemSchema, type FilterInfo, type FilterListItem } from "@ganeti-ts/schema";
import type { CallOptions } from "../core/request.js";
import { path } from "../core/path.js";
import { Resource, callOpts } from "./base.js";
import type { FilterRuleParams } from "./params.js";

/** `client.filters`: job filter rules (/2/filters). These calls are synchronous, not jobs. */
export class Filters extends Resource {
  list(opts: CallOptions & { bulk: true }): Promise<FilterInfo[]>;
  list(opts?: CallOptions & { bulk?: false }): Promise<FilterListItem[]>;
  list(opts: CallOptions & { bulk?: boolean } = {}): Promise<FilterInfo[] | FilterListItem[]> {
    const schema = opts.bulk ? z.array(FilterInfoSchema) : z.array(FilterListItemSchema);
    return this.r.call<FilterInfo[] | FilterListItem[]>(schema, {
      method: "GET",
      path: "/2/filters",
      query: { bulk: opts.bulk ? 1 : undefined },
      ...callOpts(opts),
    });
  }

  get(uuid: string, opts?: CallOptions): Promise<FilterInfo> {
    return this.r.call(FilterInfoSchema, { method: "GET", path: path`/2/filters/${uuid}`, ...callOpts(opts) });
  }

  /** `POST /2/filters` → the new rule's UUID. */
  add(rule: FilterRuleParams, opts?: CallOptions): Promise<string> {
    return this.r.call(z.string(), { method: "POST", path: "/2/filters", body: rule, idempotent: false, ...callOpts(opts) });
  }

  /** `PUT /2/filters/UUID` (creates it if absent) → the UUID. */
  replace(uuid: string, rule: FilterRuleParams, opts?: CallOptions): Promise<string> {
    return this.r.call(z.string(), {
      method: "PUT",
      path: path`/2/filters/${uuid}`,
      body: rule,
      idempotent: false,
      ...callOpts(opts),
    });
  }

  /** `DELETE /2/filters/UUID`. */
  async remove(uuid: string, opts?: CallOptions): Promise<void> {
    await this.r.call(z.null(), { method: "DELETE", path: path`/2/filters/${uuid}`, idempotent: false, ...callOpts(opts) });
  }
}
