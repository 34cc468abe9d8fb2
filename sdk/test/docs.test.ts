// Type-checks every ```ts block of docs/sdk.md with the repo's compiler
// options (each written to a module file). The blocks run against a real
// demo cluster in test/docs/docs-run.int.test.ts.
import { mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { afterAll, describe, expect, it } from "vitest";

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

  it("no block hard-codes credentials or skips certificate checks", () => {
    expect(blocks.filter((b) => /password:\s*"|insecure:\s*true/.test(b))).toEqual([]);
  });
});
