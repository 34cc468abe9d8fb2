// One lint configuration for every workspace: ESLint's and typescript-eslint's
// recommended rules (not the type-checked ones: lint stays fast), and the
// layer rules of the design as import restrictions. Imports flow downward
// only:
//   rapi → jobs → cmdlib → {config, htools, rpc}      (master side)
//   noded → backend → {hypervisors, storage, os}      (node side)
// htools is pure, hypervisors and storage never read the cluster config,
// schema and lib may be imported from anywhere (and import no layer).
import js from "@eslint/js";
import tseslint from "typescript-eslint";

/** Relative imports of these server/src folders (from any depth inside server/src). */
const layers = (...names) => [
  {
    regex: `^(\\.\\./)+(${names.join("|")})(/|$)`,
    message:
      "Imports flow downward only: rapi → jobs → cmdlib → {config, htools, rpc}; noded → backend → {hypervisors, storage, os}; schema and lib from anywhere.",
  },
];

/** A no-restricted-imports rule for files of one layer. */
const forbid = (files, patterns) => ({
  files,
  rules: { "no-restricted-imports": ["error", { patterns }] },
});

const MASTER_TOP = ["master", "htools-cli"];
const NODE_SIDE = ["noded", "hypervisors", "storage", "os"];

export default tseslint.config(
  {
    ignores: [
      "**/node_modules/**",
      "**/dist/**",
      "**/coverage/**",
      ".demo/**",
      "bench/results/**",
      "bench/htools/corpus/**",
      "schema/generated/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "module",
      globals: {
        process: "readonly",
        console: "readonly",
        Buffer: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        setImmediate: "readonly",
        URL: "readonly",
        AbortController: "readonly",
        AbortSignal: "readonly",
        TextEncoder: "readonly",
        TextDecoder: "readonly",
        structuredClone: "readonly",
        fetch: "readonly",
        performance: "readonly",
        queueMicrotask: "readonly",
        globalThis: "readonly",
      },
    },
    rules: {
      // Unused parameters named _x are intentional (interface shapes, callbacks).
      "@typescript-eslint/no-unused-vars": [
        "error",
        { argsIgnorePattern: "^_", varsIgnorePattern: "^_", caughtErrors: "none", ignoreRestSiblings: true },
      ],
      // Validation of names and paths matches control characters on purpose.
      "no-control-regex": "off",
    },
  },
  {
    // Tests and scripts may use any and non-null assertions freely.
    files: ["**/test/**", "test/**", "bench/**", "**/scripts/**"],
    rules: { "@typescript-eslint/no-explicit-any": "off" },
  },

  // ---- layers (server/src) --------------------------------------------------
  forbid(["server/src/lib/**"], layers("rapi", "jobs", "cmdlib", "config", "htools", "rpc", "store", ...MASTER_TOP, ...NODE_SIDE)),
  forbid(["server/src/store/**"], layers("rapi", "jobs", "cmdlib", "config", "htools", "rpc", ...MASTER_TOP, ...NODE_SIDE)),
  forbid(["server/src/htools/**"], layers("rapi", "jobs", "cmdlib", "config", "rpc", "store", ...MASTER_TOP, ...NODE_SIDE)),
  forbid(["server/src/config/**"], layers("rapi", "jobs", "cmdlib", "htools", ...MASTER_TOP, ...NODE_SIDE)),
  forbid(["server/src/rpc/**"], layers("rapi", "jobs", "cmdlib", "htools", "store", ...MASTER_TOP, ...NODE_SIDE)),
  forbid(["server/src/cmdlib/**"], layers("rapi", "jobs", "store", ...MASTER_TOP, ...NODE_SIDE)),
  forbid(["server/src/jobs/**"], layers("rapi", ...MASTER_TOP, ...NODE_SIDE)),
  forbid(["server/src/rapi/**"], layers(...MASTER_TOP, ...NODE_SIDE)),
  forbid(
    ["server/src/hypervisors/**", "server/src/storage/**"],
    layers("config", "noded", "rapi", "jobs", "cmdlib", "htools", "rpc", "store", ...MASTER_TOP),
  ),
  forbid(
    ["server/src/os/**"],
    layers("noded", "hypervisors", "storage", "rapi", "jobs", "cmdlib", "htools", "rpc", "store", ...MASTER_TOP),
  ),
  // rpc/ is the wire protocol of both ends: the node side checks its results with it too.
  forbid(
    ["server/src/noded/backend/**"],
    [
      ...layers("rapi", "jobs", "cmdlib", "htools", "store", ...MASTER_TOP),
      { regex: "^\\.\\./(app|main|cli-entry)(\\.js)?$", message: "The backend sits below the node daemon's server." },
    ],
  ),
  forbid(["server/src/noded/*.ts"], layers("rapi", "jobs", "cmdlib", "htools", "store", ...MASTER_TOP)),
  {
    // The in-process RPC transport hands calls straight to a node backend (tests, harness).
    files: ["server/src/rpc/in-memory-runner.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: layers("rapi", "jobs", "cmdlib", "htools", "store", ...MASTER_TOP, "hypervisors", "storage", "os") },
      ],
    },
  },
  {
    // schema/ is shapes only: no other workspace.
    files: ["schema/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            { regex: "^@ganeti-ts/(server|sdk|cli|pulumi)", message: "schema/ holds shapes only and imports no other workspace." },
          ],
        },
      ],
    },
  },
  {
    // The SDK stays light: no server code.
    files: ["sdk/src/**"],
    rules: {
      "no-restricted-imports": [
        "error",
        { patterns: [{ regex: "^@ganeti-ts/(server|cli|pulumi)", message: "The SDK imports no server code." }] },
      ],
    },
  },
);
