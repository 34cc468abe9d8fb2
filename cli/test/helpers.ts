import { GanetiClient } from "@ganeti-ts/sdk";
import { run } from "../src/program.js";
import type { Io } from "../src/output.js";
import type { AdminSocketAccess } from "../src/local-master.js";

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

/** Run gnt in-process with captured output; the SDK never sleeps. */
export interface GntOptions {
  /** A terminal on stdin answering each question in turn (and recording it). */
  answers?: string[];
  asked?: string[];
  adminSocket?: (env: NodeJS.ProcessEnv) => AdminSocketAccess | null;
  /** Register the local verbs (cluster init/destroy, node add/remove). */
  local?: boolean;
}

export async function gnt(args: string[], env: NodeJS.ProcessEnv = {}, argv1 = "gnt", opts: GntOptions = {}): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false };
  if (opts.answers) {
    const answers = [...opts.answers];
    io.stdinIsTTY = true;
    io.ask = async (prompt) => {
      opts.asked?.push(prompt);
      return answers.shift() ?? null;
    };
  }
  const code = await run(["node", argv1, ...args], {
    io,
    ...(opts.adminSocket ? { adminSocket: opts.adminSocket } : {}),
    ...(opts.local ? { registerLocal: (await import("../src/commands/local.js")).registerLocalCommands } : {}),
    env: {
      GANETI_RAPI_URL: "https://127.0.0.1:5080",
      GANETI_RAPI_USER: "admin",
      GANETI_RAPI_PASSWORD: "secret",
      GANETI_RAPI_INSECURE: "1",
      GANETI_TS_CONFIG: "/nonexistent/gnt-test-config.json",
      ...env,
    },
    createClient: (o) => new GanetiClient({ ...o, sleep: async () => undefined, random: () => 0.5 }),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}
