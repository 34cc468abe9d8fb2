// Protocol tests: the provider serialized by a real Pulumi program (under
// mocks, run with tsx as Pulumi runs TypeScript), then driven through
// Pulumi's own dynamic-provider host over its gRPC ResourceProvider service,
// as the engine does. The host talks to the RAPI fake over HTTP on loopback.
import { spawn, execFile, type ChildProcess } from "node:child_process";
import net from "node:net";
import { createRequire } from "node:module";
import { promisify } from "node:util";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeRapi, type FakeServer } from "./rapi-server.js";

const require = createRequire(import.meta.url);
const grpc = require("@grpc/grpc-js");
const provrpc = require("@pulumi/pulumi/proto/provider_grpc_pb.js");
const provproto = require("@pulumi/pulumi/proto/provider_pb.js");
const { Struct } = require("google-protobuf/google/protobuf/struct_pb.js");

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const ENV_PASSWORD = "env-pw-must-not-leak-7f3a";
const ENV_URL = "https://env-only-host.invalid:5080";
const CFG_PASSWORD = "cfg-pw-from-stack-config-91c2";
type Props = Record<string, any>;

let server: FakeServer;
let host: ChildProcess;
/** Stands in for the engine's gRPC address: the host watches that it still accepts connections. */
let engine: net.Server;
let client: any;
let serialized: { type: string; name: string; provider: string; inputs: Props }[];
const urn = (kind: string, name: string) => `urn:pulumi:dev::ganeti-test::pulumi-nodejs:dynamic/ganeti:${kind}::${name}`;

function rpc<T = any>(method: string, req: unknown): Promise<T> {
  return new Promise((resolve, reject) => client[method](req, (err: Error | null, res: T) => (err ? reject(err) : resolve(res))));
}

function providerOf(kind: string): string {
  const r = serialized.find((s) => s.type === `pulumi-nodejs:dynamic/ganeti:${kind}`);
  if (!r) throw new Error(`no ${kind} registered`);
  return r.provider;
}

async function check(kind: string, news: Props, olds: Props = {}): Promise<Props> {
  const req = new provproto.CheckRequest();
  req.setUrn(urn(kind, "r"));
  req.setOlds(Struct.fromJavaScript(olds));
  req.setNews(Struct.fromJavaScript({ ...news, __provider: providerOf(kind) }));
  const res = await rpc("check", req);
  expect(res.getFailuresList().map((f: any) => `${f.getProperty()}: ${f.getReason()}`)).toEqual([]);
  return res.getInputs().toJavaScript();
}

async function diff(kind: string, id: string, olds: Props, news: Props): Promise<{ changes: number; replaces: string[]; dbr: boolean }> {
  const req = new provproto.DiffRequest();
  req.setId(id);
  req.setUrn(urn(kind, "r"));
  req.setOlds(Struct.fromJavaScript(olds));
  req.setNews(Struct.fromJavaScript(news));
  const res = await rpc("diff", req);
  return { changes: res.getChanges(), replaces: res.getReplacesList(), dbr: res.getDeletebeforereplace() };
}

async function create(kind: string, props: Props): Promise<{ id: string; outs: Props }> {
  const req = new provproto.CreateRequest();
  req.setUrn(urn(kind, "r"));
  req.setProperties(Struct.fromJavaScript(props));
  const res = await rpc("create", req);
  return { id: res.getId(), outs: res.getProperties().toJavaScript() };
}

async function read(kind: string, id: string, props: Props): Promise<{ id: string; outs: Props; inputs: Props | undefined }> {
  const req = new provproto.ReadRequest();
  req.setId(id);
  req.setUrn(urn(kind, "r"));
  req.setProperties(Struct.fromJavaScript(props));
  const res = await rpc("read", req);
  return { id: res.getId(), outs: res.getProperties()?.toJavaScript() ?? {}, inputs: res.getInputs()?.toJavaScript() };
}

async function update(kind: string, id: string, olds: Props, news: Props): Promise<Props> {
  const req = new provproto.UpdateRequest();
  req.setId(id);
  req.setUrn(urn(kind, "r"));
  req.setOlds(Struct.fromJavaScript(olds));
  req.setNews(Struct.fromJavaScript(news));
  return (await rpc("update", req)).getProperties().toJavaScript();
}

