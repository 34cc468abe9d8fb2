#!/usr/bin/env node
// Launcher: run the TypeScript sources through tsx (no build step).
// Symlink this file as gnt-instance, gnt-node, ... for Ganeti-style names.
import { register } from "tsx/esm/api";

register();
await import("../src/gnt.ts");
