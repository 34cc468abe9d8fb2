// An instance's disks through their lifecycle: generated, created (rolled
// back on failure), removed, assembled, shut down, waited for. Each loop is
// Ganeti's (lib/cmdlib/instance_storage.py: CreateDisks, RemoveDisks,
// AssembleInstanceDisks, ShutdownInstanceDisks) and hands every disk to its
// template's strategy (disk-templates/) for the node calls.
import type { DiskObject, InstanceObject, NodeObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { OpExecError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { diskStrategy, diskSteps } from "../disk-templates/registry.js";
import type { AssembleOptions, AssembleRow, DiskGenerateRequest, DiskStrategy } from "../disk-templates/strategy.js";
import { INSTANCE_DOWN, checkInstanceState } from "./instance-state.js";
import { errText, logWarning } from "./messages.js";

/** The node steps of a disk (by its dev_type), or of the instance's template without a disk. */
function strategyOf(disk: DiskObject | undefined, template: string): DiskStrategy {
  return diskSteps(disk?.dev_type === "drbd8" ? "drbd" : (disk?.dev_type ?? template));
}

/** Build disk objects for a template (Ganeti's GenerateDiskTemplate), not yet in the config. */
export function generateDisks(
  cfg: ClusterConfig,
  template: string,
  req: Omit<DiskGenerateRequest, "baseIndex" | "secondaries"> & { baseIndex?: number; secondaries?: string[] },
): DiskObject[] {
  return diskStrategy(template).generate(cfg, { ...req, baseIndex: req.baseIndex ?? 0, secondaries: req.secondaries ?? [] });
}

/** The directory of an instance's disks on its nodes (file based), from its first disk. */
export function disksStorageDir(disks: DiskObject[], template: string): string | null {
  return disks.length ? strategyOf(disks[0], template).storageDir(disks[0]) : null;
}

/**
 * Ganeti's CreateDisks: the storage directory, then each disk on its nodes.
 * On failure everything created so far is removed and OpExecError raised.
 */
export async function createDisks(ctx: LuContext, inst: InstanceObject, disks: DiskObject[], node?: NodeObject): Promise<void> {
  const cfg = ctx.config;
  const pnode = node ?? cfg.node(inst.primary_node);
  const dir = disksStorageDir(disks, inst.disk_template);
  if (dir) {
    try {
      await ctx.rpc.call(pnode, "file_storage_dir_create", { path: dir });
    } catch (err) {
      throw new OpExecError(`Failed to create directory '${dir}' on node ${pnode.name}: ${errText(err)}`, { cause: err });
    }
  }
  const created: DiskObject[] = [];
  try {
    for (const d of disks) {
      await strategyOf(d, inst.disk_template).create(ctx, inst, d, pnode);
      created.push(d);
    }
  } catch (err) {
    for (const d of created) await strategyOf(d, inst.disk_template).undoCreate(ctx, inst, d, pnode);
    throw err;
  }
}

/** Ganeti's RemoveDisks: returns false if anything failed (warnings logged). */
export async function removeDisks(
  ctx: LuContext,
  inst: InstanceObject,
  disks: DiskObject[],
  opts: { removeDir?: boolean } = {},
): Promise<boolean> {
  const cfg = ctx.config;
  let ok = true;
  for (const d of disks) if (!(await strategyOf(d, inst.disk_template).remove(ctx, inst, d))) ok = false;
  const dir = disksStorageDir(disks, inst.disk_template);
  if (dir && (opts.removeDir ?? true)) {
    const pnode = cfg.node(inst.primary_node);
    try {
      await ctx.rpc.call(pnode, "file_storage_dir_remove", { path: dir });
    } catch (err) {
      logWarning(ctx, `Could not remove directory '${dir}' on node ${pnode.name}: ${errText(err)}`);
      ok = false;
    }
  }
  return ok;
}

/** Ganeti's AssembleInstanceDisks (all disks, or some); returns [node, iv_name, path] rows of the primary. */
export async function assembleInstanceDisks(
  ctx: LuContext,
  inst: InstanceObject,
  disks?: DiskObject[],
  opts: AssembleOptions = {},
): Promise<{ ok: boolean; info: AssembleRow[] }> {
  const info: AssembleRow[] = [];
  let ok = true;
  for (const d of disks ?? ctx.config.instanceDisks(inst)) {
    const r = await strategyOf(d, inst.disk_template).assemble(ctx, inst, d, opts);
    info.push(...r.rows);
    if (!r.ok) ok = false;
  }
  return { ok, info };
}

export async function markDisksActive(cfg: ClusterConfig, inst: InstanceObject, active: boolean): Promise<void> {
  if (inst.disks_active === active) return;
  await cfg.mutate(
    () => {
      inst.disks_active = active;
      cfg.touch(inst);
    },
    { declared: true },
  );
}

/** Ganeti's StartInstanceDisks. */
export async function startInstanceDisks(ctx: LuContext, inst: InstanceObject, force?: boolean | null): Promise<AssembleRow[]> {
  await markDisksActive(ctx.config, inst, true);
  // Ganeti: force ignores failures on secondary nodes.
  const { ok, info } = await assembleInstanceDisks(ctx, inst, undefined, { ignoreSecondaries: force === true });
  if (!ok) {
    await shutdownInstanceDisks(ctx, inst);
    if (force === false) logWarning(ctx, "If the message above refers to a secondary node, you can retry the operation using '--force'");
    throw new OpExecError("Disk consistency error");
  }
  return info;
}

/** Ganeti's ShutdownInstanceDisks: returns false on errors (warnings logged). */
export async function shutdownInstanceDisks(
  ctx: LuContext,
  inst: InstanceObject,
  opts: { ignorePrimary?: boolean } = {},
): Promise<boolean> {
  const cfg = ctx.config;
  await markDisksActive(cfg, inst, false);
  let ok = true;
  for (const d of cfg.instanceDisks(inst)) if (!(await strategyOf(d, inst.disk_template).shutdown(ctx, inst, d, opts))) ok = false;
  return ok;
}

/** Ganeti's _SafeShutdownInstanceDisks: refuse when the instance runs. */
export async function safeShutdownInstanceDisks(ctx: LuContext, inst: InstanceObject): Promise<void> {
  await checkInstanceState(ctx, inst, INSTANCE_DOWN, "cannot shutdown disks");
  await shutdownInstanceDisks(ctx, inst);
}

/** Ganeti's WaitForSync over an instance's disks (or some of them), with its job-log lines; false: degraded. */
export async function waitForDiskSync(
  ctx: LuContext,
  inst: InstanceObject,
  disks?: DiskObject[],
  opts: { oneshot?: boolean } = {},
): Promise<boolean> {
  const ds = disks ?? ctx.config.instanceDisks(inst);
  return strategyOf(ds[0], inst.disk_template).waitForSync(ctx, inst, ds, opts);
}

/** Grow one disk on its nodes (the grow-disk LU's node part). */
export async function growDisk(ctx: LuContext, inst: InstanceObject, disk: DiskObject, amount: number): Promise<void> {
  await strategyOf(disk, inst.disk_template).grow(ctx, inst, disk, amount);
}

/** A disk as a node sees it (its template decides what the node gets). */
export function nodeRpcDisk(cfg: ClusterConfig, inst: InstanceObject, disk: DiskObject, node: NodeObject) {
  return strategyOf(disk, inst.disk_template).rpcDisk(cfg, disk, node);
}
