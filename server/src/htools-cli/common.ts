// Shared command-line handling for hbal / hail / hspace: a getopt-style
// parser with Ganeti's option names, backend selection and output helpers.
import { hsFixed } from "../htools/format.js";
import { readFileSync, statSync, writeFileSync, writeSync } from "node:fs";
import { isAscii } from "node:buffer";
import path from "node:path";
import { HtoolsError, type DynUtil } from "../htools/types.js";
import { parseText, serializeCluster } from "../htools/text.js";
import { parseSimu } from "../htools/simu.js";
import { parseRapi } from "../htools/rapi.js";
import { parseRequest } from "../htools/iallocator.js";
import { mergeData, updateMissing, type ClusterData, type LoadOptions } from "../htools/loader.js";
import { Node, availMem, unallocatedMem, iDsk } from "../htools/node.js";
import { formatTable } from "../htools/metrics.js";
import type { Instance } from "../htools/types.js";
import { isRunning } from "../htools/instance.js";
import { dataPaths } from "../master/paths.js";
import { RapiClient, resolveCredentials, type RapiCredentials } from "./rapi-client.js";

export const VERSION = "ganeti-ts htools 0.1.0 (compatible with Ganeti htools 3.0.2)";

/** Option spec: name(s) -> kind. */
export interface OptSpec {
  short?: string;
  long: string[];
  /** none: flag; req: needs a value; opt: optional value (attached only) */
  arg: "none" | "req" | "opt";
  key: string;
  multi?: boolean;
  help: string;
}

class UsageError extends HtoolsError {
  constructor(msg: string) {
    super(msg, "EUSAGE");
  }
}

export type Opts = Record<string, string | boolean | string[] | undefined>;

export function parseArgs(argv: string[], specs: OptSpec[]): { opts: Opts; args: string[] } {
  const opts: Opts = {};
  const args: string[] = [];
  const set = (s: OptSpec, v: string | boolean): void => {
    if (s.multi) {
      const cur = (opts[s.key] as string[] | undefined) ?? [];
      opts[s.key] = [...cur, String(v)];
    } else opts[s.key] = v;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--") {
      args.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith("--")) {
      const eq = a.indexOf("=");
      const name = eq >= 0 ? a.slice(2, eq) : a.slice(2);
      // GetOpt semantics: exact match, else a unique prefix of a long option.
      let s = specs.find((x) => x.long.includes(name));
      if (!s) {
        const cands = specs.filter((x) => x.long.some((l) => l.startsWith(name)));
        const uniq = [...new Set(cands)];
        if (uniq.length === 1) s = uniq[0];
        else if (uniq.length > 1) throw new UsageError(`option \`${a}' is ambiguous`);
      }
      if (!s) throw new UsageError(`unrecognized option \`${a}'`);
      if (s.arg === "none") {
        if (eq >= 0) throw new UsageError(`option \`--${name}' doesn't allow an argument`);
        set(s, true);
      } else if (s.arg === "opt") set(s, eq >= 0 ? a.slice(eq + 1) : true);
      else if (eq >= 0) set(s, a.slice(eq + 1));
      else {
        if (i + 1 >= argv.length) throw new UsageError(`option \`--${name}' requires an argument`);
        set(s, argv[++i]!);
      }
    } else if (a.startsWith("-") && a.length > 1) {
      let j = 1;
      while (j < a.length) {
        const c = a[j]!;
        const s = specs.find((x) => x.short === c);
        if (!s) throw new UsageError(`unrecognized option \`-${c}'`);
        if (s.arg === "none") {
          set(s, true);
          j++;
          continue;
        }
        const rest = a.slice(j + 1);
        if (s.arg === "opt") set(s, rest.length > 0 ? rest : true);
        else if (rest.length > 0) set(s, rest);
        else {
          if (i + 1 >= argv.length) throw new UsageError(`option \`-${c}' requires an argument`);
          set(s, argv[++i]!);
        }
        break;
      }
    } else args.push(a);
  }
  return { opts, args };
}

