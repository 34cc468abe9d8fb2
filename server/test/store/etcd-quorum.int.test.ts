// Three etcd members on 127.0.0.21-23 (free ports): losing one changes
// nothing; losing two refuses writes with a clear error; they resume once a
// second member is back.
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { EtcdStore, StoreUnavailableError } from "../../src/store/etcd-store.js";
import { localEtcdSpecs, startEtcdMember, waitEtcdHealthy, type EtcdMember, type EtcdMemberSpec } from "../../src/store/etcd-member.js";

let dir: string;
let specs: EtcdMemberSpec[];
const members: EtcdMember[] = [];
const token = `q-${randomBytes(4).toString("hex")}`;
let store: EtcdStore;

function start(i: number, state: "new" | "existing") {
  return startEtcdMember(specs[i]!, specs, { dataDir: path.join(dir, `m${i}`), state, token });
}

beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), "gts-etcdq-"));
  specs = await localEtcdSpecs(["127.0.0.21", "127.0.0.22", "127.0.0.23"]);
  for (let i = 0; i < 3; i++) members[i] = await start(i, "new");
  for (const m of members) await waitEtcdHealthy(m.url, 120_000);
  store = new EtcdStore(
    members.map((m) => m.url),
    { timeoutMs: 3000 },
  );
}, 180_000);

afterAll(async () => {
  await store?.close();
  for (const m of members) await m?.stop("SIGKILL");
  if (dir) await rm(dir, { recursive: true, force: true });
}, 60_000);

/** Retry while etcd elects a new leader (a write may time out during the election). */
async function eventually<T>(fn: () => Promise<T>, tries = 20): Promise<T> {
  for (let i = 1; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (i >= tries) throw err;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

it("keeps taking writes with one member down, refuses them with two down, resumes after", async () => {
  await store.commit([{ op: "put", key: "config/a", value: "1" }]);

  await members[0]!.stop("SIGKILL");
  await eventually(() => store.commit([{ op: "put", key: "config/a", value: "2" }]));
  expect((await store.get("config/a"))!.toString()).toBe("2");

  await members[1]!.stop("SIGKILL");
  const err = await store.commit([{ op: "put", key: "config/a", value: "3" }]).then(
    () => null,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StoreUnavailableError);
  expect((err as Error).message).toMatch(/Cluster store unavailable.*majority of etcd members/);

  members[1] = await start(1, "existing");
  await waitEtcdHealthy(members[1].url, 120_000);
  await eventually(() => store.commit([{ op: "put", key: "config/a", value: "4" }]));
  expect((await store.get("config/a"))!.toString()).toBe("4");
}, 240_000);
