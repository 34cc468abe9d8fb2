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
    const target = this.target();
    const added = [...new Set(this.op.tags)].filter((t) => !target.tags.includes(t));
    // Checked before mutate() so a refused change leaves the live config untouched.
    if (target.tags.length + added.length > MAX_TAGS_PER_OBJECT) throw new OpExecError("Error while setting tag: Too many tags");
    await this.cfg.mutate(
      () => {
        target.tags.push(...added);
        this.cfg.touch(target);
      },
      { declared: true },
    );
    return null;
  }
}
