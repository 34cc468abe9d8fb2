// plain: one volume per disk in the cluster's volume group on the primary
// (Ganeti's LVM logical volume; on nodes without LVM an image file in the
// group's directory). logical_id is [volume group, volume name].
import type { DiskObject } from "@ganeti-ts/schema";
import type { ClusterConfig } from "../../config/cluster-config.js";
import { OpPrereqError } from "../../lib/errors.js";
import { SingleNodeStrategy } from "./single-node.js";
import type { DiskGenerateRequest } from "./strategy.js";

export class PlainStrategy extends SingleNodeStrategy {
  readonly template = "plain" as const;

  generate(cfg: ClusterConfig, req: DiskGenerateRequest): DiskObject[] {
    const vg = cfg.cluster.volume_group_name;
    if (!vg) throw new OpPrereqError("Cluster does not support lvm-based instances (no volume group is set)", "wrong_input");
    const now = cfg.now();
    return req.specs.map((s, i) => ({
      uuid: cfg.newUuid(),
      serial_no: 1,
      ctime: now,
      mtime: now,
      name: s.name,
      dev_type: "plain",
      size: s.size,
      mode: s.mode,
      spindles: s.spindles,
      // Ganeti's volume names: a unique id and the disk's index.
      logical_id: [vg, `${cfg.newUuid()}.disk${req.baseIndex + i}`],
      nodes: [req.primary],
      iv_name: `disk/${req.baseIndex + i}`,
      params: {},
      instance: req.instanceUuid,
    }));
  }
}
