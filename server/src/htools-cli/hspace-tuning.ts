// V8 tuning for hspace, applied when the module loads (the CLI imports it
// first).  A one-off hspace run spends a large part of its CPU in TurboFan
// (m50: ~0.35 s of ~0.85 s), compiling and recompiling the allocation
// search's functions with their callees inlined into them.  Inlining only
// callees of at most 100 bytes of bytecode (V8's default: 460) makes those
// compiles smaller; measured 6-13% less CPU on m50, s20 and m200 -l 50, and
// no slower on s20 with capacity checks (a 20 s run).  Only how fast the
// code runs changes, never what it computes.
import { setFlagsFromString } from "node:v8";

setFlagsFromString("--max-inlined-bytecode-size=100");
