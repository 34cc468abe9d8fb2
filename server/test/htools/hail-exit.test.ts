// hail exits at once after its answer only when everything written has
// reached the kernel (htools-cli/hail.ts): output still queued for a full
// pipe must not be lost.  Here hail's stderr (-p -v -v -v on m200: ~115 KB,
// more than a pipe holds) goes to a pipe that is read only after a pause,
// and must come out whole, as it does with a reader that keeps up.  (A
// shell pipe: Node's own child stdio are socket pairs, which take it all.)
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const HAIL = path.join(REPO, "server/bin/hail.js");
const REQ = path.join(REPO, "bench/htools/corpus/m200.req-alloc-drbd.json");
const ARGS = [HAIL, "--no-capacity-checks", "-p", "-v", "-v", "-v", REQ];

/** hail with its stderr into a pipe (pipe(2), from the shell) read only after a pause. */
function slowReader(): { code: number | null; err: string } {
  const q = (x: string): string => "'" + x.replace(/'/g, "'\\''") + "'";
  const cmd = `${[process.execPath, ...ARGS].map(q).join(" ")} 2>&1 >/dev/null | (sleep 1; cat)`;
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8", maxBuffer: 1 << 26 });
  return { code: r.status, err: r.stdout };
}

describe.skipIf(!existsSync(REQ))("hail's early exit", () => {
  it("loses nothing queued for a full pipe", () => {
    const ref = spawnSync(process.execPath, ARGS, { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(ref.status).toBe(0);
    expect(ref.stderr.length).toBeGreaterThan(100_000);
    const slow = slowReader();
    expect(slow.code).toBe(0);
    expect(slow.err).toBe(ref.stderr);
  }, 60_000);
});
