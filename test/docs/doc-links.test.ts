// The repository stands on its own: comments (in .ts/.js/.mjs/.sh/.py files)
// and docs (README.md, docs/**/*.md) cite only files of the repository.
// Flagged: absolute paths into the machine's shared folders, and a file name
// with a path or an extension (.md, .ts, .sh, ...) that exists nowhere in the
// repository. Upstream Ganeti sources (lib/*.py, src/Ganeti/*.hs) are named
// as Ganeti's, not as our files, and are allowed.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";
import { describe, expect, it } from "vitest";

const REPO = fileURLToPath(new URL("../..", import.meta.url));
const tracked = execFileSync("git", ["ls-files", "--cached", "--others", "--exclude-standard"], { cwd: REPO, encoding: "utf8" })
  .split("\n")
  .filter(Boolean);
const files = new Set(tracked);
const dirs = new Set(
  tracked.flatMap((f) =>
    f
      .split("/")
      .slice(0, -1)
      .map((_, i, a) => a.slice(0, i + 1).join("/")),
  ),
);
const basenames = new Set(tracked.map((f) => path.basename(f)));

/** Comments of a source file (TypeScript's scanner for JS/TS, `#` lines otherwise). */
export function commentsOf(file: string, text: string): string[] {
  if (/\.(ts|js|mjs|cjs)$/.test(file)) {
    const scanner = ts.createScanner(ts.ScriptTarget.Latest, false, ts.LanguageVariant.Standard, text);
    const out: string[] = [];
    for (let k = scanner.scan(); k !== ts.SyntaxKind.EndOfFileToken; k = scanner.scan()) {
      if (k === ts.SyntaxKind.SingleLineCommentTrivia || k === ts.SyntaxKind.MultiLineCommentTrivia) out.push(scanner.getTokenText());
      // Template literals need the rescan to get past `${...}` correctly.
      if (k === ts.SyntaxKind.CloseBraceToken) scanner.reScanTemplateToken(false);
    }
    return out;
  }
  return text
    .split("\n")
    .map((l) => /(?:^|\s)#(?!!)(.*)$/.exec(l)?.[1])
    .filter((c): c is string => c !== undefined);
}

// Machine paths, and the design notes that used to live outside (cited with or without ".md").
const OUTSIDE =
  /\/work\/|(?<![\w.-])shared\/(?:docs|oracle|bench)\b|\b(?:rapi-reference|htools-spec|virtualization-env)\b|\b(?:opcodes|style|design)(?:\.md)? §/;
const CITED = /(?<![\w./$-])((?:[\w.-]+\/)*[\w-]+(?:\.[\w-]+)*\.(?:md|ts|js|mjs|cjs|sh|json|py))\b/g;
const UPSTREAM = /^(?:lib|src\/Ganeti|tools|daemons|qa|test\/hs)\/|\.(?:py|hs)$|^offline-test\.sh$/;

const WORKSPACES = ["schema", "sdk", "server", "cli", "provider"];

/** Cited file names in `text` (from `file`) that are not in the repository. */
export function strayCitations(file: string, text: string): string[] {
  const bad: string[] = [];
  if (OUTSIDE.test(text)) bad.push(OUTSIDE.exec(text)![0]);
  for (const m of text.matchAll(CITED)) {
    const cited = m[1]!;
    if (UPSTREAM.test(cited)) continue;
    // Globs, placeholders (runtime/NAME.json), build output (dist/).
    if (cited.includes("*") || /(?:^|\/)[A-Z_]+(?:[./]|$)|(?:^|\/)dist\//.test(cited)) continue;
    // A user's own file (request.json, cluster.data): a bare data file name.
    if (!cited.includes("/") && /\.json$/.test(cited)) continue;
    // `@ganeti-ts/server/htools/index.ts` is server/src/htools/index.ts.
    const ws = /^ganeti-ts\/(\w+)\/(.*)$/.exec(cited);
    const ancestors = path
      .dirname(file)
      .split("/")
      .map((_, i, a) => a.slice(0, i + 1).join("/"));
    const candidates = [
      cited,
      ...ancestors.map((d) => path.join(d, cited)),
      path.join("docs", cited),
      ...WORKSPACES.map((w) => `${w}/src/${cited}`),
      ...(ws ? [`${ws[1]}/src/${ws[2]}`] : []),
    ].map((c) => path.normalize(c));
    if (candidates.some((c) => files.has(c) || dirs.has(c))) continue;
    // A bare file name (no folder) may name any file of the repository, or a generated one.
    if (!cited.includes("/") && basenames.has(cited)) continue;
    bad.push(cited);
  }
  return bad;
}

/** Names that are not repository files by design: generated, installed or per-machine. */
const NOT_FILES = new Set([
  "Node.js",
  "package.json",
  "tsconfig.json",
  "noded.json",
  "master.json",
  "master.runtime.json",
  "node.runtime.json",
  "noded-address.json",
  "config.json",
  "demo.env",
  "store.js", // docs/dev/team-rules.md: an example of an import path
]);

describe("comments and docs cite only files of the repository", () => {
  const docs = tracked.filter((f) => f === "README.md" || (f.startsWith("docs/") && f.endsWith(".md")));
  const sources = tracked.filter(
    (f) => /\.(ts|js|mjs|cjs|sh|py)$/.test(f) && !f.includes("/generated/") && f !== "test/docs/doc-links.test.ts",
  );

  it("finds the files", () => {
    expect(docs.length).toBeGreaterThan(5);
    expect(sources.length).toBeGreaterThan(300);
  });

  it("docs", () => {
    const bad = docs.flatMap((f) =>
      strayCitations(f, readFileSync(path.join(REPO, f), "utf8"))
        .filter((c) => !NOT_FILES.has(path.basename(c)))
        .map((c) => `${f}: ${c}`),
    );
    expect(bad).toEqual([]);
  });

  it("comments", () => {
    const bad = sources.flatMap((f) =>
      commentsOf(f, readFileSync(path.join(REPO, f), "utf8"))
        .flatMap((c) => strayCitations(f, c))
        .filter((c) => !NOT_FILES.has(path.basename(c)))
        .map((c) => `${f}: ${c}`),
    );
    expect(bad).toEqual([]);
  });

  it("catches a citation of a design note outside the repository", () => {
    expect(strayCitations("server/src/x.ts", "// see htools-spec.md §3")).toContain("htools-spec.md");
    expect(strayCitations("server/src/x.ts", "// the oracle in /work/shared/oracle")).toHaveLength(1);
    expect(strayCitations("server/src/x.ts", "// Authentication (rapi-reference §2.2)")).toHaveLength(1);
    expect(strayCitations("server/src/x.ts", "// style §6")).toHaveLength(1);
    expect(strayCitations("server/src/htools/x.ts", "// docs/htools-internals.md, Moves")).toEqual([]);
    expect(commentsOf("a.ts", 'const s = "not/a/comment.md"; // a/comment.md\nconst t = `${s}/x.md`; /* b.md */')).toEqual([
      "// a/comment.md",
      "/* b.md */",
    ]);
  });
});
