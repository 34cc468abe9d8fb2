import { GanetiClient } from "@ganeti-ts/sdk";
import { run } from "../src/program.js";

export interface RunResult {
  code: number;
  out: string;
  err: string;
}

/** Run gnt in-process with captured output; the SDK never sleeps. */
export async function gnt(args: string[], env: NodeJS.ProcessEnv = {}, argv1 = "gnt"): Promise<RunResult> {
  const out: string[] = [];
  const err: string[] = [];
  const code = await run(["node", argv1, ...args], {
    io: { out: (s) => out.push(s), err: (s) => err.push(s), isTTY: false },
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
