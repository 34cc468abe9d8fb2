#!/usr/bin/env node
// Entry point of the gnt CLI (see cli/bin/gnt.js). Also reached as
// gnt-instance, gnt-node, ... through symlinks named after Ganeti's tools.
import { localControl, localJobRunner, registerLocalCommands } from "./commands/local.js";
import { run } from "./program.js";

const ac = new AbortController();
process.once("SIGINT", () => ac.abort());

// No top-level await: the shipped gnt is this module bundled as CommonJS.
void run(process.argv, {
  io: {
    out: (s) => process.stdout.write(s + "\n"),
    err: (s) => process.stderr.write(s + "\n"),
    isTTY: Boolean(process.stderr.isTTY),
    progressStream: process.stderr,
  },
  env: process.env,
  registerLocal: registerLocalCommands,
  localJobRunner,
  localControl,
  signal: ac.signal,
}).then((code) => {
  process.exitCode = code;
});
