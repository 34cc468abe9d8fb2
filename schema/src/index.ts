export * from "./config/objects.js";
export * from "./rpc/calls.js";
export * from "./errors.js";
export * from "./config/job.js";
export * from "./objects/index.js";
export * from "./opcodes/index.js";
export * from "./common.js";
export * from "./rapi/index.js";
