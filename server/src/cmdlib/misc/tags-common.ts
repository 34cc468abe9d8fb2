// Shared part of the tag LUs (Ganeti's TagsLU): resolve the tagged object,
// lock it, validate tags.
import { MAX_TAG_LEN, MAX_TAGS_PER_OBJECT, TAG_REGEX } from "@ganeti-ts/schema";
import { OpPrereqError, TagError } from "../../lib/errors.js";
import { LogicalUnit, type LockDecl } from "../base.js";

type TagKind = "cluster" | "node" | "nodegroup" | "instance" | "network";
interface TagsOp {
  kind: TagKind;
  name?: string | null;
  use_locking?: boolean;
}
interface Taggable {
  tags: string[];
  serial_no: number;
  mtime: number | null;
}

/** Ganeti's TaggableObject.ValidateTag. */
export function validateTag(tag: unknown): void {
  if (typeof tag !== "string") throw new TagError("Invalid tag type (not a string)");
  if (tag.length > MAX_TAG_LEN) throw new TagError(`Tag too long (>${MAX_TAG_LEN} characters)`);
  if (!tag) throw new TagError("Tags cannot be empty");
  if (!TAG_REGEX.test(tag)) throw new TagError("Tag contains invalid characters");
}
export { MAX_TAGS_PER_OBJECT };

export abstract class TagsLU<Op extends TagsOp> extends LogicalUnit<Op> {
  protected uuid: string | null = null;

  expandNames(): LockDecl {
    const name = this.op.name ?? "";
    const locking = this.op.use_locking ?? true;
    const shared = this.sharedLocks();
    switch (this.op.kind) {
      case "node":
        this.uuid = this.cfg.expandNode(name).uuid;
        return locking ? { node: { names: [this.uuid], shared } } : {};
      case "instance":
        this.uuid = this.cfg.expandInstance(name).uuid;
        return locking ? { instance: { names: [this.uuid], shared } } : {};
      case "nodegroup":
        this.uuid = this.cfg.expandGroup(name).uuid;
        return locking ? { nodegroup: { names: [this.uuid], shared } } : {};
      case "network":
        this.uuid = this.cfg.expandNetwork(name).uuid;
        return locking ? { network: { names: [this.uuid], shared } } : {};
      case "cluster":
        return {};
      default:
        throw new OpPrereqError(`Wrong tag type requested (${String(this.op.kind)})`, "wrong_input");
    }
  }

  protected sharedLocks(): boolean {
    return false;
  }

  /** The tagged object in the live config (re-read: callers may be inside mutate()). */
  protected target(): Taggable {
    const d = this.data;
    const u = this.uuid ?? "";
    switch (this.op.kind) {
      case "cluster":
        return d.cluster;
      case "node":
        return this.cfg.node(u);
      case "instance":
        return this.cfg.instance(u);
      case "nodegroup":
        return this.cfg.group(u);
      case "network":
        return this.cfg.network(u);
    }
  }
}
