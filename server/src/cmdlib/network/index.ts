// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";

export const NETWORK_LUS: LuTable = {};
