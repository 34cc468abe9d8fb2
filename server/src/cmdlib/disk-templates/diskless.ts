// diskless: an instance without disks; there is nothing to create or move.
import type { DiskObject } from "@ganeti-ts/schema";
import { SingleNodeStrategy } from "./single-node.js";

export class DisklessStrategy extends SingleNodeStrategy {
  readonly template = "diskless" as const;

  generate(): DiskObject[] {
    return [];
  }
}
