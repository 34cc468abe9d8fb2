// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";
import { LUClusterQuery } from "./query.js";
import { LUClusterRedistConf } from "./redist-conf.js";
import { LUClusterSetParams } from "./set-params.js";
import { LUClusterRepairDiskSizes } from "./repair-disk-sizes.js";
import { LUClusterVerify, LUClusterVerifyDisks } from "./verify/verify.js";
import { LUClusterVerifyConfig } from "./verify/verify-config.js";
import { LUClusterVerifyGroup } from "./verify/verify-group.js";

export const CLUSTER_LUS: LuTable = {
  OP_CLUSTER_QUERY: LUClusterQuery,
  OP_CLUSTER_REDIST_CONF: LUClusterRedistConf,
  OP_CLUSTER_SET_PARAMS: LUClusterSetParams,
  OP_CLUSTER_REPAIR_DISK_SIZES: LUClusterRepairDiskSizes,
  OP_CLUSTER_VERIFY: LUClusterVerify,
  OP_CLUSTER_VERIFY_CONFIG: LUClusterVerifyConfig,
  OP_CLUSTER_VERIFY_DISKS: LUClusterVerifyDisks,
  OP_CLUSTER_VERIFY_GROUP: LUClusterVerifyGroup,
};
