// Opcode schemas (one file per domain), the registry (OpcodeSchema union,
// OPCODES table) and Ganeti-compatible parameter validation.
export * from "./params.js";
export * from "./results.js";
export * from "./backup.js";
export * from "./cluster.js";
export * from "./group.js";
export * from "./instance.js";
export * from "./network.js";
export * from "./node.js";
export * from "./os.js";
export * from "./query.js";
export * from "./tags.js";
export * from "./test.js";
export * from "./verify.js";
export * from "./oob.js";
export * from "./registry.js";
export * from "./validate.js";
