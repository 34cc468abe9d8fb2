// Core data types of the htools model (cluster snapshot, policies, results).
// Field names follow Ganeti's htools so docs/htools-internals.md and Ganeti's htools map 1:1.

export const FAIL_MODES = [
  "FailMem",
  "FailDisk",
  "FailCPU",
  "FailN1",
  "FailTags",
  "FailMig",
  "FailDiskCount",
  "FailSpindles",
  "FailInternal",
] as const;
export type FailMode = (typeof FAIL_MODES)[number];

/** A simulated operation either yields a value or a failure mode. */
export type OpResult<T> = T | FailMode;
export function isFail<T>(r: OpResult<T>): r is FailMode {
  return typeof r === "string";
}

/** Typed error carrying a code, thrown for invalid input or requests. */
export class HtoolsError extends Error {
  constructor(
    message: string,
    readonly code: string = "EHTOOLS",
  ) {
    super(message);
    this.name = "HtoolsError";
  }
}

export type DiskTemplate = "diskless" | "file" | "sharedfile" | "plain" | "blockdev" | "drbd" | "rbd" | "ext" | "gluster";
export const DISK_TEMPLATES: DiskTemplate[] = ["diskless", "file", "sharedfile", "plain", "blockdev", "drbd", "rbd", "ext", "gluster"];

export type RunState =
  | "running"
  | "ADMIN_down"
  | "ADMIN_offline"
  | "ERROR_up"
  | "ERROR_down"
  | "ERROR_nodedown"
  | "ERROR_nodeoffline"
  | "USER_down"
  | "ERROR_wrongnode";
export const RUN_STATES: RunState[] = [
  "running",
  "ADMIN_down",
  "ADMIN_offline",
  "ERROR_up",
  "ERROR_down",
  "ERROR_nodedown",
  "ERROR_nodeoffline",
  "USER_down",
  "ERROR_wrongnode",
];

export type AllocPolicy = "preferred" | "last_resort" | "unallocable";
export const ALLOC_POLICY_ORDER: Record<AllocPolicy, number> = {
  preferred: 0,
  last_resort: 1,
  unallocable: 2,
};

export type MirrorType = "none" | "internal" | "external";

export interface ISpec {
  memorySize: number;
  cpuCount: number;
  diskSize: number;
  diskCount: number;
  nicCount: number;
  spindleUse: number;
}
export interface MinMaxISpecs {
  min: ISpec;
  max: ISpec;
}
export interface IPolicy {
  minmax: MinMaxISpecs[];
  std: ISpec;
  diskTemplates: DiskTemplate[];
  vcpuRatio: number;
  spindleRatio: number;
}

// Every node starts with the default policy (two calls per node while a
// cluster loads): one deeply frozen value instead of seven new objects per
// call.  Policies are replaced, never edited (setPolicy, setMcpu copy).
const DEF_IPOLICY: IPolicy = deepFreeze({
  minmax: [
    {
      min: { memorySize: 128, cpuCount: 1, diskSize: 1024, diskCount: 1, nicCount: 1, spindleUse: 1 },
      max: { memorySize: 32768, cpuCount: 8, diskSize: 1024 * 1024, diskCount: 16, nicCount: 8, spindleUse: 12 },
    },
  ],
  std: { memorySize: 128, cpuCount: 1, diskSize: 1024, diskCount: 1, nicCount: 1, spindleUse: 1 },
  diskTemplates: [...DISK_TEMPLATES],
  vcpuRatio: 4.0,
  spindleRatio: 32.0,
});

function deepFreeze<T>(o: T): T {
  if (typeof o === "object" && o !== null) {
    for (const v of Object.values(o)) deepFreeze(v);
    Object.freeze(o);
  }
  return o;
}

/** Ganeti's default instance policy (shared and frozen: replace it, don't edit it). */
export function defIPolicy(): IPolicy {
  return DEF_IPOLICY;
}

export interface Group {
  name: string;
  uuid: string;
  idx: number;
  allocPolicy: AllocPolicy;
  networks: string[];
  ipolicy: IPolicy;
  tags: string[];
}

/** Dynamic utilisation vector: cpu, mem, dsk, net. */
export type DynUtil = [number, number, number, number];
export const baseUtil = (): DynUtil => [1, 1, 1, 1];
export const zeroUtil = (): DynUtil => [0, 0, 0, 0];

export interface Disk {
  size: number;
  spindles: number | null;
}

export interface Nic {
  network: string | null;
}

export interface Instance {
  name: string;
  alias: string;
  mem: number;
  dsk: number;
  disks: Disk[];
  vcpus: number;
  runSt: RunState;
  pNode: number;
  sNode: number;
  idx: number;
  util: DynUtil;
  movable: boolean;
  autoBalance: boolean;
  diskTemplate: DiskTemplate;
  spindleUse: number;
  allTags: readonly string[];
  exclTags: readonly string[];
  dsrdLocTags: ReadonlySet<string>;
  locationScore: number;
  nics: readonly Nic[];
  forthcoming: boolean;
}

/** Resource spec used by hspace (mem, dsk, cpu, spindles). */
export interface RSpec {
  mem: number;
  dsk: number;
  cpu: number;
  spn: number;
}
