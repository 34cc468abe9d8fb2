// A stateful fake of the RAPI endpoints the provider uses, as nock
// interceptors (no socket). Objects have the shapes of the Ganeti 3.0.2
// captures; every change is a job whose outcome tests can steer
// (failNext, hang). Not a Ganeti reimplementation: just enough state for the
// provider's create/read/update/delete flows and out-of-band edits.
import nock from "nock";
import { afterEach, beforeEach, expect } from "vitest";
import { setConfig } from "../../src/core/client.js";

export const BASE = "https://127.0.0.1:5080";
type Obj = Record<string, any>;
type Encoded = [string, [string, string]];

export interface Submitted {
  method: string;
  path: string;
  body: Obj;
  query: URLSearchParams;
}

export class FakeRapi {
  instances = new Map<string, Obj>();
  groups = new Map<string, Obj>();
  networks = new Map<string, Obj>();
  nodeGroup = new Map<string, string>([
    ["node1.example.com", "default"],
    ["node2.example.com", "default"],
  ]);
  jobs = new Map<number, Obj>();
  defaultHypervisor = "fake";
  submitted: Submitted[] = [];
  unmatched: string[] = [];
  private nextJob = 1;
  private seq = 0;
  private failures: { match: RegExp; error: Encoded }[] = [];
  private hangs: RegExp[] = [];

  constructor() {
    this.groups.set("default", this.newGroup("default", {}));
  }

  /** The next job whose `METHOD path` matches fails with this Ganeti error. */
  failNext(match: RegExp, errorClass = "OpPrereqError", message = "injected failure", ecode = "wrong_state"): void {
    this.failures.push({ match, error: [errorClass, [message, ecode]] });
  }

  /** Jobs matching stay "running" forever. */
  hang(match: RegExp): void {
    this.hangs.push(match);
  }

  /** `GET /2/info`: what the provider reads of it is the default hypervisor; the rest only has to be well formed. */
  clusterInfo(): Obj {
    const hv = this.defaultHypervisor;
    return {
      ...{ software_version: "3.0.2", protocol_version: 3000000, config_version: 3000000, os_api_version: 20, export_version: 0 },
      ...{ vcs_version: "(ganeti) version v3.0.2", architecture: ["64bit", "x86_64"], name: "cluster.example.com" },
      ...{ master: "node1.example.com", default_hypervisor: hv, enabled_hypervisors: [hv], hvparams: { [hv]: {} }, os_hvp: {} },
      ...{ beparams: { default: {} }, osparams: {}, ipolicy: {}, nicparams: { default: {} }, ndparams: {}, diskparams: {} },
      ...{ candidate_pool_size: 10, mac_prefix: "aa:00:00", master_netdev: "eth0", master_netmask: 32 },
      ...{ use_external_mip_script: false, volume_group_name: null, drbd_usermode_helper: null, file_storage_dir: null },
      ...{ shared_file_storage_dir: null, maintain_node_health: false, ctime: null, mtime: null, uuid: this.uuid(), tags: [] },
      ...{ uid_pool: [], default_iallocator: "hail", default_iallocator_params: {}, reserved_lvs: [], primary_ip_version: 4 },
      ...{ prealloc_wipe_disks: false, hidden_os: [], blacklisted_os: [], enabled_disk_templates: ["file", "sharedfile"] },
    };
  }

  /** Submitted job paths (`PUT /2/instances/x/modify`), in order. */
  calls(): string[] {
    return this.submitted.map((s) => `${s.method} ${s.path}`);
  }

  install(): void {
    const scope = nock(BASE).persist();
    for (const m of ["get", "post", "put", "delete"] as const) {
      scope[m](() => true)
        .query(true)
        .reply((uri, body) => this.handle(m.toUpperCase(), uri, body));
    }
  }

  private uuid(): string {
    this.seq++;
    return `00000000-0000-4000-8000-${String(this.seq).padStart(12, "0")}`;
  }

  private now(): number {
    return 1_700_000_000 + this.seq++;
  }

  private newGroup(name: string, b: Obj): Obj {
    return {
      name,
      alloc_policy: b.alloc_policy ?? "preferred",
      node_cnt: 0,
      node_list: [],
      ipolicy: { ...(b.ipolicy ?? {}) },
      custom_ipolicy: { ...(b.ipolicy ?? {}) },
      diskparams: { drbd: { "resync-rate": 61440, ...(b.diskparams?.drbd ?? {}) }, ...(b.diskparams ?? {}) },
      custom_diskparams: b.diskparams ?? {},
      ndparams: { oob_program: "", spindle_count: 1, exclusive_storage: false, ssh_port: 22, ...(b.ndparams ?? {}) },
      custom_ndparams: b.ndparams ?? {},
      ctime: this.now(),
      mtime: this.now(),
      uuid: this.uuid(),
      serial_no: 1,
      tags: [],
    };
  }

