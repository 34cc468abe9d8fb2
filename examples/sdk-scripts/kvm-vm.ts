// Create a real kvm virtual machine, show how to reach its console, live-
// migrate it when the cluster has a second node (with a file disk, the image
// is copied there during the migration), and remove it, printing
// each job's log (the migration's downtime included).
//
//   npx tsx examples/sdk-scripts/kvm-vm.ts --kernel VMLINUX --initrd INITRD [--qemu /usr/bin/kvm]
//       [--name NAME] [--template sharedfile|file|diskless] [--os noop|busybox] [--disk-size 1024]
//       [--link xen-br0] [--memory 128] [--keep] [--no-migrate]
//
// The kernel and initrd are the guest's (scripts/ensure-kvm-assets.sh prints
// a small one: GUEST_KERNEL, GUEST_INITRD). The cluster must have kvm
// enabled (gnt cluster init --enabled-hypervisors kvm,...) and the bridge
// named by --link on its nodes. Connection settings as create-and-wait.ts
// (GANETI_RAPI_URL, GANETI_RAPI_USER, GANETI_RAPI_PASSWORD, GANETI_RAPI_CA).
import { parseArgs } from "node:util";
import { pathToFileURL } from "node:url";
import { GanetiClient, type GanetiClientOptions, type JobLogLine, type WaitOptions } from "@ganeti-ts/sdk";

export interface KvmExampleDeps {
  createClient?: (o: GanetiClientOptions) => GanetiClient;
  print?: (line: string) => void;
}

export async function main(argv: string[], env: NodeJS.ProcessEnv, deps: KvmExampleDeps = {}): Promise<void> {
  const print = deps.print ?? ((l: string) => console.log(l));
  const { values: f } = parseArgs({
    args: argv,
    options: {
      url: { type: "string" },
      user: { type: "string" },
      password: { type: "string" },
      ca: { type: "string" },
      kernel: { type: "string" },
      initrd: { type: "string" },
      qemu: { type: "string" },
      name: { type: "string" },
      template: { type: "string" },
      link: { type: "string" },
      memory: { type: "string" },
      os: { type: "string" },
      "disk-size": { type: "string" },
      keep: { type: "boolean" },
      "no-migrate": { type: "boolean" },
    },
  });
  if (!f.kernel) throw new Error("--kernel is required (the guest kernel)");
  const opts: GanetiClientOptions = { baseUrl: f.url ?? env.GANETI_RAPI_URL ?? "https://127.0.0.1:5080" };
  const user = f.user ?? env.GANETI_RAPI_USER;
  const password = f.password ?? env.GANETI_RAPI_PASSWORD;
  if (user !== undefined) opts.username = user;
  if (password !== undefined) opts.password = password;
  const ca = f.ca ?? env.GANETI_RAPI_CA;
  if (ca) opts.caFile = ca;
  const client = deps.createClient ? deps.createClient(opts) : new GanetiClient(opts);
  const progress = (what: string): WaitOptions => ({
    onLog: (l: JobLogLine) => print(`  [${what}] ${l.message}`),
  });

  const info = await client.cluster.info();
  if (!(info.enabled_hypervisors ?? []).includes("kvm")) throw new Error(`kvm is not enabled on cluster ${info.name}`);
  const nodes = (await client.nodes.list({ bulk: true })).filter((n) => n.vm_capable && !n.offline && !n.drained);
  const pnode = nodes.find((n) => n.name === info.master)?.name ?? nodes[0]?.name;
  if (!pnode) throw new Error("no usable node");
  const template = f.template ?? "sharedfile";
  const name = f.name ?? `kvm-example-${process.pid}.example.com`;
  const hvparams: Record<string, unknown> = { kernel_path: f.kernel, kernel_args: "quiet", serial_speed: 115200 };
  if (f.initrd) hvparams["initrd_path"] = f.initrd;
  if (f.qemu) hvparams["kvm_path"] = f.qemu;

  print(`creating ${name} (kvm, ${template}) on ${pnode}`);
  await client.instances
    .create({
      mode: "create",
      instance_name: name,
      disk_template: template as "sharedfile",
      // 1 GiB (a sparse file): the smallest disk Ganeti's default instance policy accepts.
      disks: template === "diskless" ? [] : [{ size: Number(f["disk-size"] ?? 1024) }],
      nics: [{ link: f.link ?? "xen-br0" }],
      // busybox installs a small system on the disk that the VM boots from; noop leaves the disk empty.
      os_type: f.os ?? "noop",
      pnode,
      hypervisor: "kvm",
      hvparams,
      beparams: { memory: Number(f.memory ?? 128), vcpus: 1 },
      name_check: false,
      ip_check: false,
    })
    .wait(progress("create"));
  const inst = await client.instances.get(name);
  print(`${name}: ${inst.status} on ${inst.pnode}, ${inst.oper_ram} MiB`);

  const con = (await client.instances.console(name)) as { kind: string; host?: string; command?: string[]; message?: string };
  print(
    con.kind === "ssh"
      ? `console: on ${con.host}: ${(con.command ?? []).join(" ")} (or: gnt instance console ${name})`
      : `console: ${con.message ?? con.kind}`,
  );

  // sharedfile: the target reaches the same image; file (beyond Ganeti, kvm
  // only): the image is copied to the target during the migration.
  const other = nodes.find((n) => n.name !== pnode);
  if (f["no-migrate"]) {
    print("not migrating (--no-migrate)");
  } else if (other) {
    print(`live-migrating ${name} to ${other.name}`);
    await client.instances.migrate(name, { target_node: other.name, mode: "live" }).wait(progress("migrate"));
    print(`${name}: now on ${(await client.instances.get(name)).pnode}`);
  } else {
    print("skipping the migration (needs a second node)");
  }

  if (f.keep) {
    print(`keeping ${name}`);
    return;
  }
  print(`removing ${name}`);
  await client.instances.remove(name, { shutdown_timeout: 0 }).wait(progress("remove"));
  print("done");
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  main(process.argv.slice(2), process.env).catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
