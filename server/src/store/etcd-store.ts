// The store on etcd v3: every store key is one etcd key under a prefix
// (config objects and jobs separately), multi-key commits are etcd
// transactions, and a master's writes can be fenced by its leadership: once
// another master has been elected, every write of the old one is refused
// (compare on the leader key's create revision), so no write of a deposed
// master lands after the new one has read the state.
import { Etcd3, type IOptions, type Namespace } from "etcd3";
import { JobQueueError } from "../lib/errors.js";
import { checkKey, noSuchKey, type Store, type StoreOp } from "./store.js";

export const DEFAULT_ETCD_PREFIX = "ganeti/";

/** Writes (or reads) the replicated store cannot do now: no quorum, no member reachable. RAPI: 503. */
export class StoreUnavailableError extends JobQueueError {}

/** A write refused because this master is no longer the elected one. */
export class NotMasterError extends JobQueueError {}

export interface EtcdStoreOptions {
  /** Key prefix of this cluster (several clusters can share one etcd). */
  prefix?: string;
  /** Deadline of each request (ms); a store without quorum fails within it. */
  timeoutMs?: number;
  /** Most operations etcd accepts in one transaction (its --max-txn-ops; etcd's default is 128). */
  maxTxnOps?: number;
}

type Op = ReturnType<Namespace["put"]> | ReturnType<Namespace["delete"]>;

export class EtcdStore implements Store {
  readonly client: Etcd3;
  readonly ns: Namespace;
  private fence: { key: string; revision: string } | null = null;
  /** Called when a fenced write found another master elected. */
  onFenced: (() => void) | null = null;
  private readonly maxTxnOps: number;
  private readonly endpointsText: string;
  /** Writes waiting for the next transaction (group commit), and whether one is in flight. */
  private queued: Array<{ ops: StoreOp[]; resolve: () => void; reject: (err: unknown) => void }> = [];
  private flushing = false;

  constructor(
    readonly endpoints: string[],
    opts: EtcdStoreOptions = {},
  ) {
    const timeout = opts.timeoutMs ?? 5000;
    const options: IOptions = {
      hosts: endpoints,
      dialTimeout: timeout,
      defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    };
    this.client = new Etcd3(options);
    this.ns = this.client.namespace(opts.prefix ?? DEFAULT_ETCD_PREFIX);
    this.maxTxnOps = opts.maxTxnOps ?? 128;
    this.endpointsText = endpoints.join(",");
  }

  /**
   * Refuse every later write unless `key` still has this create revision
   * (the leader key this master created when elected). null: no fence.
   */
  setFence(fence: { key: string; revision: string } | null): void {
    this.fence = fence;
  }

  /** Any failure of an etcd request (gRPC error, timeout, the client's open circuit breaker): etcd is not usable now. */
  private unavailable(err: unknown): unknown {
    if (err instanceof StoreUnavailableError) return err;
    return new StoreUnavailableError(
      `Cluster store unavailable: etcd (${this.endpointsText}) did not answer (${err instanceof Error ? err.message : String(err)}); without a majority of etcd members, changes are refused until enough of them are back`,
      { cause: err },
    );
  }