async function del(kind: string, id: string, props: Props): Promise<void> {
  const req = new provproto.DeleteRequest();
  req.setId(id);
  req.setUrn(urn(kind, "r"));
  req.setProperties(Struct.fromJavaScript(props));
  await rpc("delete", req);
}

beforeAll(async () => {
  server = await startFakeRapi();

  // 1. Serialize, in a Pulumi program whose environment holds credentials.
  const { stdout } = await promisify(execFile)(path.join(ROOT, "node_modules/.bin/tsx"), ["test/provider/fixtures/serialize-program.ts"], {
    cwd: ROOT,
    env: {
      ...process.env,
      GANETI_RAPI_URL: ENV_URL,
      GANETI_RAPI_USER: "env-user",
      GANETI_RAPI_PASSWORD: ENV_PASSWORD,
      PULUMI_CONFIG: JSON.stringify({ "ganeti:url": ENV_URL, "ganeti:password": CFG_PASSWORD }),
    },
    maxBuffer: 16 * 1024 * 1024,
  });
  serialized = JSON.parse(stdout);

  // 2. Start Pulumi's dynamic-provider host as the engine does, with the address of a listening "engine".
  engine = net.createServer((s) => s.destroy());
  const enginePort = await new Promise<number>((r) => engine.listen(0, "127.0.0.1", () => r((engine.address() as net.AddressInfo).port)));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith("GANETI_RAPI_")) delete env[k];
  host = spawn(process.execPath, ["node_modules/@pulumi/pulumi/cmd/dynamic-provider", `127.0.0.1:${enginePort}`], {
    cwd: ROOT,
    env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stderr = "";
  host.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
  const port = await new Promise<number>((resolve, reject) => {
    let out = "";
    host.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /^(\d+)\s*$/m.exec(out);
      if (m) resolve(Number(m[1]));
    });
    host.on("exit", (code) => reject(new Error(`dynamic-provider host exited (${code}): ${stderr}`)));
  });
  client = new provrpc.ResourceProviderClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());

  // 3. The engine's Configure call: the stack config, namespaced, password as a secret.
  const req = new provproto.ConfigureRequest();
  req.setArgs(
    Struct.fromJavaScript({
      "ganeti:url": server.url,
      "ganeti:user": "admin",
      "ganeti:password": { "4dabf18193072939515e22adb298388d": "1b47061264138c4ac30d75fd1eb44270", value: CFG_PASSWORD },
    }),
  );
  await rpc("configure", req);
});

afterAll(async () => {
  client?.close();
  if (host && host.exitCode === null) {
    const exited = new Promise((r) => host.once("exit", r));
    host.kill("SIGTERM");
    await exited;
  }
  await server?.close();
  if (engine?.listening) await new Promise((r) => engine.close(r));
});

describe("serialization (pulumi.dynamic.Resource → __provider)", () => {
  it("registers the three type tokens", () => {
    expect(serialized.map((s) => s.type).sort()).toEqual([
      "pulumi-nodejs:dynamic/ganeti:Instance",
      "pulumi-nodejs:dynamic/ganeti:Network",
      "pulumi-nodejs:dynamic/ganeti:NodeGroup",
    ]);
  });

  it("captures no credential, URL or client: only the kind and a loader", () => {
    for (const s of serialized) {
      expect(s.provider).toContain("exports.handler");
      for (const secret of [ENV_PASSWORD, ENV_URL, CFG_PASSWORD, "env-user", "env-only-host"]) expect(s.provider).not.toContain(secret);
      expect(s.provider).not.toMatch(/GanetiClient|axios|Authorization/);
      expect(s.provider.length).toBeLessThan(8_000);
    }
  });

  it("declares outputs for registration", () => {
    const inst = serialized.find((s) => s.type.endsWith(":Instance"))!;
    expect(inst.inputs).toMatchObject({ name: "vm1.example.com", memory: 128 });
  });
});

