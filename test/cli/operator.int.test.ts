// gnt as an operator meets it on a real cluster (master and node daemons as
// processes on 127.0.0.x, random ports): root on the master without RAPI
// credentials (the admin socket), another user refused, confirmation of
// destructive verbs without a terminal, Ganeti's info views and filters,
// connection errors that say what to do, cluster init refusing what this
// build cannot run, node add finding the local master, and node migrate
// reporting each child job.
import { execFile, spawn } from "node:child_process";
import { chmod, mkdtemp, rm, stat } from "node:fs/promises";
import http from "node:http";
import net from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { GNT, REPO, startLocalCluster, type LocalCluster } from "../helpers/cluster.js";

const run = promisify(execFile);
// Every step starts gnt processes on a shared, loaded machine: generous limits, never timings.
vi.setConfig({ testTimeout: 300_000 });
let c: LocalCluster;
let scratch: string;

beforeAll(async () => {
  c = await startLocalCluster({ nodes: 1 });
  scratch = await mkdtemp(path.join(tmpdir(), "gts-opux-"));
}, 240_000);

afterAll(async () => {
  await c?.destroy();
  if (scratch) await rm(scratch, { recursive: true, force: true });
}, 120_000);

interface Result {
  out: string;
  err: string;
  code: number;
}

/** gnt in a child process; `env` replaces the connection settings entirely (undefined removes a variable). */
async function gnt(
  args: string[],
  env: Record<string, string | undefined>,
  opts: { cwd?: string; prefix?: string[] } = {},
): Promise<Result> {
  const full: Record<string, string | undefined> = { ...process.env, ...env };
  for (const k of ["GANETI_RAPI_URL", "GANETI_RAPI_USER", "GANETI_RAPI_PASSWORD", "GANETI_RAPI_CA"]) if (!(k in env)) delete full[k];
  for (const [k, v] of Object.entries(full)) if (v === undefined) delete full[k];
  full.GANETI_TS_CONFIG = "/nonexistent/gnt-int-config.json";
  const [cmd, ...pre] = opts.prefix ?? [process.execPath];
  try {
    const r = await run(cmd!, [...pre, ...(opts.prefix ? [process.execPath] : []), GNT, ...args], {
      cwd: opts.cwd ?? REPO,
      env: full as NodeJS.ProcessEnv,
      maxBuffer: 16 << 20,
    });
    return { out: r.stdout, err: r.stderr, code: 0 };
  } catch (err) {
    const e = err as { stdout?: string; stderr?: string; code?: number };
    return { out: e.stdout ?? "", err: e.stderr ?? "", code: typeof e.code === "number" ? e.code : -1 };
  }
}

/** Root on the master: only GANETI_DATA_DIR, no URL, no credentials. */
const asRoot = (args: string[]) => gnt(args, { GANETI_DATA_DIR: c.dataDir });

async function addInstance(name: string, extra: string[] = []): Promise<void> {
  const r = await asRoot([
    "instance",
    "add",
    "-t",
    "diskless",
    "-o",
    "noop",
    "-B",
    "memory=128",
    "--no-name-check",
    "--no-ip-check",
    ...extra,
    name,
  ]);
  expect(r.code, r.err).toBe(0);
}

describe("root on the master without RAPI credentials", () => {
  it("the admin socket is root's only (mode 0600) and gives full rights", async () => {
    const sock = path.join(c.dataDir, "rapi.sock");
    const st = await stat(sock);
    expect(st.isSocket()).toBe(true);
    expect(st.mode & 0o777).toBe(0o600);
    expect(st.uid).toBe(process.getuid!());
    await addInstance("web1.example.com");
    const list = await asRoot(["instance", "list", "--no-headers", "-o", "name,status"]);
    expect(list.out).toMatch(/^web1\.example\.com\s+running$/m);
  });

  it("a user other than the socket's owner is refused with a clear message", async () => {
    // Let "nobody" reach the data directory (as under /var/lib), not the socket.
    await chmod(path.dirname(c.dataDir), 0o755);
    await chmod(c.dataDir, 0o755);
    try {
      const r = await gnt(
        ["instance", "list"],
        { GANETI_DATA_DIR: c.dataDir, HOME: "/nonexistent" },
        { prefix: ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] },
      );
      expect(r.code, r.err).toBe(1);
      expect(r.err).toContain(`permissions to connect to the master's local socket ${path.join(c.dataDir, "rapi.sock")} (EACCES)`);
      expect(r.err).toContain("Retry as root, or give RAPI credentials");
    } finally {
      await chmod(c.dataDir, 0o700);
      await chmod(path.dirname(c.dataDir), 0o700);
    }
  });
});

