// `gnt instance console NAME [--show-cmd]`, after Ganeti's gnt-instance
// console: the RAPI says how to reach the console (GET
// /2/instances/NAME/console); an "ssh" console is a command to run on the
// instance's primary node, run here directly when that node is this machine
// (one of its addresses is the node's primary IP) and over ssh otherwise; a
// VNC or SPICE console is described, a message printed.
import { spawn } from "node:child_process";
import os from "node:os";
import type { GanetiClient } from "@ganeti-ts/sdk";
import { CliError, EXIT } from "../errors.js";

export interface ConsoleInfoLike {
  instance: string;
  kind: string;
  message?: string;
  host?: string;
  port?: number;
  user?: string;
  command?: string[];
  display?: number;
}

/** POSIX shell quoting (Ganeti's utils.ShellQuoteArgs). */
export function shellQuote(args: string[]): string {
  return args.map((a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
}

/** Whether `ip` is an address of this machine (loopback included). */
export function isLocalAddress(ip: string): boolean {
  if (/^127\./.test(ip) || ip === "::1") return true;
  return Object.values(os.networkInterfaces()).some((list) => (list ?? []).some((a) => a.address === ip));
}

/** The command that connects to an ssh-kind console: local argv, or ssh to the node. */
export function consoleCommand(con: ConsoleInfoLike, local: boolean): string[] {
  const cmd = con.command ?? [];
  if (!cmd.length) throw new CliError(`Console of instance ${con.instance} has no command`, EXIT.FAILED);
  if (local) return cmd;
  // Ganeti's SshRunner.BuildCmd(batch, tty): no escape character (the console has its own), a terminal.
  const port = con.port ?? 22;
  return ["ssh", "-oEscapeChar=none", "-oBatchMode=yes", "-t", "-p", String(port), `${con.user ?? "root"}@${con.host}`, shellQuote(cmd)];
}

export async function runConsole(
  client: GanetiClient,
  name: string,
  opts: { showCmd: boolean; print: (line: string) => void },
): Promise<number> {
  const con = (await client.instances.console(name)) as ConsoleInfoLike;
  switch (con.kind) {
    case "msg":
      opts.print(con.message ?? "");
      return 0;
    case "vnc":
      opts.print(
        `Instance ${con.instance} has VNC listening on ${con.host}:${con.port} (display ${con.display}), please use a VNC client to connect`,
      );
      return 0;
    case "spice":
      opts.print(`Instance ${con.instance} has SPICE listening on ${con.host}:${con.port}`);
      return 0;
    case "ssh":
      break;
    default:
      throw new CliError(`Unknown console kind '${con.kind}' for instance ${con.instance}`, EXIT.FAILED);
  }
  let local = false;
  if (con.host) {
    const node = await client.nodes.get(con.host).catch(() => null);
    const pip = (node as { pip?: unknown } | null)?.pip;
    local = typeof pip === "string" && isLocalAddress(pip);
  }
  const argv = consoleCommand(con, local);
  if (opts.showCmd) {
    opts.print(shellQuote(argv));
    return 0;
  }
  const code = await new Promise<number>((resolve, reject) => {
    const child = spawn(argv[0]!, argv.slice(1), { stdio: "inherit" });
    child.once("error", reject);
    child.once("exit", (c, sig) => resolve(sig ? 1 : (c ?? 1)));
  });
  if (code !== 0) throw new CliError(`Connection to console of instance ${con.instance} failed, exit code ${code}`, EXIT.FAILED);
  return 0;
}