export const COMMON_OPTS: OptSpec[] = [
  { short: "t", long: ["text-data"], arg: "req", key: "dataFile", help: "the cluster data FILE (text backend)" },
  { short: "m", long: [], arg: "req", key: "master", help: "collect data from RAPI host ADDRESS (https://ADDRESS:5080, or file://DIR)" },
  {
    short: "L",
    long: ["luxi"],
    arg: "opt",
    key: "luxi",
    help: "collect data from the local master daemon (optional: its data dir, control socket or RAPI URL)",
  },
  { long: ["rapi-user"], arg: "req", key: "rapiUser", help: "RAPI user (default $GANETI_RAPI_USER)" },
  {
    long: ["rapi-password-file"],
    arg: "req",
    key: "rapiPasswordFile",
    help: "file holding the RAPI password (default $GANETI_RAPI_PASSWORD)",
  },
  {
    long: ["rapi-ca"],
    arg: "req",
    key: "rapiCa",
    help: "verify the RAPI certificate against this PEM file (default $GANETI_RAPI_CA; else unverified)",
  },
  { short: "I", long: ["ialloc-src"], arg: "req", key: "iallocSrc", help: "use an iallocator request FILE as cluster data" },
  { long: ["simulate"], arg: "req", key: "simu", multi: true, help: "simulate an empty cluster: POLICY,NODES,DISK,MEM,CPU[,SPINDLES]" },
  { short: "v", long: ["verbose"], arg: "none", key: "verbose", multi: true, help: "increase verbosity" },
  { short: "q", long: ["quiet"], arg: "none", key: "quiet", multi: true, help: "decrease verbosity" },
  { short: "p", long: ["print-nodes"], arg: "opt", key: "printNodes", help: "print the final node list (optional comma-separated FIELDS)" },
  { long: ["print-instances"], arg: "none", key: "printInsts", help: "print the final instance map" },
  { short: "O", long: ["offline"], arg: "req", key: "offline", multi: true, help: "set node NODE as offline" },
  { long: ["ignore-dynu"], arg: "none", key: "ignoreDynu", help: "ignore dynamic utilisation data" },
  { short: "U", long: ["util-file"], arg: "req", key: "utilFile", help: "instance utilisation data FILE" },
  { long: ["static-kvm-node-memory"], arg: "req", key: "staticKvm", help: "reserved node memory for kvm nodes (default 4096)" },
  { long: ["ignore-soft-errors"], arg: "none", key: "ignoreSoftErrors", help: "ignore soft errors in placement decisions" },
  { long: ["no-capacity-checks"], arg: "none", key: "noCapacity", help: "disable the global N+1 capacity checks" },
  { short: "S", long: ["save-cluster"], arg: "req", key: "saveCluster", help: "save the cluster state to FILE.<phase>" },
  { long: ["mond"], arg: "opt", key: "mond", help: "query monitoring daemons (not supported)" },
  { long: ["mond-data"], arg: "req", key: "mondData", help: "monitoring data file (not supported)" },
  { long: ["mond-xen"], arg: "none", key: "mondXen", help: "(not supported)" },
  { long: ["mond-exit-missing"], arg: "none", key: "mondExit", help: "(not supported)" },
  { short: "h", long: ["help"], arg: "none", key: "help", help: "show help" },
  { short: "V", long: ["version"], arg: "none", key: "version", help: "show version" },
  { long: ["help-completion"], arg: "none", key: "helpCompletion", help: "show completion info" },
];

export function verbosity(o: Opts): number {
  return 1 + ((o.verbose as string[] | undefined)?.length ?? 0) - ((o.quiet as string[] | undefined)?.length ?? 0);
}

/**
 * A tool's command line: parsed, with --help, --version and
 * --help-completion answered on stdout. Returns the exit code when one of
 * those was asked for, else the options and arguments.
 */
export function startTool(tool: string, specs: OptSpec[]): { opts: Opts; args: string[] } | number {
  const parsed = parseArgs(process.argv.slice(2), specs);
  const o = parsed.opts;
  if (o.help) return (out(helpText(tool, specs)), 0);
  if (o.version) return (out(`${tool} (${VERSION})\n`), 0);
  if (o.helpCompletion) return (out(specs.map((s) => s.long.map((l) => `--${l}`).join(" ")).join("\n") + "\n"), 0);
  return parsed;
}

