import {
  QueryFieldsResultSchema,
  QueryResultSchema,
  type QueryFieldDefinition,
  type QueryFieldsResult,
  type QueryResult,
} from "@ganeti-ts/schema";
import type { CallOptions } from "../core/request.js";
import { seg } from "../core/path.js";
import type { FieldOf, Filter, QueryResourceName } from "../core/qlang.js";
import { Resource, callOpts } from "./base.js";

/** One row as an object; values whose status is not 0 (no data, offline...) are null. */
export type QueryRow<F extends string> = { [K in F]: unknown };

/** Turn a raw query result into objects keyed by field name. */
export function queryRows<F extends string>(result: QueryResult, fields: readonly F[]): QueryRow<F>[] {
  return result.data.map((row) => {
    const o = {} as QueryRow<F>;
    fields.forEach((f, i) => {
      const cell = row[i];
      (o as Record<string, unknown>)[f] = cell && cell[0] === 0 ? cell[1] : null;
    });
    return o;
  });
}

/** `client.query`: /2/query/RES (needs read access). */
export class Query extends Resource {
  /** `PUT /2/query/RES` with fields and a qlang filter (sent as `qfilter` and `filter`, like Ganeti's client). */
  run<R extends QueryResourceName>(
    resource: R,
    fields: readonly FieldOf<R>[],
    filter: Filter | null = null,
    opts?: CallOptions,
  ): Promise<QueryResult> {
    const body: Record<string, unknown> = { fields };
    if (filter !== null) {
      body.qfilter = filter;
      body.filter = filter;
    }
    return this.r.call(QueryResultSchema, {
      method: "PUT",
      path: `/2/query/${seg(resource)}`,
      body,
      // Not retried: Ganeti answers a malformed filter with 502, so a retry
      // would only repeat the failure (retries are for GETs).
      ...callOpts(opts),
    });
  }

  /** `GET /2/query/RES?fields=a,b` (no filter). */
  get<R extends QueryResourceName>(resource: R, fields: readonly FieldOf<R>[], opts?: CallOptions): Promise<QueryResult> {
    return this.r.call(QueryResultSchema, {
      method: "GET",
      path: `/2/query/${seg(resource)}`,
      query: { fields: fields.join(",") },
      ...callOpts(opts),
    });
  }

  /** `GET /2/query/RES/fields[?fields=a,b]`: field definitions (name, title, kind, doc). */
  fields<R extends QueryResourceName>(resource: R, fields?: readonly FieldOf<R>[], opts?: CallOptions): Promise<QueryFieldsResult> {
    return this.r.call(QueryFieldsResultSchema, {
      method: "GET",
      path: `/2/query/${seg(resource)}/fields`,
      query: { fields: fields?.length ? fields.join(",") : undefined },
      ...callOpts(opts),
    });
  }

  /** Start a typed query: `client.query.from("instance").select("name", "status").where(q.eq(...)).rows()`. */
  from<R extends QueryResourceName>(resource: R): QueryBuilder<R, never> {
    return new QueryBuilder(this, resource, [], null);
  }
}

export class QueryBuilder<R extends QueryResourceName, F extends string> {
  constructor(
    private readonly api: Query,
    readonly resource: R,
    readonly fieldNames: readonly F[],
    readonly filter: Filter | null,
  ) {}

  select<G extends FieldOf<R>>(...fields: G[]): QueryBuilder<R, F | G> {
    return new QueryBuilder<R, F | G>(this.api, this.resource, [...this.fieldNames, ...fields], this.filter);
  }

  /** Set the filter (combined with AND if one is already set). */
  where(filter: Filter): QueryBuilder<R, F> {
    const f: Filter = this.filter ? ["&", this.filter, filter] : filter;
    return new QueryBuilder(this.api, this.resource, this.fieldNames, f);
  }

  /** The request body this builder sends. */
  toJSON(): { fields: readonly F[]; qfilter: Filter | null } {
    return { fields: this.fieldNames, qfilter: this.filter };
  }

  /** Raw result (fields definitions + `[status, value]` cells). */
  raw(opts?: CallOptions): Promise<QueryResult> {
    if (this.fieldNames.length === 0) throw new TypeError("select() at least one field");
    return this.api.run(this.resource, this.fieldNames, this.filter, opts);
  }

  /** Rows as objects keyed by field name. */
  async rows(opts?: CallOptions): Promise<QueryRow<F>[]> {
    return queryRows(await this.raw(opts), this.fieldNames);
  }

  /** Field definitions of the selected fields, in order. */
  async definitions(opts?: CallOptions): Promise<QueryFieldDefinition[]> {
    return (await this.raw(opts)).fields;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<QueryRow<F>> {
    yield* await this.rows();
  }
}
