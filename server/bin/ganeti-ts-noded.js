#!/usr/bin/env node
// Launcher: run the TypeScript sources through tsx (no build step).
import { register } from "tsx/esm/api";
register();
await import("../src/bin/ganeti-ts-noded.ts");
