export * from "./types.js";
export * from "./live.js";
export * from "./qlang.js";
export * from "./engine.js";
export * from "./render.js";
export { instanceStatus } from "./instance-fields.js";
