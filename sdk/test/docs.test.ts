// Runs every ```ts block of docs/sdk.md: each is written to a module file,
// type-checked with the repo's compiler options, then imported (executed)
// with nock replaying the captures named on its first line
// ("// replay: captures 29 31-38"); "// typecheck-only" blocks are not run.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it, vi } from "vitest";
import { mock, useNock, type CaptureSet } from "./helpers/captures.js";

useNock();

const here = dirname(fileURLToPath(import.meta.url));
const doc = readFileSync(join(here, "../../docs/sdk.md"), "utf8");
const blocks = [...doc.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1] ?? "");
const dir = join(here, ".doc-snippets");
mkdirSync(dir, { recursive: true });
const files = blocks.map((code, i) => {
  const f = join(dir, `block-${i}.ts`);
  // `export {}` keeps each block a module (top-level await, own scope).
  writeFileSync(f, `${code}\nexport {};\n`);
  return f;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function replaySpec(code: string): { set: CaptureSet; seqs: (number | [number, number])[] } | null {
  const m = /^\/\/ replay: (captures(?:-3node)?) ([\d\s-]+)$/m.exec(code);
  if (!m) return null;
  const seqs = (m[2] ?? "")
    .trim()
    .split(/\s+/)
    .map((t) => {
      const [a, b] = t.split("-").map(Number);
      return b === undefined ? a! : ([a!, b] as [number, number]);
    });
  return { set: m[1] as CaptureSet, seqs };
}

describe("docs/sdk.md examples", () => {
  it("has examples", () => {
    expect(blocks.length).toBeGreaterThanOrEqual(6);
  });

  it("type-check", { timeout: 240_000 }, () => {
    const base = ts.parseJsonConfigFileContent(
      ts.readConfigFile(join(here, "../../tsconfig.base.json"), ts.sys.readFile).config,
      ts.sys,
      join(here, "../.."),
    );
    const program = ts.createProgram(files, { ...base.options, noEmit: true });
    const diags = ts.getPreEmitDiagnostics(program).filter((d) => d.file && files.includes(d.file.fileName));
    const text = diags.map((d) => `${d.file?.fileName}: ${ts.flattenDiagnosticMessageText(d.messageText, "\n")}`);
    expect(text).toEqual([]);
  });

  blocks.forEach((code, i) => {
    const spec = replaySpec(code);
    if (!spec) {
      it(`block ${i} is marked typecheck-only`, () => expect(code).toMatch(/^\/\/ typecheck-only/m));
      return;
    }
    it(`block ${i} runs against ${spec.set} ${spec.seqs.join(" ")}`, async () => {
      mock(spec.set, ...spec.seqs);
      const log = vi.spyOn(console, "log").mockImplementation(() => undefined);
      try {
        await import(pathToFileURL(files[i]!).href);
        expect(log).toHaveBeenCalled();
      } finally {
        log.mockRestore();
      }
    });
  });
});
