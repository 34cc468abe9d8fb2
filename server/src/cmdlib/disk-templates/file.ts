// file and sharedfile: one image file per disk in a directory named after
// the instance, under the cluster's (shared) file storage directory.
import { randomUUID } from "node:crypto";
import { diskTemplateInfo, type DiskObject, type InstanceObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { OpExecError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { errText } from "../common/messages.js";
import { SingleNodeStrategy } from "./single-node.js";
import type { DirMove, DiskGenerateRequest } from "./strategy.js";

/** Directory holding an instance's file-based disks (Ganeti's _CalculateFileStorageDir). */
export function instanceStorageDir(cfg: ClusterConfig, template: string, instanceName: string, subdir?: string | null): string {
  const base = template === "sharedfile" ? cfg.cluster.shared_file_storage_dir : cfg.cluster.file_storage_dir;
  return [base, subdir ?? "", instanceName]
    .filter((p) => p !== "")
    .join("/")
    .replace(/\/+/g, "/");
}

/** Directory of a file-based disk's image, null for other disks. */
export function diskDir(disk: DiskObject | undefined): string | null {
  if (!disk || !diskTemplateInfo(disk.dev_type)?.fileBased) return null;
  const p = String(disk.logical_id[1] ?? "");
  const i = p.lastIndexOf("/");
  return i > 0 ? p.slice(0, i) : null;
}

export class FileStrategy extends SingleNodeStrategy {
  constructor(readonly template: "file" | "sharedfile") {
    super();
  }

  generate(cfg: ClusterConfig, req: DiskGenerateRequest): DiskObject[] {
    const dir = diskDir(req.existing?.[0]) ?? instanceStorageDir(cfg, this.template, req.instanceName, req.storageSubdir);
    const now = cfg.now();
    return req.specs.map((s, i) => ({
      uuid: cfg.newUuid(),
      serial_no: 1,
      ctime: now,
      mtime: now,
      name: s.name,
      dev_type: this.template,
      size: s.size,
      mode: s.mode,
      spindles: s.spindles,
      logical_id: [req.fileDriver ?? "loop", `${dir}/${randomUUID()}.${this.template}.disk${req.baseIndex + i}`],
      nodes: [req.primary],
      iv_name: `disk/${req.baseIndex + i}`,
      params: {},
      instance: req.instanceUuid,
    }));
  }

  override storageDir(disk: DiskObject | undefined): string | null {
    return diskDir(disk);
  }

  /** The images' directory is named after the instance: it moves, and the paths with it. */
  override renameInConfig(cfg: ClusterConfig, disks: DiskObject[], newName: string): DirMove | null {
    const oldDir = diskDir(disks.find((d) => d.dev_type === this.template));
    if (!oldDir) return null;
    const newDir = `${oldDir.slice(0, oldDir.lastIndexOf("/"))}/${newName}`;
    for (const d of disks) {
      if (diskDir(d) !== oldDir) continue;
      const file = String(d.logical_id[1]).slice(oldDir.length + 1);
      d.logical_id = [d.logical_id[0], `${newDir}/${file}`];
      cfg.touch(d);
    }
    return { from: oldDir, to: newDir };
  }

  override async renameOnNodes(ctx: LuContext, inst: InstanceObject, move: DirMove): Promise<void> {
    if (move.from === move.to) return;
    const pnode = ctx.config.node(inst.primary_node);
    try {
      await ctx.rpc.call(pnode, "file_storage_dir_rename", { old_path: move.from, new_path: move.to });
    } catch (err) {
      throw new OpExecError(
        `Could not rename on node ${pnode.name} directory '${move.from}' to '${move.to}' (but the instance has been renamed in Ganeti): ${errText(err)}`,
        { cause: err },
      );
    }
  }
}
