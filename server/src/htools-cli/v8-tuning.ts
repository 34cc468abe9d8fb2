// V8 tuning for one-shot runs, applied when the CLI module loads (import it
// first).  V8 optimises a function with TurboFan once it has used up an
// "interrupt budget" of bytecode; the default (~132 KB) makes hail compile
// dozens of functions that run for a few milliseconds only, and the compiles
// cost more CPU than they save (l1000 hail: ~0.1 s of 0.45 s).  A larger
// budget still optimises the loops that run long (capacity checks,
// evacuations).  Only how fast the code runs changes, never what it computes.
import { setFlagsFromString } from "node:v8";

export const INTERRUPT_BUDGET = 1024 * 1024;

setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);
