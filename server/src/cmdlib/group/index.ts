// Logical units of this domain, by OP_ID.
import type { LuTable } from "../registry.js";

export const GROUP_LUS: LuTable = {};
