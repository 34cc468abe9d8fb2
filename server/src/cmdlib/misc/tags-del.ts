// OP_TAGS_DEL: remove tags from an object; every tag must be present.
import type { OpTagsDel } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import { commaJoin } from "../common/node.js";
import { TagsLU, validateTag } from "./tags-common.js";

export class LUTagsDel extends TagsLU<OpTagsDel> {
  checkPrereq(): void {
    const target = this.target();
    for (const tag of this.op.tags) validateTag(tag);
    const missing = [...new Set(this.op.tags)].filter((t) => !target.tags.includes(t)).sort();
    if (missing.length > 0) throw new OpPrereqError(`Tag(s) ${commaJoin(missing.map((t) => `'${t}'`))} not found`, "unknown_entity");
  }
  async exec(): Promise<null> {
    await this.cfg.mutate(
      () => {
        const target = this.target();
        target.tags = target.tags.filter((t) => !this.op.tags.includes(t));
        this.cfg.touch(target);
      },
      { declared: true },
    );
    return null;
  }
}
