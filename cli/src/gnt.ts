#!/usr/bin/env node
// Entry point of the gnt CLI (see cli/bin/gnt.js). Also reached as
// gnt-instance, gnt-node, ... through symlinks named after Ganeti's tools.
import { createInterface } from "node:readline/promises";
import { localCandidateSync, localControl, localJobRunner, registerLocalCommands } from "./commands/local.js";
import { run } from "./program.js";

const ac = new AbortController();
process.once("SIGINT", () => ac.abort());

/** One line from the terminal, the question on stderr (stdout stays for results). */
async function ask(prompt: string): Promise<string | null> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  // Ctrl-C at the question is a "no".
  const stop = new AbortController();
  rl.on("SIGINT", () => stop.abort());
  try {
    return await rl.question(prompt, { signal: stop.signal });
  } catch {
    return null;
  } finally {
    rl.close();
  }
}

// No top-level await: the shipped gnt is this module bundled as CommonJS.
void run(process.argv, {
  io: {
    out: (s) => process.stdout.write(s + "\n"),
    err: (s) => process.stderr.write(s + "\n"),
    isTTY: Boolean(process.stderr.isTTY),
    progressStream: process.stderr,
    stdinIsTTY: Boolean(process.stdin.isTTY),
    ask,
  },
  env: process.env,
  registerLocal: registerLocalCommands,
  localJobRunner,
  localControl,
  localCandidateSync,
  signal: ac.signal,
}).then((code) => {
  process.exitCode = code;
});
