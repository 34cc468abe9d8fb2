// Setting V8 flags at run time for the htools CLIs (v8-tuning.ts, hspace-tuning.ts).

/**
 * Sets the V8 flags Node's command line did not give.  The shipped
 * executables give them all (server/scripts/build-htools.mjs; their code
 * cache is valid only for the flags it was written with): loading node:v8
 * would cost each start ~8 ms, since with V8 flags other than the defaults
 * Node compiles its own modules from source.  Under tsx (the TypeScript
 * sources, an ES module: tests and `server/bin`) they are left unset: there
 * node:v8 loads asynchronously, so a flag would change while tsx's code
 * runs and is compiled on other threads, which Node documents as possibly
 * crashing the process (one hspace run under tsx died of a V8 trap on a
 * loaded machine; the cause was not pinned down).  The flags only change
 * how fast the code runs, never what it computes.
 */
export function v8Flags(flags: readonly string[]): void {
  const missing = flags.filter((f) => !process.execArgv.includes(f));
  if (missing.length === 0) return;
  const set = (v8: { setFlagsFromString(f: string): void }): void => {
    for (const f of missing) v8.setFlagsFromString(f);
  };
  // In the CommonJS bundles require is synchronous: the flags are set before any tool code runs.
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  if (typeof require === "function") set(require("node:v8") as typeof import("node:v8"));
}