describe("Ganeti's info views, filters and job output", () => {
  it("instance info, node info, job info and job watch", async () => {
    const info = await asRoot(["instance", "info", "web1.example.com"]);
    expect(info.code, info.err).toBe(0);
    expect(info.out).toMatch(/^- Instance name: web1\.example\.com$/m);
    expect(info.out).toMatch(/^ {2}Creation time: \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
    expect(info.out).toMatch(/^ {2}State: configured to be up, actual state is up$/m);
    expect(info.out).toMatch(/^ {4}maxmem: 128M$/m);

    const node = await asRoot(["node", "info", c.nodes[0]!]);
    expect(node.out).toMatch(new RegExp(`^- Node name: ${c.nodes[0]!.replace(/\./g, "\\.")}$`, "m"));
    expect(node.out).toMatch(/^ {2}primary for instances: \n {4}- web1\.example\.com$/m);

    const jobs = await asRoot(["job", "list", "--no-headers", "-o", "id,summary"]);
    const createId = /^\s*(\d+)\s+INSTANCE_CREATE\(web1\.example\.com\)$/m.exec(jobs.out)?.[1];
    expect(createId, jobs.out).toBeDefined();
    const job = await asRoot(["job", "info", createId!]);
    expect(job.out).toMatch(new RegExp(`^- Job ID: ${createId}$`, "m"));
    expect(job.out).toMatch(/^ {2}Received: {9}\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{6}$/m);
    expect(job.out).toMatch(/^ {4}- Opcode: OP_INSTANCE_CREATE$/m);
    expect(job.out).toMatch(/^ {6}Execution log: \n {8}- Time: /m);

    const watch = await asRoot(["job", "watch", createId!]);
    expect(watch.code, watch.err).toBe(0);
    expect(watch.out).toContain(`Output from job ${createId} follows`);
    expect(watch.out).toMatch(/\d{4} \* starting instance\.\.\.$/m);
    expect(watch.out).toMatch(/^- Result: /m);
  });

  it("instance list -F with Ganeti's filter language", async () => {
    await addInstance("db1.example.com", ["--no-start"]);
    const running = await asRoot(["instance", "list", "--no-headers", "-o", "name", "-F", 'admin_state == "up" and name =~ /^web/']);
    expect(running.out.trim()).toBe("web1.example.com");
    const down = await asRoot(["instance", "list", "--no-headers", "-o", "name", "-F", 'not admin_state == "up"']);
    expect(down.out.trim()).toBe("db1.example.com");
    const glob = await asRoot(["instance", "list", "--no-headers", "-o", "name", "db*"]);
    expect(glob.out.trim()).toBe("db1.example.com");
  });
});

/** gnt on a terminal (a pty made by script(1)), answering its question with `answer` once asked. */
function onTerminal(args: string[], answer: string): Promise<Result & { asked: boolean }> {
  const env: Record<string, string> = { PATH: process.env.PATH ?? "/usr/bin:/bin", GANETI_DATA_DIR: c.dataDir, TERM: "dumb" };
  return new Promise((resolve) => {
    const child = spawn("script", ["-qec", [process.execPath, GNT, ...args].join(" "), "/dev/null"], { cwd: REPO, env });
    let out = "";
    let asked = false;
    const onData = (d: Buffer) => {
      out += d.toString();
      if (!asked && out.includes("y/[n]/?: ")) {
        asked = true;
        child.stdin.write(`${answer}\r`);
      }
    };
    child.stdout.on("data", onData);
    child.stderr.on("data", onData);
    child.on("close", (code) => {
      child.stdin.destroy();
      resolve({ out, err: "", code: code ?? -1, asked });
    });
  });
}

describe("destructive verbs on a terminal", () => {
  it("gnt asks Ganeti's question; 'n' keeps the instance, 'y' removes it", async () => {
    await addInstance("tty1.example.com", ["--no-start"]);
    const no = await onTerminal(["instance", "remove", "tty1.example.com"], "n");
    expect(no.asked, no.out).toBe(true);
    expect(no.out).toContain("This will remove the volumes of the instance tty1.example.com");
    expect(no.code).toBe(1);
    expect((await asRoot(["instance", "list", "--no-headers", "-o", "name"])).out).toContain("tty1.example.com");
    const yes = await onTerminal(["instance", "remove", "tty1.example.com"], "y");
    expect(yes.asked, yes.out).toBe(true);
    expect(yes.code, yes.out).toBe(0);
    expect((await asRoot(["instance", "list", "--no-headers", "-o", "name"])).out).not.toContain("tty1.example.com");
  });
});

describe("destructive verbs without a terminal", () => {
  it("instance remove refuses (stdin is not a TTY) and the instance stays; -f removes it", async () => {
    const r = await asRoot(["instance", "remove", "db1.example.com"]);
    expect(r.code).toBe(1);
    expect(r.err).toContain("This will remove the volumes of the instance db1.example.com");
    expect(r.err).toContain("--force");
    expect((await asRoot(["instance", "list", "--no-headers", "-o", "name"])).out).toContain("db1.example.com");
    const unknown = await asRoot(["instance", "remove", "nosuch.example.com"]);
    expect(unknown.err.trim()).toBe("gnt: Instance 'nosuch.example.com' not known");
    expect((await asRoot(["instance", "remove", "-f", "db1.example.com"])).code).toBe(0);
  });
});

describe("connection errors say what to do", () => {
  const creds = () => ({ GANETI_RAPI_USER: c.user, GANETI_RAPI_PASSWORD: c.password });

  it("http:// against the https RAPI", async () => {
    const r = await gnt(["cluster", "getmaster"], { ...creds(), GANETI_RAPI_URL: c.url.replace("https:", "http:") });
    expect(r.code).toBe(3);
    expect(r.err).toContain(`Use ${c.url}.`);
  });

  it("a CA file that did not sign the RAPI's certificate, and one that does not exist", async () => {
    const wrong = path.join(c.dataDir, "server.pem");
    const r = await gnt(["cluster", "getmaster"], { ...creds(), GANETI_RAPI_URL: c.url, GANETI_RAPI_CA: wrong });
    expect(r.code).toBe(3);
    expect(r.err).toContain(`is not signed by the CA file ${wrong}`);
    expect(r.err).toContain("--ca DATA_DIR/rapi.pem");
    const missing = await gnt(["cluster", "getmaster"], { ...creds(), GANETI_RAPI_URL: c.url, GANETI_RAPI_CA: "/nonexistent/rapi.pem" });
    expect(missing.err.trim()).toBe(
      "gnt: The CA file /nonexistent/rapi.pem does not exist (--ca / GANETI_RAPI_CA): give the cluster's rapi.pem.",
    );
  });

  it("a refused connection, and https:// against a plain HTTP server", async () => {
    const port = await new Promise<number>((resolve) => {
      const s = net.createServer().listen(0, "127.0.0.1", () => {
        const p = (s.address() as net.AddressInfo).port;
        s.close(() => resolve(p));
      });
    });
    const refused = await gnt(["cluster", "getmaster"], {
      ...creds(),
      GANETI_RAPI_URL: `https://127.0.0.1:${port}`,
      GANETI_RAPI_CA: c.caFile,
    });
    expect(refused.code).toBe(3);
    expect(refused.err).toContain("connection refused.\nIs the process running and listening for connections?");
    const plain = http.createServer((_q, res) => res.end("{}"));
    await new Promise<void>((resolve) => plain.listen(0, "127.0.0.1", resolve));
    try {
      const p = (plain.address() as net.AddressInfo).port;
      const r = await gnt(["cluster", "getmaster"], { ...creds(), GANETI_RAPI_URL: `https://127.0.0.1:${p}`, GANETI_RAPI_CA: c.caFile });
      expect(r.code).toBe(3);
      expect(r.err).toContain(`does not speak HTTPS (a cluster created with --no-ssl serves plain HTTP). Use http://127.0.0.1:${p}.`);
    } finally {
      plain.close();
    }
  });
});

describe("local verbs", () => {
  it("cluster init refuses hypervisors and disk templates this build cannot run, naming those it can", async () => {
    const dir = path.join(scratch, "never");
    const hv = await gnt(["cluster", "init", "x.example.com", "--data-dir", dir, "--enabled-hypervisors", "kvm,xen-pvm"], {});
    expect(hv.code).toBe(2);
    expect(hv.err).toContain("cannot run the hypervisor(s) 'xen-pvm'; it can run: fake, kvm (--enabled-hypervisors)");
    const dt = await gnt(["cluster", "init", "x.example.com", "--data-dir", dir, "--enabled-disk-templates", "file,rbd,blockdev"], {});
    expect(dt.code).toBe(2);
    expect(dt.err).toContain("cannot run the disk template(s) 'rbd', 'blockdev'; it can run: file, sharedfile, diskless, plain, drbd");
    await expect(stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("node add without --master-data-dir: says how to name the master, or finds it; node migrate reports each child job", async () => {
    const lost = await gnt(
      ["node", "add", "node2.example.com", "--address", "127.0.0.12"],
      { GANETI_DATA_DIR: undefined },
      { cwd: scratch },
    );
    expect(lost.code).toBe(2);
    expect(lost.err).toContain("No master found on this machine");
    expect(lost.err).toContain("--master-data-dir DIR or set GANETI_DATA_DIR");

    const nodeDir = path.join(path.dirname(c.dataDir), "node2");
    const add = await asRoot([
      "node",
      "add",
      "node2.example.com",
      "--address",
      "127.0.0.12",
      "--port",
      "0",
      "--data-dir",
      nodeDir,
      "--netns",
      c.netns.name,
    ]);
    expect(add.code, add.err).toBe(0);
    expect(add.out).toContain("Node node2.example.com added");

    // Two instances on node1 that can live-migrate (sharedfile), then move both away.
    for (const n of ["m1.example.com", "m2.example.com"]) {
      const r = await asRoot([
        "instance",
        "add",
        "-t",
        "sharedfile",
        "-s",
        "1G",
        "-o",
        "noop",
        "-B",
        "memory=128",
        "-n",
        c.nodes[0]!,
        "--no-name-check",
        "--no-ip-check",
        n,
      ]);
      expect(r.code, r.err).toBe(0);
    }
    const refused = await asRoot(["node", "migrate", c.nodes[0]!]);
    expect(refused.code).toBe(13);
    expect(refused.err).toContain("Migrate instance(s) m1.example.com, m2.example.com, web1.example.com?");
    const mig = await asRoot(["node", "migrate", "-f", c.nodes[0]!]);
    expect(mig.code, mig.out + mig.err).toBe(0);
    const ids = /^Submitted jobs (\d+), (\d+), (\d+)$/m.exec(mig.out)?.slice(1);
    expect(ids, mig.out).toHaveLength(3);
    // Every child job is reported by id (failures are covered by the unit tests, with injected errors).
    for (const id of ids!) expect(mig.out).toMatch(new RegExp(`^Job ${id}: success$`, "m"));
    expect(mig.out.trim().split("\n").at(-1)).toBe("All instances migrated successfully.");
    const where = await asRoot(["instance", "list", "--no-headers", "-o", "name,pnode"]);
    for (const line of where.out.trim().split("\n")) expect(line).toMatch(/\snode2\.example\.com$/);
  });
});
