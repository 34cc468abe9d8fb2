// The real Pulumi engine for end-to-end tests: the CLI from
// scripts/ensure-pulumi.sh (PULUMI_BIN_DIR, set by `make test`), a file
// backend and PULUMI_HOME in a temp dir, and a program copied from
// examples/ (or test/e2e/program) into a per-run dir inside the repo, so
// that it resolves the root node_modules and the stack files Pulumi writes
// next to the program never land in examples/.
import { execFileSync } from "node:child_process";
import { cp, mkdtemp, readdir, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { LocalWorkspace, PulumiCommand, type EngineEvent, type Stack } from "@pulumi/pulumi/automation/index.js";
import type { LocalCluster } from "../helpers/cluster.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO = path.resolve(HERE, "../..");

/** The dir with pulumi, pulumi-language-nodejs and pulumi-resource-pulumi-nodejs. */
export function pulumiBinDir(): string {
  const fromEnv = process.env.PULUMI_BIN_DIR;
  if (fromEnv) return fromEnv;
  // Not run by `make test`: ask the script (a warm cache answers in ~1 s).
  const out = execFileSync("bash", [path.join(REPO, "scripts/ensure-pulumi.sh")], {
    cwd: REPO,
    encoding: "utf8",
    stdio: ["ignore", "pipe", "inherit"],
  });
  const dir = out.trim().split("\n").pop();
  if (!dir) throw new Error("scripts/ensure-pulumi.sh printed no bin dir: the Pulumi CLI is not available");
  return dir;
}

export interface Engine {
  /** Temp dir: file backend and PULUMI_HOME. */
  home: string;
  /** Per-run program copies, inside test/e2e. */
  work: string;
  envVars: Record<string, string>;
  pulumiCommand: PulumiCommand;
  /** Copy a program dir (index.ts, Pulumi.yaml, package.json) and create a stack with the cluster's credentials. */
  stack(programDir: string, stackName: string, cluster: LocalCluster): Promise<Stack>;
  /** Every file under the backend and PULUMI_HOME (and the program copies), as text. */
  allStoredText(): Promise<{ file: string; text: string }[]>;
  cleanup(): Promise<void>;
}

export async function startEngine(): Promise<Engine> {
  const bin = pulumiBinDir();
  for (const f of ["pulumi", "pulumi-language-nodejs", "pulumi-resource-pulumi-nodejs"]) {
    await stat(path.join(bin, f)).catch((err: unknown) => {
      throw new Error(`the Pulumi bin dir ${bin} has no ${f} (run scripts/ensure-pulumi.sh)`, { cause: err });
    });
  }
  const home = await mkdtemp(path.join(tmpdir(), "gts-pulumi-"));
  const work = await mkdtemp(path.join(HERE, ".work-"));
  const envVars: Record<string, string> = {
    PATH: `${bin}:${process.env.PATH ?? ""}`,
    PULUMI_BACKEND_URL: `file://${home}`,
    PULUMI_CONFIG_PASSPHRASE: "",
    PULUMI_SKIP_UPDATE_CHECK: "true",
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
    PULUMI_HOME: path.join(home, "pulumi-home"),
    // The provider must get its connection from the stack config alone.
    GANETI_RAPI_URL: "",
    GANETI_RAPI_USER: "",
    GANETI_RAPI_PASSWORD: "",
    GANETI_RAPI_CA: "",
  };
  // PulumiCommand.get wants <root>/bin/pulumi; never install().
  const pulumiCommand = await PulumiCommand.get({ root: path.dirname(bin) });
  if (path.join(path.dirname(bin), "bin") !== bin) {
    throw new Error(`PULUMI_BIN_DIR ${bin} is not named bin/: PulumiCommand.get({root}) cannot use it`);
  }

  async function walk(dir: string): Promise<string[]> {
    const out: string[] = [];
    for (const e of await readdir(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory()) out.push(...(await walk(p)));
      else if (e.isFile()) out.push(p);
    }
    return out;
  }

  return {
    home,
    work,
    envVars,
    pulumiCommand,
    async stack(programDir, stackName, cluster) {
      const dir = path.join(work, stackName);
      for (const f of ["index.ts", "Pulumi.yaml", "package.json"]) await cp(path.join(programDir, f), path.join(dir, f));
      const stack = await LocalWorkspace.createStack({ stackName, workDir: dir }, { pulumiCommand, envVars });
      await stack.setAllConfig({
        "ganeti:url": { value: cluster.url },
        "ganeti:user": { value: cluster.user },
        "ganeti:password": { value: cluster.password, secret: true },
        "ganeti:caCert": { value: cluster.caFile },
      });
      return stack;
    },
    async allStoredText() {
      const files = [...(await walk(home)), ...(await walk(work))];
      const out: { file: string; text: string }[] = [];
      for (const file of files) {
        // Plugins and binaries are not ours to grep; the state and config are small text.
        const s = await stat(file);
        if (s.size > 20 << 20) continue;
        out.push({ file, text: await readFile(file, "utf8") });
      }
      return out;
    },
    async cleanup() {
      await rm(work, { recursive: true, force: true });
      await rm(home, { recursive: true, force: true });
    },
  };
}

/** What the engine did to each resource, in event order. */
export interface StepEvent {
  phase: "pre" | "outputs" | "failed";
  op: string;
  urn: string;
  name: string;
  /** Input keys that differ between the old state and the new program (the dynamic host reports no diffs itself). */
  changedInputs: string[];
}

function changedKeys(a: Record<string, unknown> = {}, b: Record<string, unknown> = {}): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter((k) => !k.startsWith("__") && JSON.stringify(a[k]) !== JSON.stringify(b[k])).sort();
}