  private groupView(g: Obj): Obj {
    const nodes = [...this.nodeGroup]
      .filter(([, gr]) => gr === g.name)
      .map(([n]) => n)
      .sort();
    return { ...g, node_list: nodes, node_cnt: nodes.length };
  }

  /** Answer one request (used by nock here, and by an HTTP server in the protocol tests). */
  handle(method: string, uri: string, rawBody: unknown): [number, unknown] {
    const url = new URL(uri, BASE);
    const path = decodeURIComponent(url.pathname);
    const body = (typeof rawBody === "string" && rawBody ? JSON.parse(rawBody) : rawBody || {}) as Obj;
    const seg = path.split("/").filter(Boolean); // ["2", "instances", name, verb]
    const notFound = (what: string): [number, unknown] => [404, { code: 404, message: `${what} not known`, explain: "" }];

    if (method === "GET" && seg[1] === "jobs") {
      const job = this.jobs.get(Number(seg[2]));
      if (!job)
        return [
          200,
          {
            id: Number(seg[2]),
            ops: null,
            status: null,
            summary: null,
            opstatus: null,
            opresult: null,
            oplog: null,
            received_ts: null,
            start_ts: null,
            end_ts: null,
          },
        ];
      if (seg[3] === "wait") {
        return [200, ["success", "error"].includes(job.status) ? { job_info: [job.status], log_entries: [] } : null];
      }
      return [200, job];
    }
    if (method === "GET" && path === "/2/info") return [200, this.clusterInfo()];
    if (method === "GET") {
      const [, kind, name, sub] = seg;
      const map = kind === "instances" ? this.instances : kind === "groups" ? this.groups : kind === "networks" ? this.networks : undefined;
      if (!map || !name) return this.miss(method, path);
      const o = map.get(name);
      if (!o) return notFound(`${kind} '${name}'`);
      if (sub === "tags") return [200, o.tags];
      if (kind === "instances" && sub === "console") {
        // As Ganeti: only a running instance has a console.
        if (o.status !== "running") return [503, { code: 503, message: "Instance console unavailable", explain: "" }];
        return [200, { instance: name, kind: "msg", message: `console of ${name} on ${o.pnode}` }];
      }
      return [200, kind === "groups" ? this.groupView(o) : kind === "networks" ? this.networkView(o) : structuredClone(o)];
    }
    return this.submit(method, path, body, url.searchParams, seg);
  }

  private miss(method: string, path: string): [number, unknown] {
    this.unmatched.push(`${method} ${path}`);
    return [501, { code: 501, message: `fake: ${method} ${path} not implemented`, explain: "" }];
  }

  private submit(method: string, path: string, body: Obj, query: URLSearchParams, seg: string[]): [number, unknown] {
    this.submitted.push({ method, path, body, query });
    const key = `${method} ${path}`;
    const id = this.nextJob++;
    const job: Obj = {
      id,
      ops: [{ OP_ID: "OP_FAKE" }],
      status: "success",
      summary: [key],
      opstatus: ["success"],
      opresult: [null],
      oplog: [[]],
      received_ts: [0, 0],
      start_ts: [0, 0],
      end_ts: [0, 0],
    };
    this.jobs.set(id, job);
    if (this.hangs.some((h) => h.test(key))) {
      job.status = "running";
      job.opstatus = ["running"];
      return [200, id];
    }
    const fi = this.failures.findIndex((f) => f.match.test(key));
    if (fi >= 0) {
      const [f] = this.failures.splice(fi, 1);
      this.fail(job, f!.error);
      return [200, id];
    }
    try {
      job.opresult = [this.apply(method, seg, body, query)];
    } catch (err) {
      if (err instanceof FakeJobError) this.fail(job, err.encoded);
      else throw err;
    }
    return [200, id];
  }

  private fail(job: Obj, e: Encoded): void {
    job.status = "error";
    job.opstatus = ["error"];
    job.opresult = [e];
  }

  // ---------------------------------------------------------------- mutations

