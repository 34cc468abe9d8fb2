// hail exits at once after its answer only when everything written has
// reached the kernel (htools-cli/hail.ts): output still queued for a full
// pipe must not be lost.  Here hail's stderr (-p -v -v -v on 200 nodes:
// ~115 KB, more than a pipe holds) goes to a pipe that is read only after a
// pause, and must come out whole, as it does with a reader that keeps up.
// (A shell pipe: Node's own child stdio are socket pairs, which take it all.)
import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const HAIL = path.join(REPO, "server/bin/hail.js");
// the shared benchmark's cluster generator, as test/htools/differential.int.test.ts uses it
const GEN = process.env.HTOOLS_GEN ?? "/work/shared/bench/htools/gen.py";
const TMP = mkdtempSync(path.join(tmpdir(), "hail-exit-"));
const REQ = path.join(TMP, "c200.req-alloc-drbd.json");
const ARGS = [HAIL, "--no-capacity-checks", "-p", "-v", "-v", "-v", REQ];

beforeAll(() => {
  execFileSync("python3", [GEN, "--nodes", "200", "--instances", "2000", "--seed", "3", "--out", path.join(TMP, "c200")]);
}, 60_000);
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

/** hail with its stderr into a pipe (pipe(2), from the shell) read only after a pause. */
function slowReader(): { code: number | null; err: string } {
  const q = (x: string): string => "'" + x.replace(/'/g, "'\\''") + "'";
  const cmd = `${[process.execPath, ...ARGS].map(q).join(" ")} 2>&1 >/dev/null | (sleep 1; cat)`;
  const r = spawnSync("sh", ["-c", cmd], { encoding: "utf8", maxBuffer: 1 << 26 });
  return { code: r.status, err: r.stdout };
}

describe("hail's early exit", () => {
  it("loses nothing queued for a full pipe", () => {
    const ref = spawnSync(process.execPath, ARGS, { encoding: "utf8", maxBuffer: 1 << 26 });
    expect(ref.status).toBe(0);
    expect(ref.stderr.length).toBeGreaterThan(100_000);
    const slow = slowReader();
    expect(slow.code).toBe(0);
    expect(slow.err).toBe(ref.stderr);
  }, 60_000);
});