export function recorder(): { events: StepEvent[]; onEvent: (e: EngineEvent) => void } {
  const events: StepEvent[] = [];
  return {
    events,
    onEvent(e) {
      type Meta = { op: string; urn: string; old?: { inputs?: Record<string, unknown> }; new?: { inputs?: Record<string, unknown> } };
      const add = (phase: StepEvent["phase"], m: Meta | undefined) => {
        if (!m) return;
        const changedInputs = m.old && m.new ? changedKeys(m.old.inputs, m.new.inputs) : [];
        events.push({ phase, op: m.op, urn: m.urn, name: m.urn.split("::").pop() ?? "", changedInputs });
      };
      if (e.resourcePreEvent) add("pre", e.resourcePreEvent.metadata);
      if (e.resOutputsEvent) add("outputs", e.resOutputsEvent.metadata);
      if (e.resOpFailedEvent) add("failed", e.resOpFailedEvent.metadata);
    },
  };
}

export interface EngineProcess {
  pid: number;
  cmdline: string;
}

/**
 * Processes started by this engine's runs that are still alive: the CLI,
 * language hosts, programs and provider plugins all carry this engine's
 * PULUMI_HOME in their environment, which no other test's runs share.
 */
export async function engineProcesses(engine: Engine): Promise<EngineProcess[]> {
  const mark = `PULUMI_HOME=${engine.envVars.PULUMI_HOME}\0`;
  const out: EngineProcess[] = [];
  for (const e of await readdir("/proc")) {
    const pid = Number(e);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const environ = await readFile(`/proc/${pid}/environ`, "utf8").catch(() => "");
    if (!environ.includes(mark)) continue;
    const stat = await readFile(`/proc/${pid}/stat`, "utf8").catch(() => "");
    if (/\) Z /.test(stat)) continue; // exited, waiting to be reaped
    const cmdline = (await readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "")).split("\0").join(" ").trim();
    out.push({ pid, cmdline });
  }
  return out;
}

/** Wait (generously: plugins get SIGINT, then SIGKILL after 5 s) until no process of this engine is left; returns what is left. */
export async function engineProcessesAfterRun(engine: Engine, timeoutMs = 30_000): Promise<EngineProcess[]> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const left = await engineProcesses(engine);
    if (left.length === 0 || Date.now() > end) return left;
    await new Promise((r) => setTimeout(r, 500));
  }
}
