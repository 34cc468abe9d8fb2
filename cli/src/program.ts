// The gnt command tree. Remote verbs go through the SDK; `cluster init`,
// `cluster destroy`, `node add` and `daemon` are added by the local-commands
// hook (commands/local.ts, another workspace's code path).
import { basename } from "node:path";
import { type Command, CommanderError, Option } from "commander";
import { GanetiClient, type GanetiClientOptions } from "@ganeti-ts/sdk";
import { clientOptions, resolveConnection, type ConnectionFlags } from "./config.js";
import { CliError, describeError, EXIT, ExitStatus, type ErrorContext } from "./errors.js";
import { localAdminSocket, localRapiUrl, type AdminSocketAccess } from "./local-master.js";
import { GntCommand } from "./suggest.js";
import type { Io } from "./output.js";
import type { Ctx } from "./commands/common.js";
import { rapiJobRunner, type JobRunner } from "./job-runner.js";
import { registerHealthCommands, registerOobCommands } from "./commands/health.js";
import { registerEpoCommand } from "./commands/epo.js";
import { registerClusterCommands } from "./commands/cluster.js";
import { registerFilterCommands } from "./commands/filter.js";
import { registerGroupCommands } from "./commands/group.js";
import { registerInstanceCommands } from "./commands/instance.js";
import { registerJobCommands } from "./commands/job.js";
import { registerNetworkCommands } from "./commands/network.js";
import { registerNodeCommands } from "./commands/node.js";
import { registerOsCommands } from "./commands/os.js";

interface LocalHooks {
  program: Command;
  cluster: Command;
  node: Command;
  io?: Io;
}

export interface ProgramDeps {
  io: Io;
  env: NodeJS.ProcessEnv;
  /** commands/local.ts's registerLocalCommands. */
  registerLocal?: (hooks: LocalHooks) => void;
  /** Build the SDK client (tests inject sleep/clock here). */
  createClient?: (o: GanetiClientOptions) => GanetiClient;
  /** The master's control-socket job runner when on the master (commands/local.ts), else null. */
  localJobRunner?: (env: NodeJS.ProcessEnv) => JobRunner | null;
  /** The master's control socket when on the master (commands/local.ts), else null. */
  localControl?: (env: NodeJS.ProcessEnv) => ((method: string, args: unknown[]) => Promise<unknown>) | null;
  /**
   * After a job that may change the master candidates: bring the etcd
   * members the candidates run (commands/local.ts) in line, when this
   * machine holds such a cluster's data dirs; else null.
   */
  localCandidateSync?: (env: NodeJS.ProcessEnv) => ((print: (line: string) => void) => Promise<void>) | null;
  signal?: AbortSignal;
  /** The local master's admin socket (tests inject one); default: found from $GANETI_DATA_DIR and the default data dirs. */
  adminSocket?: (env: NodeJS.ProcessEnv) => AdminSocketAccess | null;
}

/** `gnt-instance` (and friends) are aliases of `gnt instance`. */
const ALIASES: Record<string, string> = {
  "gnt-instance": "instance",
  "gnt-node": "node",
  "gnt-group": "group",
  "gnt-network": "network",
  "gnt-job": "job",
  "gnt-cluster": "cluster",
  "gnt-os": "os",
  "gnt-filter": "filter",
};

/** Rewrite argv for alias invocations: `gnt-instance list` → `gnt instance list`. */
function expandAlias(argv: string[]): string[] {
  const name = basename(argv[1] ?? "").replace(/\.(js|ts|mjs)$/, "");
  const noun = ALIASES[name];
  return noun ? [argv[0] ?? "node", argv[1] ?? "gnt", noun, ...argv.slice(2)] : argv;
}