export function helpText(prog: string, specs: OptSpec[]): string {
  const lines = [`Usage: ${prog} [OPTION...]`, ""];
  for (const s of specs) {
    const names = [...(s.short ? [`-${s.short}`] : []), ...s.long.map((l) => `--${l}`)].join(", ");
    lines.push(`  ${names.padEnd(32)} ${s.help}`);
  }
  return lines.join("\n") + "\n";
}

function parseUtilFile(text: string): Array<[string, DynUtil]> {
  const out: Array<[string, DynUtil]> = [];
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const f = line.split(/\s+/).filter((x) => x.length > 0);
    if (f.length !== 5) throw new HtoolsError(`Cannot parse line ${line}`, "EUTIL");
    const vals = f.slice(1).map((x) => {
      if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(x)) throw new HtoolsError(`cannot parse string '${x}'`, "EUTIL");
      return Number(x);
    });
    out.push([f[0]!, vals as DynUtil]);
  }
  return out;
}

/** The RAPI credentials of the command line (flags, else environment). */
export function rapiCredentials(o: Opts): RapiCredentials {
  return resolveCredentials({
    ...(typeof o.rapiUser === "string" ? { user: o.rapiUser } : {}),
    ...(typeof o.rapiPasswordFile === "string" ? { passwordFile: o.rapiPasswordFile } : {}),
    ...(typeof o.rapiCa === "string" ? { caFile: o.rapiCa } : {}),
  });
}

async function loadRapi(master: string, creds: RapiCredentials = {}): Promise<ClusterData> {
  if (master.startsWith("file://")) {
    const dir = master.slice(7);
    const rd = (f: string): string => readFileSync(`${dir}/${f}`, "utf8");
    return parseRapi({ groups: rd("groups.json"), nodes: rd("nodes.json"), instances: rd("instances.json"), info: rd("info.json") });
  }
  const client = new RapiClient(master, creds);
  try {
    const [groups, nodes, instances, info] = [
      await client.request("GET", "/2/groups?bulk=1"),
      await client.request("GET", "/2/nodes?bulk=1"),
      await client.request("GET", "/2/instances?bulk=1"),
      await client.request("GET", "/2/info"),
    ];
    return parseRapi({ groups, nodes, instances, info });
  } finally {
    client.close();
  }
}

/** The local master of -L: where to read the cluster (RAPI) and submit jobs (control socket). */
interface LocalMaster {
  rapi: string;
  /** The master's control socket (ganeti-ts' LUXI), when known. */
  socket: string | null;
}

const DEFAULT_LOCAL_RAPI = "https://127.0.0.1:5080";

/**
 * -L[ARG]: ARG may be a RAPI URL, the master's data directory or its control
 * socket; without ARG, $GANETI_DATA_DIR if set. ganeti-ts serves the cluster
 * data over the RAPI only, so reads go to the RAPI the master's runtime file
 * names (https://127.0.0.1:5080 if there is none).
 */
