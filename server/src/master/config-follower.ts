// A standby master's copy of the config, kept current by an etcd watch on
// the config keys, so that a takeover does not read the whole config again.
// At takeover the copy is checked against etcd in one small request: once
// this candidate holds the leader key no other master can write, and the
// copy is current when it has applied every event up to the highest
// revision of a config key that still exists and holds as many keys as etcd
// (events after that revision can only be deletions, which the count sees).
// Anything else (the watch failed, it lags, the check cannot be made) falls
// back to reading the config from etcd.
import { CONFIG_PREFIX, ClusterConfig } from "../config/cluster-config.js";
import type { EtcdStore } from "../store/etcd-store.js";

export class ConfigFollower {
  private texts = new Map<string, string>();
  private revision = 0;
  private broken: string | null = "not started";
  private cancel: (() => Promise<void>) | null = null;
  private waiters: Array<() => void> = [];

  constructor(private readonly store: EtcdStore) {}

  /** Read the config keys once and follow every later change. */
  async start(): Promise<void> {
    const { entries, revision } = await this.store.scanWithRevision(CONFIG_PREFIX);
    this.texts = new Map(entries.map(([k, v]) => [k, v.toString("utf8")]));
    this.revision = revision;
    this.broken = null;
    this.cancel = await this.store.watchFrom(
      CONFIG_PREFIX,
      revision + 1,
      (key, value, rev) => {
        if (value === null) this.texts.delete(key);
        else this.texts.set(key, value.toString("utf8"));
        if (rev > this.revision) this.revision = rev;
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      },
      (err) => {
        this.broken = err.message;
      },
    );
  }

  /** The etcd revision up to which this copy has applied every config change. */
  get appliedRevision(): number {
    return this.revision;
  }

  /** How many config keys the copy holds. */
  get size(): number {
    return this.texts.size;
  }

  /**
   * The config from this copy when it matches etcd now (after waiting up to
   * `waitMs` for the watch to deliver what it lags behind), else null (the
   * caller reads the config from etcd). Call with the leader key held.
   */
  async takeover(waitMs = 2000): Promise<{ config: ClusterConfig | null; why: string }> {
    if (this.broken) return { config: null, why: `watch not usable: ${this.broken}` };
    const want = await this.store.prefixState(CONFIG_PREFIX);
    const until = Date.now() + waitMs;
    while (this.revision < want.maxModRevision && Date.now() < until && !this.broken) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.max(1, until - Date.now()));
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    if (this.broken) return { config: null, why: `watch not usable: ${this.broken}` };
    if (this.revision < want.maxModRevision)
      return { config: null, why: `copy at revision ${this.revision}, etcd's config at ${want.maxModRevision}` };
    if (this.texts.size !== want.count) return { config: null, why: `copy has ${this.texts.size} keys, etcd ${want.count}` };
    if (this.texts.size === 0) return { config: null, why: "no config keys" };
    return { config: ClusterConfig.fromTexts(this.store, this.texts), why: `copy current at revision ${this.revision}` };
  }

  async stop(): Promise<void> {
    const c = this.cancel;
    this.cancel = null;
    this.broken = "stopped";
    if (c) await c().catch(() => undefined);
  }
}
