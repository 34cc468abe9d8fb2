// Every opcode's logical unit. Each domain folder exports its own table.
import type { LogicalUnitClass } from "./base.js";
import { INSTANCE_LUS } from "./instance/index.js";
import { BACKUP_LUS } from "./backup/index.js";
import { NODE_LUS } from "./node/index.js";
import { GROUP_LUS } from "./group/index.js";
import { NETWORK_LUS } from "./network/index.js";
import { CLUSTER_LUS } from "./cluster/index.js";
import { MISC_LUS } from "./misc/index.js";

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each LU takes its own opcode type
export type LuTable = Record<string, LogicalUnitClass<any>>;

export const LU_REGISTRY: LuTable = {
  ...INSTANCE_LUS,
  ...BACKUP_LUS,
  ...NODE_LUS,
  ...GROUP_LUS,
  ...NETWORK_LUS,
  ...CLUSTER_LUS,
  ...MISC_LUS,
};