  private apply(method: string, seg: string[], b: Obj, q: URLSearchParams): unknown {
    const [, kind, name, verb, arg, verb2] = seg;
    if (kind === "instances" && method === "POST" && !name) return this.createInstance(b);
    if (kind === "groups" && method === "POST" && !name) {
      const gname = b.group_name ?? b.name;
      if (this.groups.has(gname)) throw jobError(`Group '${gname}' already exists`, "exists");
      this.groups.set(gname, this.newGroup(gname, b));
      return null;
    }
    if (kind === "networks" && method === "POST" && !name) {
      this.networks.set(b.network_name, {
        name: b.network_name,
        network: b.network,
        gateway: b.gateway ?? null,
        network6: b.network6 ?? null,
        gateway6: b.gateway6 ?? null,
        mac_prefix: b.mac_prefix ?? null,
        reserved: [...(b.add_reserved_ips ?? [])],
        group_list: [],
        ctime: this.now(),
        mtime: this.now(),
        uuid: this.uuid(),
        serial_no: 1,
        tags: [...(b.tags ?? [])],
      });
      return null;
    }
    const map = kind === "instances" ? this.instances : kind === "groups" ? this.groups : this.networks;
    const o = name ? map.get(name) : undefined;
    if (!o || !name) throw jobError(`${kind} '${name}' not known`, "unknown_entity");
    const touch = () => {
      o.mtime = this.now();
      o.serial_no++;
    };
    if (verb === "tags") {
      const tags = q.getAll("tag");
      if (method === "PUT") o.tags = [...new Set([...o.tags, ...tags])];
      else {
        for (const t of tags) if (!o.tags.includes(t)) throw jobError(`Tag(s) '${t}' not found`, "not_found");
        o.tags = o.tags.filter((t: string) => !tags.includes(t));
      }
      touch();
      return null;
    }
    if (method === "DELETE") {
      if (kind === "groups" && this.groupView(o).node_cnt > 0) throw jobError("Group still has nodes", "wrong_state");
      if (kind === "networks" && o.group_list.length) throw jobError("Network is connected", "wrong_state");
      map.delete(name);
      return null;
    }
    if (kind === "instances") return this.instanceVerb(o, verb, arg, verb2, b, q, touch);
    if (kind === "groups") {
      if (verb === "rename") {
        map.delete(name);
        o.name = b.new_name;
        map.set(b.new_name, o);
        for (const [n, g] of this.nodeGroup) if (g === name) this.nodeGroup.set(n, b.new_name);
        return b.new_name;
      }
      if (verb === "modify") {
        if (b.alloc_policy) o.alloc_policy = b.alloc_policy;
        if (b.ipolicy) o.custom_ipolicy = o.ipolicy = { ...b.ipolicy };
        if (b.ndparams) {
          for (const [k, v] of Object.entries(b.ndparams)) {
            if (v === "default") delete o.custom_ndparams[k];
            else o.custom_ndparams[k] = o.ndparams[k] = v;
          }
        }
        if (b.diskparams) o.custom_diskparams = b.diskparams;
      }
      if (verb === "assign-nodes") for (const n of b.nodes) this.nodeGroup.set(n, name);
      touch();
      return [];
    }
    // networks
    if (verb === "modify") {
      for (const k of ["gateway", "network6", "gateway6", "mac_prefix"]) if (k in b) o[k] = b[k];
      o.reserved = [...o.reserved.filter((ip: string) => !(b.remove_reserved_ips ?? []).includes(ip)), ...(b.add_reserved_ips ?? [])];
    } else if (verb === "connect") {
      o.group_list.push([b.group_name, b.network_mode, b.network_link, b.network_vlan ?? ""]);
    } else if (verb === "disconnect") {
      o.group_list = o.group_list.filter((g: string[]) => g[0] !== b.group_name);
    }
    touch();
    return null;
  }

  private networkView(o: Obj): Obj {
    const [ip, bits] = o.network.split("/");
    const size = 2 ** (32 - Number(bits));
    const n = ip.split(".").reduce((a: number, x: string) => a * 256 + Number(x), 0);
    const toIp = (v: number) => [24, 16, 8, 0].map((s) => Math.floor(v / 2 ** s) % 256).join(".");
    const ext = [toIp(n), ...o.reserved, toIp(n + size - 1)];
    const { reserved: _r, ...rest } = o;
    return {
      ...rest,
      free_count: size - ext.length,
      reserved_count: ext.length,
      map: "",
      inst_list: [],
      external_reservations: ext.join(", "),
      group_list: o.group_list.map((g: string[]) => [...g]),
    };
  }

