// Ganeti-style hierarchical locks: levels are always acquired in the order of
// LOCK_LEVELS and every request within a level is granted all-or-nothing, so
// jobs cannot deadlock. A level can be locked whole ("all"), which conflicts
// with any lock on one of its objects. Queries never come here.
import { LOCK_LEVELS, type LockLevel, type LockSet } from "../cmdlib/base.js";
import { JobCanceledError } from "../lib/errors.js";

interface Holding {
  exclusive: string | null; // owner
  shared: Set<string>;
}
interface Waiter {
  owner: string;
  level: LockLevel;
  set: LockSet;
  priority: number;
  seq: number;
  grant: () => void;
  fail: (err: unknown) => void;
}

class LevelLocks {
  /** The whole-level lock ("all"). */
  readonly all: Holding = { exclusive: null, shared: new Set() };
  readonly names = new Map<string, Holding>();
  /** How many names each owner holds at this level (for "all" conflicts). */
  readonly nameOwners = new Map<string, { exclusive: number; shared: number }>();

  private holding(name: string): Holding {
    let h = this.names.get(name);
    if (!h) {
      h = { exclusive: null, shared: new Set() };
      this.names.set(name, h);
    }
    return h;
  }

  private static free(h: Holding | undefined, owner: string, shared: boolean): boolean {
    if (!h) return true;
    if (h.exclusive !== null && h.exclusive !== owner) return false;
    if (!shared && [...h.shared].some((o) => o !== owner)) return false;
    return true;
  }

  canGrant(owner: string, set: LockSet): boolean {
    if (!LevelLocks.free(this.all, owner, set.shared)) return false;
    if (set.names === "all") {
      for (const [o, c] of this.nameOwners) {
        if (o === owner) continue;
        if (!set.shared && c.exclusive + c.shared > 0) return false;
        if (set.shared && c.exclusive > 0) return false;
      }
      return true;
    }
    return set.names.every((n) => LevelLocks.free(this.names.get(n), owner, set.shared));
  }

  grant(owner: string, set: LockSet): void {
    if (set.names === "all") {
      if (set.shared) this.all.shared.add(owner);
      else this.all.exclusive = owner;
      return;
    }
    const count = this.nameOwners.get(owner) ?? { exclusive: 0, shared: 0 };
    for (const n of set.names) {
      const h = this.holding(n);
      if (set.shared) {
        if (!h.shared.has(owner)) count.shared++;
        h.shared.add(owner);
      } else {
        if (h.exclusive !== owner) count.exclusive++;
        h.exclusive = owner;
      }
    }
    this.nameOwners.set(owner, count);
  }

  release(owner: string): void {
    this.all.shared.delete(owner);
    if (this.all.exclusive === owner) this.all.exclusive = null;
    for (const [n, h] of this.names) {
      h.shared.delete(owner);
      if (h.exclusive === owner) h.exclusive = null;
      if (h.exclusive === null && h.shared.size === 0) this.names.delete(n);
    }
    this.nameOwners.delete(owner);
  }

  heldBy(owner: string): string[] {
    const out: string[] = [];
    for (const [n, h] of this.names) if (h.exclusive === owner || h.shared.has(owner)) out.push(n);
    return out.sort();
  }
}

export class LockManager {
  private readonly levels = new Map<LockLevel, LevelLocks>(LOCK_LEVELS.map((l) => [l, new LevelLocks()]));
  private waiters: Waiter[] = [];
  private seq = 0;

  private level(l: LockLevel): LevelLocks {
    return this.levels.get(l)!;
  }

  /**
   * Wait for a level's locks. Lower priority value = served first among
   * waiters that conflict with nothing held.
   */
  acquire(owner: string, level: LockLevel, set: LockSet, opts: { priority?: number; signal?: AbortSignal } = {}): Promise<void> {
    const names = set.names === "all" ? "all" : [...new Set(set.names)].sort();
    const norm: LockSet = { names, shared: set.shared };
    const lv = this.level(level);
    if (this.waiters.length === 0 && lv.canGrant(owner, norm)) {
      lv.grant(owner, norm);
      return Promise.resolve();
    }
    return new Promise<void>((resolve, reject) => {
      const w: Waiter = {
        owner,
        level,
        set: norm,
        priority: opts.priority ?? 0,
        seq: this.seq++,
        grant: resolve,
        fail: reject,
      };
      this.waiters.push(w);
      this.waiters.sort((a, b) => a.priority - b.priority || a.seq - b.seq);
      opts.signal?.addEventListener(
        "abort",
        () => {
          const i = this.waiters.indexOf(w);
          if (i >= 0) {
            this.waiters.splice(i, 1);
            w.fail(new JobCanceledError("Job canceled while waiting for locks"));
            this.pump();
          }
        },
        { once: true },
      );
      this.pump();
    });
  }

  releaseAll(owner: string): void {
    for (const lv of this.levels.values()) lv.release(owner);
    this.pump();
  }

  held(owner: string, level: LockLevel): string[] {
    return this.level(level).heldBy(owner);
  }

  /** Grant every waiter that conflicts with nothing held (in priority order). */
  private pump(): void {
    let granted = true;
    while (granted) {
      granted = false;
      for (let i = 0; i < this.waiters.length; i++) {
        const w = this.waiters[i]!;
        const lv = this.level(w.level);
        if (lv.canGrant(w.owner, w.set)) {
          lv.grant(w.owner, w.set);
          this.waiters.splice(i, 1);
          w.grant();
          granted = true;
          break;
        }
      }
    }
  }

  /** For the lock query resource. */
  snapshot(): Array<{ name: string; mode: "exclusive" | "shared"; owners: string[] }> {
    const out: Array<{ name: string; mode: "exclusive" | "shared"; owners: string[] }> = [];
    for (const [level, lv] of this.levels) {
      if (lv.all.exclusive) out.push({ name: `${level}/[lockset]`, mode: "exclusive", owners: [lv.all.exclusive] });
      else if (lv.all.shared.size) out.push({ name: `${level}/[lockset]`, mode: "shared", owners: [...lv.all.shared] });
      for (const [n, h] of lv.names) {
        if (h.exclusive) out.push({ name: `${level}/${n}`, mode: "exclusive", owners: [h.exclusive] });
        else if (h.shared.size) out.push({ name: `${level}/${n}`, mode: "shared", owners: [...h.shared] });
      }
    }
    return out.sort((a, b) => a.name.localeCompare(b.name));
  }
}
