// Create an instance, modify it, migrate it (when the cluster and the disk
// template allow), and remove it, printing each job's progress.
//
//   npx tsx examples/sdk-scripts/create-and-wait.ts [--url URL] [--user U] [--password P]
//       [--ca FILE | --fingerprint SHA256 | --insecure] [--name NAME] [--os OS]
//       [--template diskless] [--memory 128]
//
// Connection settings default to GANETI_RAPI_URL / GANETI_RAPI_USER /
// GANETI_RAPI_PASSWORD / GANETI_RAPI_CA (and GANETI_RAPI_FINGERPRINT,
// GANETI_RAPI_INSECURE=1).
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { GanetiClient, JobFailedError, type GanetiClientOptions, type JobLogLine, type WaitOptions } from "@ganeti-ts/sdk";

// Templates whose instances can live-migrate; the externally mirrored ones need a target node.
const INTERNALLY_MIRRORED = new Set(["drbd"]);
const EXTERNALLY_MIRRORED = new Set(["diskless", "sharedfile", "blockdev", "rbd", "ext", "gluster"]);

export interface ExampleDeps {
  /** Build the client (tests inject a no-sleep client). */
  createClient?: (o: GanetiClientOptions) => GanetiClient;
  print?: (line: string) => void;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, deps: ExampleDeps = {}): Promise<void> {
  const print = deps.print ?? ((l: string) => console.log(l));
  const { values: f } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      ca: { type: "string" },
      fingerprint: { type: "string" },
      insecure: { type: "boolean" },
      name: { type: "string" },
      os: { type: "string" },
      template: { type: "string" },
      memory: { type: "string" },
    },
  });
  const opts: GanetiClientOptions = { baseUrl: f.url ?? env.GANETI_RAPI_URL ?? "https://127.0.0.1:5080" };
  const user = f.user ?? env.GANETI_RAPI_USER;
  const password = f.password ?? env.GANETI_RAPI_PASSWORD;
  if (user !== undefined) opts.username = user;
  if (password !== undefined) opts.password = password;
  const fingerprint = f.fingerprint ?? env.GANETI_RAPI_FINGERPRINT;
  const ca = f.ca ?? env.GANETI_RAPI_CA;
  if (fingerprint) opts.fingerprint = fingerprint;
  else if (f.insecure || env.GANETI_RAPI_INSECURE === "1") opts.insecure = true;
  else if (ca) opts.caFile = ca;
  const client = deps.createClient ? deps.createClient(opts) : new GanetiClient(opts);

  const progress = (what: string): WaitOptions => ({
    onStatus: (s, id) => print(`  [${what}] job ${id}: ${s}`),
    onLog: (l: JobLogLine) => print(`  [${what}] job ${l.jobId} #${l.serial}: ${l.message}`),
  });

  try {
    const info = await client.cluster.info();
    const nodes = (await client.nodes.list({ bulk: true })).filter((n) => n.vm_capable && !n.offline && !n.drained);
    if (nodes.length === 0) throw new Error("no usable node in the cluster");
    const template = f.template ?? "diskless";
    const osName = f.os ?? (await client.os.list())[0];
    if (!osName) throw new Error("the cluster has no OS definition; pass --os");
    const name = f.name ?? `sdk-example-${process.pid}.example.com`;
    const pnode = nodes.find((n) => n.name === info.master)?.name ?? nodes[0]!.name;
    print(`cluster ${info.name} (Ganeti ${info.software_version}), ${nodes.length} usable node(s)`);

    print(`creating ${name} (${template}, ${osName}) on ${pnode}`);
    const created = client.instances.create({
      mode: "create",
      instance_name: name,
      disk_template: template as "diskless",
      disks: template === "diskless" ? [] : [{ size: 1024 }],
      nics: [{}],
      os_type: osName,
      pnode,
      ...(info.default_hypervisor ? { hypervisor: info.default_hypervisor as "fake" } : {}),
      beparams: { memory: Number(f.memory ?? 128), vcpus: 1 },
      name_check: false,
      ip_check: false,
    });
    print(`  submitted job ${await created}`);
    const [placed] = await created.wait(progress("create"));
    print(`created on ${placed.join(", ")}`);

    print("modifying: vcpus=2");
    const [changes] = await client.instances.modify(name, { beparams: { vcpus: 2 } }).wait(progress("modify"));
    for (const [k, v] of changes) print(`  changed ${k} -> ${String(v)}`);

    const target = nodes.find((n) => n.name !== pnode);
    if (!target) {
      print("skipping migrate: the cluster has a single usable node (migration needs two)");
    } else if (INTERNALLY_MIRRORED.has(template)) {
      print(`migrating ${name} to its secondary`);
      await client.instances.migrate(name, {}).wait(progress("migrate"));
    } else if (EXTERNALLY_MIRRORED.has(template)) {
      print(`migrating ${name} to ${target.name}`);
      await client.instances.migrate(name, { target_node: target.name }).wait(progress("migrate"));
    } else {
      print(`skipping migrate: disk template ${template} does not allow migration`);
    }

    print(`removing ${name}`);
    await client.instances.remove(name).wait(progress("remove"));
    print("done");
  } catch (err) {
    if (err instanceof JobFailedError) print(`job ${err.jobId} failed: ${err.errorClass}: ${err.errorMessage}`);
    throw err;
  } finally {
    client.close();
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main(process.argv.slice(2), process.env).catch((err: unknown) => {
    console.error(`error: ${(err as Error).message}`);
    process.exitCode = 1;
  });
}
