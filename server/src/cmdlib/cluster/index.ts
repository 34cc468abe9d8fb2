// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";
import { LUClusterQuery } from "./query.js";
import { LUClusterRedistConf } from "./redist-conf.js";
import { LUClusterSetParams } from "./set-params.js";

export const CLUSTER_LUS: LuTable = {
  OP_CLUSTER_QUERY: LUClusterQuery,
  OP_CLUSTER_REDIST_CONF: LUClusterRedistConf,
  OP_CLUSTER_SET_PARAMS: LUClusterSetParams,
};
