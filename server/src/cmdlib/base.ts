// The logical-unit lifecycle, after Ganeti's cmdlib: checkArguments (no
// cluster access) → expandNames (resolve names, declare locks) → declareLocks
// per level as lower levels are held → checkPrereq (read-only, OpPrereqError
// with an ECODE) → exec (the only step that changes anything).
import type { ConfigData, Timestamp } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../config/cluster-config.js";
import type { RpcRunner } from "../rpc/runner.js";

/** Lock levels in acquisition order (Ganeti's LEVEL_CLUSTER … LEVEL_NETWORK). */
export const LOCK_LEVELS = ["cluster", "nodegroup", "instance", "node", "network"] as const;
export type LockLevel = (typeof LOCK_LEVELS)[number];

/** Names are uuids (cluster level: the single name "cluster"). "all" = every object of the level. */
export interface LockSet {
  names: string[] | "all";
  shared: boolean;
}
export type LockDecl = Partial<Record<LockLevel, LockSet>>;

/** An opcode as submitted into a job: OP_ID plus parameters (validated later by the job processor). */
export type OpcodeInput = Record<string, unknown> & { OP_ID: string };
export type SubmitResult = [true, number] | [false, string];

/** IAllocator request/response in Ganeti's JSON protocol (docs/htools-internals.md, IAllocator protocol). */
export interface Allocator {
  run(request: Record<string, unknown>): Promise<Record<string, unknown>>;
}

export interface LuContext {
  readonly config: ClusterConfig;
  readonly rpc: RpcRunner;
  readonly allocator: Allocator;
  readonly jobId: number;
  /** Feedback to the job log (Ganeti's LogInfo/LogWarning/Feedback). */
  log(message: string, type?: string): void;
  /** Submit follow-up jobs (node evacuate, multi-alloc...): [[true, id] | [false, error], ...]. */
  submitJobs(jobs: OpcodeInput[][]): Promise<SubmitResult[]>;
  /** Locks currently held at a level (uuids), for LUs that declared "all". */
  held(level: LockLevel): string[];
  now(): number; // seconds, float
  timestamp(): Timestamp;
  /** Wait between polls (drbd sync); tests inject one, the default is a real timer. */
  sleep?(ms: number): Promise<void>;
}

export interface LogicalUnitClass<Op = Record<string, unknown>> {
  new (op: Op, ctx: LuContext): LogicalUnit<Op>;
}

export abstract class LogicalUnit<Op = Record<string, unknown>> {
  constructor(
    readonly op: Op,
    readonly ctx: LuContext,
  ) {}

  get cfg(): ClusterConfig {
    return this.ctx.config;
  }
  get data(): ConfigData {
    return this.ctx.config.data;
  }

  /** Argument checks that need no cluster state. Throw OpPrereqError(wrong_input). */
  checkArguments(): void {}

  /** Resolve names to uuids (throw unknown_entity) and declare the locks. */
  abstract expandNames(): LockDecl;

  /**
   * Called before acquiring `level` once every earlier level is held; return a
   * lock set to replace/define this level's locks (e.g. an instance's nodes).
   */
  declareLocks(_level: LockLevel): LockSet | undefined {
    return undefined;
  }

  /** Read-only checks under locks; idempotent. */
  abstract checkPrereq(): Promise<void> | void;

  /** Do the work. The return value is the opcode result. */
  abstract exec(): Promise<unknown>;

  /** Result of a dry run (`dry_run: true`): Ganeti returns null for most opcodes. */
  dryRunResult(): unknown {
    return null;
  }
}