  private mac(): string {
    this.seq++;
    return `aa:00:00:00:00:${(this.seq % 256).toString(16).padStart(2, "0")}`;
  }

  private nicArrays(nics: Obj[]): Obj {
    return {
      "nic.ips": nics.map((n) => n.ip ?? null),
      "nic.macs": nics.map((n) => n.mac),
      "nic.modes": nics.map((n) => n.mode),
      "nic.uuids": nics.map((n) => n.uuid),
      "nic.names": nics.map((n) => n.name ?? null),
      "nic.links": nics.map((n) => n.link),
      "nic.networks": nics.map((n) => (n.network ? (this.networks.get(n.network)?.uuid ?? null) : null)),
      "nic.networks.names": nics.map((n) => n.network ?? null),
      "nic.bridges": nics.map((n) => (n.mode === "bridged" ? n.link : null)),
    };
  }

  private diskArrays(disks: Obj[]): Obj {
    return {
      "disk.sizes": disks.map((d) => d.size),
      "disk.spindles": disks.map(() => null),
      "disk.uuids": disks.map((d) => d.uuid),
      "disk.names": disks.map((d) => d.name ?? null),
      disk_usage: disks.reduce((a, d) => a + d.size, 0),
    };
  }

  private makeNic(p: Obj): Obj {
    let ip = p.ip ?? null;
    if (ip === "pool") ip = `192.0.2.${10 + (this.seq++ % 200)}`;
    const conn = p.network ? this.networks.get(p.network)?.group_list[0] : undefined;
    return {
      ip,
      mac: !p.mac || p.mac === "auto" || p.mac === "generate" ? this.mac() : p.mac,
      mode: p.mode ?? conn?.[1] ?? "bridged",
      link: p.link ?? conn?.[2] ?? "br0",
      name: p.name ?? null,
      network: p.network ?? null,
      uuid: this.uuid(),
    };
  }

  /** Recompute the derived arrays after a change to `o._disks` / `o._nics`. */
  private sync(o: Obj): void {
    Object.assign(o, this.nicArrays(o._nics), this.diskArrays(o._disks));
    o.beparams.memory = o.beparams.maxmem;
    o.status = o.admin_state === "up" ? "running" : "ADMIN_down";
    o.oper_state = o.admin_state === "up";
    // A started instance gets its maximum memory; runtime_mem (the balloon) changes it while it runs.
    if (!o.oper_state) o.oper_ram = null;
    else if (o.oper_ram === null) o.oper_ram = o.beparams.maxmem;
  }

  private createInstance(b: Obj): null {
    const name = b.instance_name ?? b.name;
    if (this.instances.has(name)) throw jobError(`Instance '${name}' is already in the cluster`, "exists");
    const be = b.beparams ?? {};
    const o: Obj = {
      name,
      admin_state: b.start === false ? "down" : "up",
      os: b.os_type,
      pnode: b.pnode ?? "node1.example.com",
      snodes: b.disk_template === "drbd" ? [b.snode ?? "node2.example.com"] : [],
      disk_template: b.disk_template,
      network_port: null,
      beparams: {
        minmem: be.minmem ?? be.memory ?? 128,
        maxmem: be.maxmem ?? be.memory ?? 128,
        vcpus: be.vcpus ?? 1,
        auto_balance: be.auto_balance ?? true,
        always_failover: be.always_failover ?? false,
        spindle_use: 1,
      },
      hvparams: { kernel_path: "", ...(b.hvparams ?? {}) },
      osparams: { ...(b.osparams ?? {}) },
      oper_ram: null,
      oper_vcpus: null,
      custom_hvparams: { ...(b.hvparams ?? {}) },
      custom_beparams: { ...be },
      custom_nicparams: [],
      ctime: this.now(),
      mtime: this.now(),
      uuid: this.uuid(),
      serial_no: 1,
      tags: [...(b.tags ?? [])],
      _disks: (b.disks ?? []).map((d: Obj) => ({ size: d.size, name: d.name, uuid: this.uuid() })),
      _nics: (b.nics ?? []).map((n: Obj) => this.makeNic(n)),
    };
    this.sync(o);
    this.instances.set(name, o);
    return null;
  }

