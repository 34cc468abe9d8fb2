// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";
import { LUOsDiagnose } from "./os-diagnose.js";
import { LUQuery, LUQueryFields } from "./query.js";
import { LUTagsDel } from "./tags-del.js";
import { LUTagsGet } from "./tags-get.js";
import { LUTagsSet } from "./tags-set.js";
import { LUTestDelay } from "./test-delay.js";

export const MISC_LUS: LuTable = {
  OP_TAGS_GET: LUTagsGet,
  OP_TAGS_SET: LUTagsSet,
  OP_TAGS_DEL: LUTagsDel,
  OP_TEST_DELAY: LUTestDelay,
  OP_OS_DIAGNOSE: LUOsDiagnose,
  OP_QUERY: LUQuery,
  OP_QUERY_FIELDS: LUQueryFields,
};