  private async call<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.unavailable(err);
    }
  }

  /** One transaction: the fence (and `compares`) must hold, then all `ops` apply. */
  private async txn(
    ops: Op[],
    compares: Array<[string, "Create" | "Mod" | "Version", "==" | ">" | "<" | "!=", string | number]> = [],
  ): Promise<void> {
    const all = [...compares];
    if (this.fence) all.unshift([this.fence.key, "Create", "==", this.fence.revision]);
    // A compare that always holds when there is nothing to check: etcd wants a builder to start from.
    if (all.length === 0) all.push(["master/none", "Version", ">", -1]);
    const [first, ...rest] = all;
    let b = this.ns.if(first![0], first![1], first![2], first![3]);
    for (const c of rest) b = b.and(c[0], c[1], c[2], c[3]);
    const res = await this.call(() => b.then(...ops).commit());
    if (!res.succeeded) {
      if (this.fence) {
        const cur = await this.call(() => this.ns.get(this.fence!.key).exec());
        const kv = cur.kvs[0];
        if (!kv || String(kv.create_revision) !== this.fence.revision) {
          this.onFenced?.();
          throw new NotMasterError("This master is no longer the elected master of the cluster; the write was refused");
        }
      }
      throw Object.assign(new Error("store transaction lost a race"), { code: "ECONFLICT" });
    }
  }

  async get(key: string): Promise<Buffer | null> {
    checkKey(key);
    return this.call(() => this.ns.get(key).buffer());
  }

  async put(key: string, value: Buffer | string): Promise<void> {
    checkKey(key);
    await this.group([{ op: "put", key, value: typeof value === "string" ? value : Buffer.from(value) }]);
  }

  async delete(key: string): Promise<void> {
    checkKey(key);
    await this.group([{ op: "delete", key }]);
  }

  /**
   * Group commit: writes that arrive while a transaction is in flight go
   * together in the next one (job updates and config writes of concurrent
   * jobs: one etcd round trip for many). A key written twice in one batch
   * keeps its last write (etcd refuses a key twice in a transaction; the
   * batch applies atomically, so nobody could have seen the first). When a
   * batch fails for a reason other than fencing, each write is retried on
   * its own, so that one bad write fails only its caller.
   */
  private group(ops: StoreOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queued.push({ ops, resolve, reject });
      if (!this.flushing) void this.flushQueued();
    });
  }

  private async flushQueued(): Promise<void> {
    this.flushing = true;
    try {
      while (this.queued.length > 0) {
        const batch: typeof this.queued = [];
        let nOps = 0;
        let bytes = 0;
        while (this.queued.length > 0) {
          const next = this.queued[0]!;
          const size = next.ops.reduce((n, o) => n + o.key.length + (o.op === "put" ? o.value.length : 0), 0);
          // etcd's default request limit is 1.5 MiB: stay well below it unless a write is alone.
          if (batch.length > 0 && (nOps + next.ops.length > this.maxTxnOps || bytes + size > 1 << 20)) break;
          batch.push(this.queued.shift()!);
          nOps += next.ops.length;
          bytes += size;
        }
        const merged = new Map<string, StoreOp>();
        for (const b of batch) for (const o of b.ops) merged.set(o.key, o);
        try {
          await this.txn([...merged.values()].map((o) => this.built(o)));
          for (const b of batch) b.resolve();
        } catch (err) {
          if (batch.length === 1 || err instanceof NotMasterError || err instanceof StoreUnavailableError) {
            for (const b of batch) b.reject(err);
            continue;
          }
          for (const b of batch) {
            try {
              await this.txn(b.ops.map((o) => this.built(o)));
              b.resolve();
            } catch (e) {
              b.reject(e);
            }
          }
        }
      }
    } finally {
      this.flushing = false;
    }
  }

  private built(o: StoreOp): Op {
    return o.op === "put" ? this.ns.put(o.key).value(Buffer.from(o.value)) : this.ns.delete().key(o.key);
  }

  async list(prefix: string): Promise<string[]> {
    const keys = await this.call(() => this.ns.getAll().prefix(prefix).keys());
    return keys.sort();
  }

  async scan(prefix: string): Promise<Array<[string, Buffer]>> {
    const res = await this.call(() => this.ns.getAll().prefix(prefix).exec());
    return res.kvs
      .map((kv): [string, Buffer] => [kv.key.toString("utf8"), Buffer.from(kv.value)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  }

  async rename(from: string, to: string): Promise<void> {
    checkKey(from);
    checkKey(to);
    const cur = await this.call(() => this.ns.get(from).exec());
    const kv = cur.kvs[0];
    if (!kv) throw noSuchKey(from);
    // Only if `from` is unchanged since read: a concurrent writer makes this fail, not get lost.
    await this.txn(
      [this.ns.put(to).value(Buffer.from(kv.value)), this.ns.delete().key(from)],
      [[from, "Mod", "==", String(kv.mod_revision)]],
    );
  }

  async commit(ops: StoreOp[]): Promise<void> {
    for (const o of ops) checkKey(o.key);
    if (ops.length === 0) return;
    if (ops.length <= this.maxTxnOps) return this.group(ops);
    const built = ops.map((o) => this.built(o));
    // Larger than etcd takes in one transaction (only whole-config writes: init, migration): in chunks.
    for (let i = 0; i < built.length; i += this.maxTxnOps) await this.txn(built.slice(i, i + this.maxTxnOps));
  }

  /** Every key under `prefix` and the etcd revision the read saw (a watch from revision + 1 misses nothing). */
  async scanWithRevision(prefix: string): Promise<{ entries: Array<[string, Buffer]>; revision: number }> {
    const res = await this.call(() => this.ns.getAll().prefix(prefix).exec());
    const entries = res.kvs
      .map((kv): [string, Buffer] => [kv.key.toString("utf8"), Buffer.from(kv.value)])
      .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    return { entries, revision: Number(res.header.revision) };
  }

  /** How many keys are under `prefix` and the highest revision that changed one of them (0: none). */
  async prefixState(prefix: string): Promise<{ count: number; maxModRevision: number }> {
    // One range request: etcd's count is of the whole range, the limit only cuts the keys returned.
    const res = await this.call(() => this.ns.getAll().prefix(prefix).sort("Mod", "Descend").limit(1).exec());
    return { count: Number(res.count), maxModRevision: res.kvs[0] ? Number(res.kvs[0].mod_revision) : 0 };
  }

  /**
   * Every put (value) and delete (null) under `prefix` after `fromRevision`,
   * in revision order, with the revision of each; `onError`: the watch ended
   * (e.g. its start revision was compacted away).
   */
  async watchFrom(
    prefix: string,
    fromRevision: number,
    onChange: (key: string, value: Buffer | null, revision: number) => void,
    onError: (err: Error) => void,
  ): Promise<() => Promise<void>> {
    const w = await this.call(() => this.ns.watch().prefix(prefix).startRevision(String(fromRevision)).create());
    w.on("put", (kv) => onChange(kv.key.toString("utf8"), Buffer.from(kv.value), Number(kv.mod_revision)));
    w.on("delete", (kv) => onChange(kv.key.toString("utf8"), null, Number(kv.mod_revision)));
    w.on("error", onError);
    return () => w.cancel();
  }

  /** Call `onChange` for every later put or delete under `prefix` (standby masters). */
  async watch(prefix: string, onChange: (key: string, value: Buffer | null) => void): Promise<() => Promise<void>> {
    const w = await this.call(() => this.ns.watch().prefix(prefix).create());
    w.on("put", (kv) => onChange(kv.key.toString("utf8"), Buffer.from(kv.value)));
    w.on("delete", (kv) => onChange(kv.key.toString("utf8"), null));
    return () => w.cancel();
  }

  async close(): Promise<void> {
    this.client.close();
  }
}
