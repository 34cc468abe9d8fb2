import { defineConfig } from "vitest/config";

// One runner for every workspace. Integration tests start real daemons, so
// keep concurrency modest on a 2-core machine.
export default defineConfig({
  test: {
    include: ["{schema,sdk,server,cli,provider,test}/**/*.test.ts"],
    exclude: ["**/node_modules/**"],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: "forks",
    // Daemons started by tests log to their data dir's log/ even when the
    // suite itself runs under systemd (where they would log to stdout).
    env: { GANETI_LOG_TARGET: "file" },
    maxWorkers: 2,
  },
});
