// V8 tuning for one-shot runs, applied when the CLI module loads (import it
// first).  V8 optimises a function with TurboFan once it has used up an
// "interrupt budget" of bytecode; the default (~132 KB) makes hail compile
// dozens of functions that run for a few milliseconds only, and the compiles
// cost more CPU than they save (l1000 hail: ~0.1 s of 0.45 s).  A larger
// budget still optimises the loops that run long (capacity checks,
// evacuations).  Only how fast the code runs changes, never what it computes.
import { setFlagsFromString } from "node:v8";

const INTERRUPT_BUDGET = 1024 * 1024;

setFlagsFromString(`--interrupt-budget=${INTERRUPT_BUDGET}`);

/**
 * For hail only (a one-off run of ~0.1 s on large clusters): no incremental
 * marking.  V8's first old-generation limit is small (~18 MB), so
 * incremental marking starts near the end of an l1000 request and finishes
 * with a mark-compact (~8 ms of ~170 ms) that frees nothing the run still
 * needs; without it V8 collects the old generation only on reaching its
 * limit, with one atomic mark-compact.  Measured neutral on hail's long runs
 * (capacity checks, evacuations).  Read by V8 when a collection is
 * considered, so setting it at run time takes effect.
 */
export function oneShotGc(): void {
  setFlagsFromString("--no-incremental-marking");
}
