#!/usr/bin/env node
// Launcher: run the TypeScript CLI through tsx (no build step).
import { register } from "tsx/esm/api";
register();
await import("../src/htools-cli/hcheck.ts");