export function resolveLocalMaster(arg: string | true, env: NodeJS.ProcessEnv = process.env): LocalMaster {
  if (typeof arg === "string" && /^https?:\/\//.test(arg)) return { rapi: arg, socket: null };
  let dir: string | undefined;
  let socket: string | null = null;
  if (typeof arg === "string") {
    let isDir = false;
    try {
      isDir = statSync(arg).isDirectory();
    } catch {
      // a socket path that does not exist yet is still the socket the user meant
    }
    if (isDir) dir = arg;
    else {
      socket = arg;
      dir = path.dirname(arg);
    }
  } else if (env["GANETI_DATA_DIR"]) dir = env["GANETI_DATA_DIR"];
  if (dir === undefined) return { rapi: DEFAULT_LOCAL_RAPI, socket: null };
  const paths = dataPaths(dir);
  let rapi = DEFAULT_LOCAL_RAPI;
  try {
    // Written by the master at start-up (launcher.ts runtimePath): the RAPI it really listens on.
    const rt = JSON.parse(readFileSync(path.join(paths.root, "master.runtime.json"), "utf8")) as { rapiUrl?: unknown };
    if (typeof rt.rapiUrl === "string") rapi = rt.rapiUrl;
  } catch {
    // no runtime file (not a master's data dir, or not running): the default address
  }
  return { rapi, socket: socket ?? paths.controlSocket };
}

/** Ganeti's loadExternalData: pick the backend, merge, fix memory stats. */
export async function loadExternalData(o: Opts, lo: LoadOptions = {}): Promise<{ cd: ClusterData; warnings: string[] }> {
  const master = o.master as string | undefined;
  const luxi = o.luxi;
  const file = o.dataFile as string | undefined;
  const simu = o.simu as string[] | undefined;
  const ialloc = o.iallocSrc as string | undefined;
  const set = [master !== undefined, luxi !== undefined, file !== undefined].filter((x) => x);
  if (set.length > 1) throw new HtoolsError("Only one of the rapi, luxi, and data files options should be given.", "EBACKEND");
  let util: Array<[string, DynUtil]> = [];
  try {
    util = o.utilFile ? parseUtilFile(readFileSync(o.utilFile as string, "utf8")) : [];
  } catch (e) {
    if (e instanceof HtoolsError) throw new HtoolsError(`can't parse utilisation data: ${e.message}`, e.code);
    throw e;
  }
  // An IAllocator request is read as Ganeti's readRequest does: its parse
  // errors end the program unprefixed, its own data warnings always show.
  let iallocData: ClusterData | null = null;
  if (ialloc !== undefined && master === undefined && luxi === undefined && !(simu && simu.length > 0) && file === undefined) {
    const req = parseRequest(readFileSync(ialloc, "utf8"), o.staticKvm !== undefined ? Number(o.staticKvm) : 4096);
    showWarnings(req.warnings);
    iallocData = req.cluster;
  }
  let cd: ClusterData;
  try {
    cd = await loadBackend();
  } catch (e) {
    if (e instanceof HtoolsError) throw new HtoolsError(`failed to load data, aborting: ${e.message}`, e.code);
    if ((e as NodeJS.ErrnoException).code) throw new HtoolsError(`failed to load data, aborting: ${(e as Error).message}`, "EIO");
    throw e;
  }
  async function loadBackend(): Promise<ClusterData> {
    let cd: ClusterData;
    if (master !== undefined) cd = await loadRapi(master, rapiCredentials(o));
    else if (luxi !== undefined) {
      // ganeti-ts' control socket only runs jobs: the local master's RAPI serves the data.
      cd = await loadRapi(resolveLocalMaster(luxi as string | true).rapi, rapiCredentials(o));
    } else if (simu && simu.length > 0)
      cd = parseSimu([...simu].reverse()); // GetOpt accumulates by prepending
    else if (file !== undefined) cd = parseText(readFileSync(file, "utf8"));
    else if (iallocData !== null) cd = iallocData;
    else throw new HtoolsError("No backend selected! Exiting.", "EBACKEND");
    // Ganeti merges every backend's data, an IAllocator request's too (whose
    // parse already placed the instances: their use is counted twice, as there)
    return mergeData(cd, { ...lo, util: o.ignoreDynu ? [] : util, ignoreDynu: !!o.ignoreDynu });
  }
  const warnings = updateMissing(cd, o.staticKvm !== undefined ? Number(o.staticKvm) : 4096);
  return { cd, warnings };
}

export function saveCluster(path: string | undefined, ext: string, msg: string, cd: ClusterData): string | null {
  if (!path) return null;
  const out = `${path}.${ext}`;
  writeFileSync(out, serializeCluster(cd));
  return `The cluster state ${msg} has been written to file '${out}'\n`;
}

// ---- node / instance listings (Ganeti's printNodes / printInsts) -------------

const DEFAULT_FIELDS = [
  "status",
  "name",
  "tmem",
  "nmem",
  "imem",
  "xmem",
  "fmem",
  "umem",
  "rmem",
  "tdsk",
  "fdsk",
  "tcpu",
  "ucpu",
  "pcnt",
  "scnt",
  "pfmem",
  "pfdsk",
  "rcpu",
  "cload",
  "mload",
  "dload",
  "nload",
];
const HEADERS: Record<string, [string, boolean]> = {
  idx: ["Index", true],
  name: ["Name", false],
  fqdn: ["Name", false],
  status: ["F", false],
  tmem: ["t_mem", true],
  nmem: ["n_mem", true],
  xmem: ["x_mem", true],
  fmem: ["f_mem", true],
  umem: ["u_mem", true],
  amem: ["a_mem", true],
  imem: ["i_mem", true],
  rmem: ["r_mem", true],
  tdsk: ["t_dsk", true],
  fdsk: ["f_dsk", true],
  tcpu: ["pcpu", true],
  ucpu: ["vcpu", true],
  pcnt: ["pcnt", true],
  scnt: ["scnt", true],
  plist: ["primaries", true],
  slist: ["secondaries", true],
  pfmem: ["p_fmem", true],
  pfdsk: ["p_fdsk", true],
  rcpu: ["r_cpu", true],
  cload: ["lCpu", true],
  mload: ["lMem", true],
  dload: ["lDsk", true],
  nload: ["lNet", true],
  ptags: ["PrimaryTags", false],
  peermap: ["PeerMap", false],
  spindle_count: ["NodeSpindles", true],
  hi_spindles: ["MaxSpindles", true],
  inst_spindles: ["InstSpindles", true],
};
const pad = (s: string | number, w: number): string => String(s).padStart(w);
function showDbl(x: number): string {
  return Number.isInteger(x) ? hsFixed(x, 1) : String(x);
}
function nodeField(n: Node, f: string): string {
  switch (f) {
    case "idx":
      return pad(n.idx, 4);
    case "name":
      return n.alias;
    case "fqdn":
      return n.name;
    case "status":
      return n.offline ? "-" : n.failN1 ? "*" : " ";
    case "tmem":
      return pad(hsFixed(n.tMem, 0), 5);
    case "nmem":
      return pad(n.nMem, 5);
    case "xmem":
      return pad(n.xMem, 5);
    case "fmem":
      return pad(n.fMem, 5);
    case "umem":
      return pad(unallocatedMem(n), 5);
    case "imem":
      return pad(n.iMem, 5);
    case "rmem":
      return pad(n.rMem, 5);
    case "amem":
      return pad(availMem(n), 5);
    case "tdsk":
      return pad(hsFixed(n.tDsk / 1024, 0), 5);
    case "fdsk":
      return pad(Math.floor(n.fDsk / 1024), 5);
    case "tcpu":
      return pad(hsFixed(n.tCpu, 0), 4);
    case "ucpu":
      return pad(n.uCpu, 4);
    case "pcnt":
      return pad(n.pList.length, 3);
    case "scnt":
      return pad(n.sList.length, 3);
    case "plist":
      return `[${n.pList.join(",")}]`;
    case "slist":
      return `[${n.sList.join(",")}]`;
    case "pfmem":
      return pad(hsFixed(n.pMem, 4), 6);
    case "pfdsk":
      return pad(hsFixed(n.pDsk, 4), 6);
    case "rcpu":
      return pad(hsFixed(n.pCpu, 2), 5);
    case "cload":
      return pad(hsFixed(n.utilLoad[0], 3), 5);
    case "mload":
      return pad(hsFixed(n.utilLoad[1], 3), 5);
    case "dload":
      return pad(hsFixed(n.utilLoad[2], 3), 5);
    case "nload":
      return pad(hsFixed(n.utilLoad[3], 3), 5);
    case "ptags":
      return [...n.pTags.entries()]
        .sort()
        .map(([k, v]) => `${k}=${v}`)
        .join(",");
    case "peermap":
      return `[${[...n.peers.entries()]
        .sort((a, b) => a[0] - b[0])
        .map(([k, v]) => `(${k},${v})`)
        .join(",")}]`;
    case "spindle_count":
      return String(n.tSpindles);
    case "hi_spindles":
      return showDbl(n.hiSpindles);
    case "inst_spindles":
      return showDbl(n.instSpindles);
    default:
      return "<unknown field>";
  }
}

export function printNodes(nodes: readonly Node[], fs: string[]): string {
  let fields = fs;
  if (fs.length === 0) fields = DEFAULT_FIELDS;
  else if (fs[0] === "+") fields = [...DEFAULT_FIELDS, ...fs.slice(1)];
  const sorted = [...nodes].sort((a, b) => a.idx - b.idx);
  const hdr: Array<[string, boolean]> = fields.map((f) => HEADERS[f] ?? ["<unknown field>", false]);
  return formatTable(
    "",
    hdr.map((h) => h[0]),
    sorted.map((n) => fields.map((f) => nodeField(n, f))),
    hdr.map((h) => h[1]),
  );
}

export function printInsts(nodes: readonly Node[], insts: readonly Instance[]): string {
  const byIdx = new Map(nodes.map((n) => [n.idx, n] as const));
  const rows = [...insts]
    .sort((a, b) => a.idx - b.idx)
    .map((i) => [
      isRunning(i) ? "R" : " ",
      i.name,
      byIdx.get(i.pNode)?.name ?? "",
      i.sNode < 0 ? "" : (byIdx.get(i.sNode)?.name ?? ""),
      i.autoBalance ? "Y" : "N",
      pad(i.vcpus, 3),
      pad(i.mem, 5),
      pad(Math.floor(i.dsk / 1024), 5),
      pad(hsFixed(i.util[0], 3), 5),
      pad(hsFixed(i.util[1], 3), 5),
      pad(hsFixed(i.util[2], 3), 5),
      pad(hsFixed(i.util[3], 3), 5),
    ]);
  return formatTable("", ["F", "Name", "Pri_node", "Sec_node", "Auto_bal", "vcpu", "mem", "dsk", "lCpu", "lMem", "lDsk", "lNet"], rows, [
    false,
    false,
    false,
    false,
    false,
    true,
    true,
    true,
    true,
    true,
    true,
    true,
  ]);
}

export function nodeFieldsOpt(v: string | boolean | string[] | undefined): string[] | null {
  if (v === undefined) return null;
  if (v === true) return [];
  return String(v)
    .split(",")
    .filter((x) => x.length > 0);
}

export { iDsk };

/** Run a CLI main with Ganeti-like error handling and exit codes. */
export async function runMain(prog: string, main: () => Promise<number>): Promise<void> {
  try {
    const code = await main();
    process.exitCode = code;
  } catch (e) {
    if (e instanceof UsageError) {
      err(`${prog}: ${e.message}\nTry '${prog} --help' for more information.\n`);
      process.exitCode = 2;
    } else if (e instanceof HtoolsError || (e as NodeJS.ErrnoException | undefined)?.code) {
      err(`Error: ${(e as Error).message}\n`);
      process.exitCode = 1;
    } else throw e;
  }
}

/**
 * All of s to a file descriptor, synchronously: the CLIs never create
 * process.stdout/stderr, whose stream modules Node would compile at each
 * start (~3 ms: with the V8 flags the tools run with, Node's code cache of
 * its own modules does not apply).  A full non-blocking descriptor is
 * retried; when out() returns, the text is with the kernel.
 */
function writeAll(fd: number, s: string): void {
  let buf = Buffer.from(s, "utf8");
  while (buf.length > 0) {
    try {
      buf = buf.subarray(writeSync(fd, buf));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EAGAIN") throw e;
      // (the reader has not caught up: wait a millisecond rather than spin)
      Atomics.wait(PAUSE, 0, 0, 1);
    }
  }
}
const PAUSE = new Int32Array(new SharedArrayBuffer(4));

export function out(s: string): void {
  writeAll(1, s);
}
export function err(s: string): void {
  writeAll(2, s);
}

/**
 * readFileSync(f, "utf8"), faster for ASCII files (an IAllocator request
 * usually is): their bytes are their characters, copied without decoding.
 */
export function readText(f: string | number): string {
  const b = readFileSync(f);
  return b.toString(isAscii(b) ? "latin1" : "utf8");
}

/** Ganeti's maybeShowWarnings. */
export function showWarnings(ws: string[]): void {
  if (ws.length === 0) return;
  err("Warning: cluster has inconsistent data:\n" + ws.map((w) => `  - ${w}\n`).join("") + "\n");
}
