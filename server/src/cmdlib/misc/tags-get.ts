// OP_TAGS_GET: the tags of an object.
import type { OpTagsGet } from "@ganeti-ts/schema";
import { TagsLU } from "./tags-common.js";

export class LUTagsGet extends TagsLU<OpTagsGet> {
  protected override sharedLocks(): boolean {
    return true;
  }
  checkPrereq(): void {
    this.target();
  }
  async exec(): Promise<string[]> {
    return [...this.target().tags];
  }
}