describe("dynamic-provider host gRPC", () => {
  const program = {
    name: "web1.example.com",
    diskTemplate: "file",
    disks: [{ size: "1G" }],
    nics: [{ link: "br0" }],
    os: "noop",
    memory: 512,
    tags: ["b", "a"],
  };

  it("Check → Create → Diff (none) → Read → Update → Diff (replace) → Delete, with credentials from Configure", async () => {
    const inputs = await check("Instance", program);
    expect(inputs).toMatchObject({ minMemory: 512, maxMemory: 512, disks: [{ size: 1024, mode: "rw" }], tags: ["a", "b"] });
    expect(inputs.__provider).toBe(providerOf("Instance"));

    const { id, outs } = await create("Instance", inputs);
    expect(id).toBe("web1.example.com");
    expect(outs).toMatchObject({ uuid: expect.any(String), status: "running", primaryNode: "node1.example.com" });
    expect(outs.__provider).toBe(providerOf("Instance"));
    expect(server.fake.instances.has(id)).toBe(true);
    // The host used the stack config's credentials, not the environment's.
    const basic = `Basic ${Buffer.from(`admin:${CFG_PASSWORD}`).toString("base64")}`;
    expect(server.auths.every((a) => a === basic)).toBe(true);

    const none = await diff("Instance", id, outs, await check("Instance", program, outs));
    expect(none.changes).toBe(provproto.DiffResponse.DiffChanges.DIFF_NONE);

    server.fake.instances.get(id)!.beparams.maxmem = 2048; // out-of-band change
    const r = await read("Instance", id, outs);
    expect(r.id).toBe(id);
    expect(r.outs.maxMemory).toBe(2048);
    expect(r.inputs?.maxMemory).toBe(2048);

    const news = await check("Instance", { ...program, memory: 1024 }, r.outs);
    const some = await diff("Instance", id, r.outs, news);
    expect(some).toMatchObject({ changes: provproto.DiffResponse.DiffChanges.DIFF_SOME, replaces: [] });
    const updated = await update("Instance", id, r.outs, news);
    expect(updated).toMatchObject({ maxMemory: 1024, minMemory: 1024 });

    const shrink = await diff("Instance", id, updated, await check("Instance", { ...program, memory: 1024, disks: [{ size: 512 }] }));
    expect(shrink).toMatchObject({ changes: provproto.DiffResponse.DiffChanges.DIFF_SOME, replaces: ["disks"], dbr: true });

    await del("Instance", id, updated);
    expect(server.fake.instances.has(id)).toBe(false);
  });

  it("a failed job reaches the engine with the job id and Ganeti's message", async () => {
    server.fake.failNext(/POST \/2\/groups$/, "OpPrereqError", "Group name clashes with node", "invalid");
    const inputs = await check("NodeGroup", { name: "g1" });
    await expect(create("NodeGroup", inputs)).rejects.toThrow(
      /creating group g1 failed: Job \d+ failed .*Group name clashes with node \[invalid\]/,
    );
  });

  it("NodeGroup and Network work through the host too", async () => {
    const g = await create("NodeGroup", await check("NodeGroup", { name: "g2", nodes: ["node2.example.com"], tags: ["t"] }));
    expect(g.outs).toMatchObject({ nodes: ["node2.example.com"], nodeList: ["node2.example.com"], tags: ["t"] });
    const n = await create(
      "Network",
      await check("Network", {
        name: "lan",
        subnet: "192.0.2.0/24",
        gateway: "192.0.2.1",
        connections: [{ group: "g2", mode: "bridged", link: "br0" }],
      }),
    );
    expect(n.outs).toMatchObject({ reservedIps: [], connections: [{ group: "g2", mode: "bridged", link: "br0" }] });
    await del("Network", n.id, n.outs);
    server.fake.nodeGroup.set("node2.example.com", "default");
    await del("NodeGroup", g.id, g.outs);
    expect(server.fake.networks.size).toBe(0);
    expect(server.fake.groups.has("g2")).toBe(false);
  });

  it("the host ends itself once the engine is gone (no host left behind by an engine that did not end it)", async () => {
    expect(host.exitCode).toBeNull();
    let stderr = "";
    host.stderr?.on("data", (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => host.once("exit", (code) => r(code)));
    await new Promise((r) => engine.close(r));
    // The watch checks every 2 s and needs two refusals in a row; the wait is generous for a loaded machine.
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([exited, new Promise<"still running">((r) => (timer = setTimeout(() => r("still running"), 60_000)))]);
    clearTimeout(timer);
    expect(code).toBe(0);
    expect(stderr).toMatch(/ganeti-ts provider: the Pulumi engine at 127\.0\.0\.1:\d+ is gone; exiting/);
  }, 90_000);
});
