// run_oob: run an out-of-band program (Ganeti's backend.RunOob). Called on
// the master node: the program reaches the target machine's management
// controller itself (IPMI, a PDU, ...).
import { execFile } from "node:child_process";
import { NodeBackendError } from "./errors.js";
import type { HandlerSlice } from "./handlers.js";

function runProgram(program: string, args: string[], timeoutSec: number): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      program,
      args,
      { timeout: timeoutSec * 1000, maxBuffer: 4 << 20, env: { ...process.env, LC_ALL: "C" } },
      (err, stdout, stderr) => {
        if (!err) return resolve(stdout);
        const e = err as NodeJS.ErrnoException & { killed?: boolean; signal?: string | null; code?: number | string };
        const reason = e.killed
          ? `timeout after ${timeoutSec} seconds`
          : typeof e.code === "number"
            ? `exited with exit code ${e.code}`
            : e.signal
              ? `terminated by signal ${e.signal}`
              : e.message;
        reject(
          new NodeBackendError(`'${[program, ...args].join(" ")}' failed with reason '${reason}'; output: ${stdout}${stderr}`, {
            cause: err,
          }),
        );
      },
    );
  });
}

export function oobHandlers(): HandlerSlice<"run_oob"> {
  return {
    run_oob: async (a) => {
      const out = await runProgram(a.oob_program, [a.command, a.node], a.timeout);
      if (out.trim() === "") return null;
      try {
        return JSON.parse(out) as unknown;
      } catch (err) {
        throw new NodeBackendError(`Out-of-band program '${a.oob_program}' returned invalid JSON: ${out.slice(0, 200)}`, { cause: err });
      }
    },
  };
}