  private instanceVerb(
    o: Obj,
    verb: string | undefined,
    arg: string | undefined,
    verb2: string | undefined,
    b: Obj,
    q: URLSearchParams,
    touch: () => void,
  ): unknown {
    const name = o.name as string;
    switch (verb) {
      case "rename":
        this.instances.delete(name);
        o.name = b.new_name;
        this.instances.set(b.new_name, o);
        break;
      case "shutdown":
        o.admin_state = "down";
        break;
      case "startup":
        o.admin_state = "up";
        break;
      case "migrate":
      case "failover":
        if (o.disk_template === "drbd") [o.pnode, o.snodes] = [o.snodes[0], [o.pnode]];
        else o.pnode = b.target_node;
        break;
      case "replace-disks":
        o.snodes = [b.remote_node];
        break;
      case "disk":
        if (verb2 === "grow") {
          const d = o._disks[Number(arg)];
          d.size = b.absolute ? b.amount : d.size + b.amount;
        }
        break;
      case "modify": {
        if (b.disk_template) {
          o.disk_template = b.disk_template;
          o.snodes = b.disk_template === "drbd" ? [b.remote_node] : [];
        }
        for (const [k, v] of Object.entries(b.beparams ?? {})) {
          if (k === "memory") o.beparams.maxmem = o.beparams.minmem = v;
          else o.beparams[k] = v;
        }
        for (const [k, v] of Object.entries(b.hvparams ?? {})) {
          if (v === "default") delete o.hvparams[k];
          else o.hvparams[k] = v;
        }
        for (const [k, v] of Object.entries(b.osparams ?? {})) {
          if (v === "default") delete o.osparams[k];
          else o.osparams[k] = v;
        }
        if (b.os_name) o.os = b.os_name;
        if (b.runtime_mem !== undefined) {
          if (o.admin_state !== "up") throw jobError(`Instance ${name} is not running`, "wrong_state");
          // Ganeti checks the new size against the beparams proposed by the same job.
          if (b.runtime_mem < o.beparams.minmem || b.runtime_mem > o.beparams.maxmem)
            throw jobError(`Instance ${name} must have memory between ${o.beparams.minmem} and ${o.beparams.maxmem}`, "wrong_input");
          o.oper_ram = b.runtime_mem;
        }
        if (b.pnode) o.pnode = b.pnode;
        for (const [action, idx, p] of b.disks ?? []) {
          if (action === "add") o._disks.push({ size: p.size, name: p.name, uuid: this.uuid() });
          if (action === "remove") {
            if (o.admin_state === "up") throw jobError("Cannot remove disks of a running instance", "wrong_state");
            o._disks.splice(idx, 1);
          }
          if (action === "modify" && p.name !== undefined) o._disks[idx].name = p.name;
        }
        for (const [action, idx, p] of b.nics ?? []) {
          if (action === "add") o._nics.push(this.makeNic(p));
          if (action === "remove") o._nics.splice(idx, 1);
          if (action === "modify") {
            const n = o._nics[idx];
            Object.assign(n, p.mac === "generate" ? { ...p, mac: this.mac() } : p);
            if (p.ip === "pool") n.ip = `192.0.2.${10 + (this.seq++ % 200)}`;
          }
        }
        break;
      }
      default:
        throw jobError(`fake: instance verb ${verb} not implemented (${q.toString()})`, "fake");
    }
    touch();
    this.sync(o);
    return null;
  }
}

export class FakeJobError extends Error {
  constructor(readonly encoded: Encoded) {
    super(encoded[1][0]);
  }
}

function jobError(message: string, ecode: string): FakeJobError {
  return new FakeJobError(["OpPrereqError", [message, ecode]]);
}

/** One fake per test; env points the provider at it; nothing leaves the process. */
export function useFakeRapi(): { fake: () => FakeRapi } {
  let current: FakeRapi | undefined;
  const saved = { ...process.env };
  beforeEach(() => {
    nock.disableNetConnect();
    current = new FakeRapi();
    current.install();
    setConfig(undefined);
    process.env.GANETI_RAPI_URL = BASE;
    process.env.GANETI_RAPI_USER = "admin";
    process.env.GANETI_RAPI_PASSWORD = "s3cret-test-pw";
    process.env.GANETI_RAPI_INSECURE = "1";
  });
  afterEach(() => {
    const unmatched = current?.unmatched ?? [];
    nock.cleanAll();
    nock.enableNetConnect();
    process.env = { ...saved };
    expect(unmatched).toEqual([]);
  });
  return { fake: () => current as FakeRapi };
}
