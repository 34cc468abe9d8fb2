// The disk strategies this implementation has, by template. A template is
// creatable here exactly when it has a strategy; its facts are its row in
// schema's DISK_TEMPLATE_INFO.
import type { DiskObject, DiskTemplate } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { DisklessStrategy } from "./diskless.js";
import { DrbdStrategy } from "./drbd.js";
import { FileStrategy } from "./file.js";
import { PlainStrategy } from "./plain.js";
import { SingleNodeStrategy } from "./single-node.js";
import type { DiskStrategy } from "./strategy.js";

const STRATEGIES: Partial<Record<DiskTemplate, DiskStrategy>> = {
  diskless: new DisklessStrategy(),
  file: new FileStrategy("file"),
  sharedfile: new FileStrategy("sharedfile"),
  plain: new PlainStrategy(),
  drbd: new DrbdStrategy(),
};

/** Templates this implementation can create disks for. */
export const SUPPORTED_TEMPLATES: readonly string[] = Object.keys(STRATEGIES);

export function hasDiskStrategy(template: string): boolean {
  return Object.hasOwn(STRATEGIES, template);
}

function unsupported(template: string): OpPrereqError {
  return new OpPrereqError(`Disk template '${template}' is not supported by this cluster implementation`, "wrong_input");
}

/** A template's strategy; OpPrereqError (wrong_input) when this implementation has none. */
export function diskStrategy(template: string): DiskStrategy {
  const s = Object.hasOwn(STRATEGIES, template) ? STRATEGIES[template as DiskTemplate] : undefined;
  if (!s) throw unsupported(template);
  return s;
}

/**
 * A disk of a template without a strategy (in a config this implementation
 * did not write) still gets the plain node calls on the nodes holding it, so
 * that it can be shut down, assembled or removed; nothing new is made of it.
 */
class UnsupportedTemplateSteps extends SingleNodeStrategy {
  constructor(readonly template: DiskTemplate) {
    super();
  }
  generate(): DiskObject[] {
    throw unsupported(this.template);
  }
}

/** The node steps for an existing disk: its template's strategy, else the plain calls. */
export function diskSteps(template: string): DiskStrategy {
  return Object.hasOwn(STRATEGIES, template)
    ? STRATEGIES[template as DiskTemplate]!
    : new UnsupportedTemplateSteps(template as DiskTemplate);
}
