// The IAllocator request files the request-reading tests run on: the small
// synthetic ones of bench/htools/corpus (s20, s20f, m50 and the racked r30, when generated) and Ganeti's
// testsuite's hail-*.json (installed by scripts/ensure-ganeti-testsuite.sh).
import { existsSync, readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const CORPUS = path.join(REPO, "bench/htools/corpus");
const TESTSUITE = "/opt/ganeti-testsuite/usr/share/ganeti/testsuite/test/data/htools";

export function requestFiles(): string[] {
  const out: string[] = [];
  for (const dir of [CORPUS, TESTSUITE])
    if (existsSync(dir))
      for (const f of readdirSync(dir).sort())
        if (/^(s20|s20f|m50|r30)\.req-.*\.json$|^hail-.*\.json$/.test(f)) out.push(path.join(dir, f));
  return out;
}

/**
 * JSON as Ganeti 3.0's serializer writes it (Python's simplejson.dumps with
 * its default separators ", " and ": "; without the final newline).
 */
export function pyDumps(v: unknown): string {
  if (Array.isArray(v)) return "[" + v.map(pyDumps).join(", ") + "]";
  if (typeof v === "object" && v !== null)
    return (
      "{" +
      Object.entries(v)
        .map(([k, x]) => JSON.stringify(k) + ": " + pyDumps(x))
        .join(", ") +
      "}"
    );
  return JSON.stringify(v);
}

/** The instance policy of the generated test requests: specs from 1 to 64 units, the given disk templates. */
export function requestIpolicy(diskTemplates: string[]): object {
  const spec = (m: number) => ({
    "memory-size": 128 * m,
    "cpu-count": m,
    "disk-size": 1024 * m,
    "disk-count": 1,
    "nic-count": 1,
    "spindle-use": 1,
  });
  return {
    std: spec(1),
    minmax: [{ min: spec(1), max: spec(64) }],
    "disk-templates": diskTemplates,
    "vcpu-ratio": 4.0,
    "spindle-ratio": 32.0,
  };
}
