// A console session under a pseudo-terminal (`script`), as a person's shell
// gives one: type a line, wait for its answer, leave with socat's escape.
import { spawn } from "node:child_process";

/** Runs `command` (one shell command line), types `line`, returns all output once the session ends after `answer` appeared. */
export function typeIntoConsole(command: string, line: string, answer: string, env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn("script", ["-qfec", command, "/dev/null"], { env, stdio: ["pipe", "pipe", "pipe"] });
    let text = "";
    let left = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no answer from the guest's shell; got: ${text.slice(-300)}`));
    }, 60_000);
    // The session ends when socat reads the escape, and a write that races
    // that end fails with EPIPE: the end the test asked for, which the exit
    // below reports (with whatever output came).  Any other error fails.
    child.stdin.on("error", (e: NodeJS.ErrnoException) => {
      if (e.code === "EPIPE") return;
      clearTimeout(timer);
      child.kill("SIGKILL");
      reject(e);
    });
    child.stdout.on("data", (d: Buffer) => {
      text += d.toString("latin1");
      if (!left && text.includes(answer)) {
        left = true;
        child.stdin.write("\x1d"); // socat's escape: leave the console
      }
    });
    const typing = setTimeout(() => child.stdin.write(`\n${line}\n`), 1500);
    child.once("exit", () => {
      clearTimeout(timer);
      clearTimeout(typing);
      resolve(text);
    });
  });
}
