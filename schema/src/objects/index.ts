// Zod schemas of RAPI v2 response objects (what GET endpoints return). The
// RAPI error body lives in ../errors.ts (RapiErrorBodySchema).
export * from "./common.js";
export * from "./cluster.js";
export * from "./instance.js";
export * from "./node.js";
export * from "./group.js";
export * from "./network.js";
export * from "./job.js";
export * from "./query.js";
export * from "./filter.js";
export * from "./os.js";
