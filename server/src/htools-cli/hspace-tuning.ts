// V8 tuning for hspace, applied when the module loads (the CLI imports it
// first).  A one-off hspace run spends a large part of its CPU in TurboFan
// (m50: ~0.3 s of ~0.85 s), compiling and recompiling the allocation
// search's functions.  Three flags make that cheaper (measured one after the
// other, in CPU time of whole runs; s20 with capacity checks, a 22 s run, is
// within its noise):
//  * inlining only callees of at most 100 bytes of bytecode (V8's default:
//    460) makes the compiles smaller: 6-13% less on m50, s20, m200 -l 50;
//  * an interrupt budget of 300 KB (default ~132 KB: the bytecode a function
//    runs before it is optimised) leaves the functions that run briefly to
//    the baseline compiler: another 7-10% on m50, s20, m200 -l 50 and
//    l1000 -l 50 (hail and hbal use 1 MB, v8-tuning.ts; hspace measured
//    slower with that);
//  * no loop peeling (TurboFan copies a loop's first iteration out of the
//    loop: more code to optimise and compile): 4-13% less on m50, m200
//    -l 50, s20 and s20f; neutral on s20 with capacity checks (23 s).
// Only how fast the code runs changes, never what it computes.
import { v8Flags } from "./v8-flags.js";

v8Flags(["--max-inlined-bytecode-size=100", "--interrupt-budget=300000", "--no-turbo-loop-peeling"]);
