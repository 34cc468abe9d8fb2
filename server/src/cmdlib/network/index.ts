// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";
import { LUNetworkAdd } from "./add.js";
import { LUNetworkConnect } from "./connect.js";
import { LUNetworkDisconnect } from "./disconnect.js";
import { LUNetworkRemove } from "./remove.js";
import { LUNetworkSetParams } from "./set-params.js";

export const NETWORK_LUS: LuTable = {
  OP_NETWORK_ADD: LUNetworkAdd,
  OP_NETWORK_REMOVE: LUNetworkRemove,
  OP_NETWORK_SET_PARAMS: LUNetworkSetParams,
  OP_NETWORK_CONNECT: LUNetworkConnect,
  OP_NETWORK_DISCONNECT: LUNetworkDisconnect,
};
