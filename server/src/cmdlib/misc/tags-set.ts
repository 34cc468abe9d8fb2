// OP_TAGS_SET: add tags to an object (adding a present tag is a no-op).
import type { OpTagsSet } from "@ganeti-ts/schema";
import { OpExecError } from "../../lib/errors.js";
import { MAX_TAGS_PER_OBJECT, TagsLU, validateTag } from "./tags-common.js";

export class LUTagsSet extends TagsLU<OpTagsSet> {
  checkPrereq(): void {
    this.target();
    for (const tag of this.op.tags) validateTag(tag);
  }
  async exec(): Promise<null> {
    await this.cfg.mutate(() => {
      const target = this.target();
      for (const tag of this.op.tags) {
        if (target.tags.includes(tag)) continue;
        if (target.tags.length >= MAX_TAGS_PER_OBJECT) throw new OpExecError("Error while setting tag: Too many tags");
        target.tags.push(tag);
      }
      this.cfg.touch(target);
    });
    return null;
  }
}