export function buildProgram(deps: ProgramDeps): LocalHooks & { ctx: Ctx; errorContext: ErrorContext } {
  const program = new GntCommand("gnt");
  program
    .description("Manage a Ganeti (RAPI v2) cluster: instances, nodes, groups, networks, jobs")
    .version("0.1.0")
    .option("--url <url>", "RAPI base URL (env GANETI_RAPI_URL; default https://127.0.0.1:5080)")
    .option("--user <name>", "RAPI user (env GANETI_RAPI_USER)")
    .option("--password <password>", "RAPI password (env GANETI_RAPI_PASSWORD)")
    .option("--ca <file>", "CA file for the server certificate (env GANETI_RAPI_CA)")
    .option("--fingerprint <sha256>", "pinned server certificate fingerprint (env GANETI_RAPI_FINGERPRINT)")
    .option("--insecure", "do not verify the server certificate (env GANETI_RAPI_INSECURE=1)")
    .option("--timeout <seconds>", "per-request timeout")
    .option("--config <file>", "config file (default ~/.config/ganeti-ts/config.json)")
    .addOption(new Option("--output <format>", "output format").choices(["table", "json"]).default("table"))
    .showHelpAfterError("(run with --help for usage)")
    .exitOverride()
    .configureOutput({
      writeOut: (s) => deps.io.out(s.replace(/\n$/, "")),
      writeErr: (s) => deps.io.err(s.replace(/\n$/, "")),
    });

  let client: GanetiClient | undefined;
  const errorContext: ErrorContext = {};
  const ctx: Ctx = {
    io: deps.io,
    json: () => program.opts<{ output: string }>().output === "json",
    client: () => {
      if (!client) {
        const conn = resolveConnection(program.opts<ConnectionFlags>(), deps.env);
        // No URL named anywhere: on the master, root talks to its admin socket (no credentials needed).
        const admin = conn.sources.url === "default" ? (deps.adminSocket ?? localAdminSocket)(deps.env) : null;
        let o: GanetiClientOptions;
        if (admin?.usable) {
          o = { baseUrl: "http://localhost", socketPath: admin.socket, userAgent: "ganeti-ts-gnt" };
          if (conn.timeoutMs !== undefined) o.timeoutMs = conn.timeoutMs;
          errorContext.socket = admin.socket;
        } else {
          if (admin && conn.user === undefined) {
            throw new CliError(
              `It seems you don't have permissions to connect to the master's local socket ${admin.socket} (${admin.why}): ` +
                `only root, its owner, may use it. Retry as root, or give RAPI credentials ` +
                `(--user/--password or GANETI_RAPI_USER/GANETI_RAPI_PASSWORD).`,
              EXIT.FAILED,
            );
          }
          const local = conn.sources.url === "default" ? localRapiUrl(deps.env) : null;
          if (local) {
            conn.url = local.url;
            if (local.ca && conn.ca === undefined && conn.fingerprint === undefined && !conn.insecure) conn.ca = local.ca;
          }
          o = clientOptions(conn);
          errorContext.url = o.baseUrl;
          if (o.caFile !== undefined) errorContext.ca = o.caFile;
        }
        client = deps.createClient ? deps.createClient(o) : new GanetiClient(o);
      }
      return client;
    },
    jobs: () => {
      const local = program.opts<ConnectionFlags>().url === undefined ? deps.localJobRunner?.(deps.env) : null;
      return local ?? rapiJobRunner(() => ctx.client());
    },
    masterControl: () => deps.localControl?.(deps.env) ?? null,
    syncCandidates: async () => {
      if (program.opts<ConnectionFlags>().url !== undefined) return;
      await deps.localCandidateSync?.(deps.env)?.((line) => deps.io.out(line));
    },
    ...(deps.signal ? { signal: deps.signal } : {}),
  };

  registerInstanceCommands(program, ctx);
  const node = registerNodeCommands(program, ctx);
  registerGroupCommands(program, ctx);
  registerNetworkCommands(program, ctx);
  registerJobCommands(program, ctx);
  const cluster = registerClusterCommands(program, ctx);
  registerHealthCommands(program, cluster, ctx);
  registerEpoCommand(cluster, ctx);
  registerOobCommands(node, ctx);
  registerOsCommands(program, ctx);
  registerFilterCommands(program, ctx);
  deps.registerLocal?.({ program, cluster, node, io: deps.io });

  program.hook("postAction", () => {
    client?.close();
  });
  return { program, cluster, node, ctx, errorContext };
}

/** The command tree without running it: generated man pages and bash completion (cli/scripts/gen-docs.ts). */
export function commandTree(deps: ProgramDeps): Command {
  return buildProgram(deps).program;
}

/** Run gnt with a full argv (`[node, script, ...args]`); resolve to the exit code. */
export async function run(argv: string[], deps: ProgramDeps): Promise<number> {
  const { program, errorContext } = buildProgram(deps);
  try {
    await program.parseAsync(expandAlias(argv));
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) {
      // Help and version are "errors" under exitOverride; usage errors are already printed.
      if (err.code === "commander.helpDisplayed" || err.code === "commander.version" || err.code === "commander.help") {
        return EXIT.OK;
      }
      if (err.code === "commander.executeSubCommandAsync") return EXIT.OK;
      return err.exitCode === 0 ? EXIT.OK : EXIT.USAGE;
    }
    if (err instanceof ExitStatus) return err.exitCode;
    if ((err as { code?: string }).code === "aborted") {
      deps.io.err("Interrupted (the job, if any, keeps running)");
      return 130;
    }
    const { line, exitCode } = describeError(err, errorContext);
    deps.io.err(`gnt: ${line}`);
    return exitCode;
  }
}
