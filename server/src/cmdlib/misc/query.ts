// OP_QUERY / OP_QUERY_FIELDS: the generic query (query2) run inside a job,
// through the same engine as RAPI's /2/query (server/src/config/query).
import type { OpQuery, OpQueryFields } from "@ganeti-ts/schema";
import { LiveDataCache, QueryEngine, QueryParameterError, QueryParseError } from "../../config/query/index.js";
import { OpPrereqError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";

function engine(lu: LogicalUnit<unknown>): QueryEngine {
  return new QueryEngine({ config: lu.ctx.config, live: new LiveDataCache(lu.ctx.rpc), jobs: null });
}

/** Bad filters, unknown filter fields, unsupported resources: the caller's fault (wrong_input). */
async function asPrereq<T>(fn: () => Promise<T> | T): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof QueryParseError || err instanceof QueryParameterError)
      throw new OpPrereqError(err.message, "wrong_input", { cause: err });
    throw err;
  }
}

export class LUQuery extends LogicalUnit<OpQuery> {
  expandNames(): LockDecl {
    return {};
  }
  checkPrereq(): void {}
  async exec(): Promise<unknown> {
    return asPrereq(() => engine(this as LogicalUnit<unknown>).query(this.op.what, this.op.fields, this.op.qfilter));
  }
}

export class LUQueryFields extends LogicalUnit<OpQueryFields> {
  expandNames(): LockDecl {
    return {};
  }
  checkPrereq(): void {}
  async exec(): Promise<unknown> {
    return asPrereq(() => engine(this as LogicalUnit<unknown>).fields(this.op.what, this.op.fields));
  }
}
