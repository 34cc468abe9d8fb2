import type { Command } from "commander";
import type { DeviceModification, DiskSpec, InstanceCreateParams, InstanceModifyParams } from "@ganeti-ts/sdk";
import { CliError } from "../errors.js";
import { confirm } from "../confirm.js";
import { runConsole } from "./console.js";
import { json } from "../output.js";
import { genericInfo, instanceInfo } from "../info.js";
import {
  addListVerbs,
  addTagVerbs,
  collect,
  ensureInstanceExists,
  jobCall,
  jobOptions,
  parseDeviceSpec,
  parseHvSpec,
  parseKeyVal,
  parseSize,
  runJob,
  type Ctx,
  type JobFlags,
} from "./common.js";

const DEFAULT_FIELDS = ["name", "hypervisor", "os", "pnode", "status", "oper_ram"];

/** Indexed --disk/--net options of `add`: "0:size=1G" → position 0. */
function indexedDevices(specs: string[] | undefined, what: string): Record<string, unknown>[] {
  const out: Record<string, unknown>[] = [];
  for (const s of specs ?? []) {
    const [idx, params] = parseDeviceSpec(s);
    const i = Number(idx);
    if (!Number.isInteger(i) || i < 0) throw new CliError(`--${what} ${s}: expected INDEX:key=value,...`);
    out[i] = params;
  }
  for (let i = 0; i < out.length; i++) if (!out[i]) throw new CliError(`--${what}: index ${i} missing`);
  return out;
}

/** --disk/--net of `modify`: "add:size=1G", "remove", "0:mode=ro", "modify:2:mode=ro" → modifications. */
function modifications(specs: string[] | undefined): DeviceModification[] {
  return (specs ?? []).map((s) => {
    const [head, params] = parseDeviceSpec(s);
    if (/^\d+$/.test(head) || head === "-1") return ["modify", Number(head), params];
    if (head === "add" || head === "attach") return [head, -1, params];
    if (head === "remove" || head === "detach") return [head, -1, {}];
    const m = /^(add|attach|modify|remove|detach):?(.*)$/.exec(s);
    if (m) {
      const rest = m[2] ?? "";
      const [ident, p] = parseDeviceSpec(rest);
      return [m[1] as "modify", /^-?\d+$/.test(ident) ? Number(ident) : ident, p];
    }
    throw new CliError(`cannot parse device modification ${JSON.stringify(s)}`);
  });
}

export function registerInstanceCommands(program: Command, ctx: Ctx): Command {
  const inst = program.command("instance").description("manage instances (gnt-instance)");
  addListVerbs(inst, ctx, "instance", DEFAULT_FIELDS);

  inst
    .command("info")
    .description("show instance details (Ganeti's gnt-instance info, through an OP_INSTANCE_QUERY_DATA job)")
    .argument("<names...>")
    .option("-s, --static", "only the configuration, without asking the nodes for the live state")
    .action(async (names: string[], o: { static?: boolean }) => {
      const c = ctx.client();
      const found: Record<string, Record<string, unknown>> = {};
      for (const n of names) {
        const [res] = await c.instances.info(n, o.static ? { static: true } : {}).wait(ctx.signal ? { signal: ctx.signal } : {});
        Object.assign(found, res);
      }
      if (ctx.json()) {
        ctx.io.out(json(names.length === 1 ? Object.values(found)[0] : Object.values(found)));
        return;
      }
      ctx.io.out(genericInfo(Object.values(found).map((i) => instanceInfo(i))));
    });

  jobOptions(
    inst
      .command("add")
      .description("create an instance")
      .argument("<name>")
      .option("-t, --disk-template <template>", "diskless, file, sharedfile, plain, drbd, ...")
      .option("-o, --os-type <os>", "OS (name+variant)")
      .option("-n, --node <pnode[:snode]>", "primary (and secondary) node")
      .option("-I, --iallocator <name>", "allocator choosing the nodes")
      .option("-s, --os-size <size>", "one disk of this size (e.g. 1G)")
      .option("--disk <idx:params>", "disk, e.g. 0:size=1G,mode=rw (repeatable)", collect)
      .option("--net <idx:params>", "NIC, e.g. 0:link=br0,mode=bridged (repeatable)", collect)
      .option("--no-nics", "create without NICs")
      .option("-B, --backend-parameters <k=v,...>", "backend parameters (memory, vcpus, ...)")
      .option("-H, --hypervisor-parameters <hv[:k=v,...]>", "hypervisor and its parameters")
      .option("-O, --os-parameters <k=v,...>", "OS parameters")
      .option("-g, --node-group <group>", "node group")
      .option("--no-name-check", "do not resolve the instance name")
      .option("--no-ip-check", "do not check the IP is free")
      .option("--no-start", "do not start the instance")
      .option("--no-install", "do not install the OS")
      .option("--ignore-ipolicy", "ignore the node group's instance policy (Ganeti's --ignore-ipolicy)")
      .option("--tags <tags>", "comma-separated tags"),
  ).action(async (name: string, o: Record<string, unknown> & JobFlags) => {
    const params: InstanceCreateParams = {
      mode: "create",
      instance_name: name,
      // Checked by the server, which answers with Ganeti's messages.
      disks: indexedDevices(o.disk as string[] | undefined, "disk") as DiskSpec[],
      nics: o.nics === false ? [] : o.net ? indexedDevices(o.net as string[], "net") : [{}],
    };
    if (o.osSize) {
      if (params.disks.length) throw new CliError("use either -s or --disk");
      params.disks = [{ size: parseSize(String(o.osSize)) }];
    }
    for (const d of params.disks) if (typeof d.size === "string") d.size = parseSize(d.size);
    if (o.diskTemplate) params.disk_template = o.diskTemplate as InstanceCreateParams["disk_template"];
    if (o.osType) params.os_type = String(o.osType);
    if (o.node) {
      const [p, s] = String(o.node).split(":");
      params.pnode = p ?? null;
      if (s) params.snode = s;
    }
    if (o.iallocator) params.iallocator = String(o.iallocator);
    if (o.backendParameters) params.beparams = parseKeyVal(String(o.backendParameters));
    if (o.hypervisorParameters) {
      const [hv, hvp] = parseHvSpec(String(o.hypervisorParameters));
      params.hypervisor = hv as InstanceCreateParams["hypervisor"];
      params.hvparams = hvp;
    }
    if (o.osParameters) params.osparams = parseKeyVal(String(o.osParameters));
    if (o.nodeGroup) params.group_name = String(o.nodeGroup);
    if (o.nameCheck === false) {
      params.name_check = false;
      params.ip_check = false;
    }
    if (o.ipCheck === false) params.ip_check = false;
    if (o.start === false) params.start = false;
    if (o.install === false) params.no_install = true;
    if (o.ignoreIpolicy) params.ignore_ipolicy = true;
    if (o.tags) params.tags = String(o.tags).split(",").filter(Boolean);
    await runJob(ctx, ctx.client().instances.create(params, jobCall(o)), o, (r) =>
      r?.[0] ? `Instance ${name} created on ${r[0].join(", ")}` : undefined,
    );
  });

  jobOptions(
    inst
      .command("remove")
      .description("remove an instance")
      .argument("<name>")
      .option("--shutdown-timeout <seconds>", "wait this long for a clean shutdown")
      .option("-f, --force", "do not ask for confirmation"),
  ).action(async (name: string, o: JobFlags & { shutdownTimeout?: string; force?: boolean }) => {
    if (!o.force && !o.dryRun) {
      await ensureInstanceExists(ctx, name);
      await confirm(
        ctx.io,
        `This will remove the volumes of the instance ${name} (including mirrors), thus removing all the data of the instance. Continue?`,
      );
    }
    const params = o.shutdownTimeout ? { shutdown_timeout: Number(o.shutdownTimeout) } : {};
    await runJob(ctx, ctx.client().instances.remove(name, params, jobCall(o)), o);
  });

  jobOptions(
    inst
      .command("startup")
      .alias("start")
      .description("start an instance")
      .argument("<name>")
      .option("-f, --force", "force the start")
      .option("--no-remember", "do not record the state change"),
  ).action(async (name: string, o: JobFlags & { force?: boolean; remember?: boolean }) => {
    await runJob(
      ctx,
      ctx.client().instances.startup(name, { ...jobCall(o), force: Boolean(o.force), noRemember: o.remember === false }),
      o,
    );
  });

  jobOptions(
    inst
      .command("shutdown")
      .alias("stop")
      .description("stop an instance")
      .argument("<name>")
      .option("--timeout <seconds>", "time to wait for a clean shutdown")
      .option("--no-remember", "do not record the state change")
      .option("-f, --force", "force"),
  ).action(async (name: string, o: JobFlags & { timeout?: string; remember?: boolean; force?: boolean }) => {
    const params: Record<string, unknown> = {};
    if (o.timeout !== undefined) params.timeout = Number(o.timeout);
    if (o.force) params.force = true;
    await runJob(ctx, ctx.client().instances.shutdown(name, params, { ...jobCall(o), noRemember: o.remember === false }), o);
  });

  jobOptions(
    inst
      .command("reboot")
      .description("reboot an instance")
      .argument("<name>")
      .option("-t, --type <type>", "soft, hard (default) or full")
      .option("--ignore-secondaries", "ignore errors on secondary nodes")
      .option("--shutdown-timeout <seconds>", "time to wait for a clean shutdown"),
  ).action(async (name: string, o: JobFlags & { type?: string; ignoreSecondaries?: boolean; shutdownTimeout?: string }) => {
    if (o.type && !["soft", "hard", "full"].includes(o.type)) throw new CliError(`invalid reboot type ${o.type}`);
    const params = o.shutdownTimeout ? { shutdown_timeout: Number(o.shutdownTimeout) } : {};
    await runJob(
      ctx,
      ctx
        .client()
        .instances.reboot(
          name,
          { ...jobCall(o), ...(o.type ? { type: o.type as "soft" } : {}), ...(o.ignoreSecondaries ? { ignoreSecondaries: true } : {}) },
          params,
        ),
      o,
    );
  });

  jobOptions(
    inst
      .command("modify")
      .description("change instance parameters")
      .argument("<name>")
      .option("-B, --backend-parameters <k=v,...>", "backend parameters")
      .option("-H, --hypervisor-parameters <k=v,...>", "hypervisor parameters")
      .option("-O, --os-parameters <k=v,...>", "OS parameters")
      .option("-o, --os-type <os>", "change the recorded OS")
      .option("--disk <spec>", "add:size=1G | remove | IDX:mode=ro | modify:IDX:... (repeatable)", collect)
      .option("--net <spec>", "add:link=br0 | remove | IDX:ip=... (repeatable)", collect)
      .option("-t, --disk-template <template>", "convert the disk template")
      .option("-n, --node <node>", "secondary node for a conversion to drbd")
      .option("-I, --iallocator <name>", "allocator choosing the secondary node for a conversion to drbd")
      .option("--pnode <node>", "change the primary node (stopped, non-redundant)")
      .option("-m, --runtime-memory <size>", "balloon the running instance to this size")
      .option("--offline", "mark offline")
      .option("--online", "mark online")
      .option("--hotplug", "apply NIC/disk changes to the running instance")
      .option("--ignore-ipolicy", "ignore the node group's instance policy (Ganeti's --ignore-ipolicy)")
      .option("-f, --force", "force"),
  ).action(async (name: string, o: Record<string, unknown> & JobFlags) => {
    const p: InstanceModifyParams = {};
    if (o.backendParameters) p.beparams = parseKeyVal(String(o.backendParameters));
    if (o.hypervisorParameters) p.hvparams = parseKeyVal(String(o.hypervisorParameters));
    if (o.osParameters) p.osparams = parseKeyVal(String(o.osParameters));
    if (o.osType) p.os_name = String(o.osType);
    if (o.disk) p.disks = modifications(o.disk as string[]);
    if (o.net) p.nics = modifications(o.net as string[]);
    if (o.diskTemplate) p.disk_template = o.diskTemplate as InstanceModifyParams["disk_template"];
    if (o.node) p.remote_node = String(o.node);
    if (o.iallocator) p.iallocator = String(o.iallocator);
    if (o.pnode) p.pnode = String(o.pnode);
    if (o.runtimeMemory) p.runtime_mem = parseSize(String(o.runtimeMemory));
    if (o.offline && o.online) throw new CliError("--offline and --online are exclusive");
    if (o.offline) p.offline = true;
    if (o.online) p.offline = false;
    if (o.hotplug) p.hotplug = true;
    if (o.ignoreIpolicy) p.ignore_ipolicy = true;
    if (o.force) p.force = true;
    if (Object.keys(p).length === 0) throw new CliError("nothing to modify (see gnt instance modify --help)");
    await runJob(ctx, ctx.client().instances.modify(name, p, jobCall(o)), o, (r) =>
      r?.[0]?.length ? `Modified instance ${name}\n${r[0].map(([k, v]) => ` - ${k} -> ${String(v)}`).join("\n")}` : undefined,
    );
  });

  jobOptions(
    inst
      .command("migrate")
      .description("live-migrate an instance")
      .argument("<name>")
      .option("--non-live", "non-live migration")
      .option("--migration-mode <mode>", "live or non-live")
      .option("-n, --target-node <node>", "target node (externally mirrored templates)")
      .option("-I, --iallocator <name>", "allocator choosing the target")
      .option("--cleanup", "recover from a failed migration")
      .option("--allow-failover", "fall back to failover if migration is impossible")
      .option("--ignore-ipolicy", "ignore the node group's instance policy (Ganeti's --ignore-ipolicy)")
      .option("-f, --force", "do not ask for confirmation"),
    false,
  ).action(async (name: string, o: JobFlags & Record<string, unknown>) => {
    if (!o.force) {
      await ensureInstanceExists(ctx, name);
      const what = o.cleanup
        ? `Instance ${name} will be recovered from a failed migration. Note that the migration procedure (including cleanup)`
        : `Instance ${name} will be migrated. Note that migration`;
      await confirm(ctx.io, `${what} might impact the instance if anything goes wrong (e.g. due to bugs in the hypervisor). Continue?`);
    }
    const p: Record<string, unknown> = {};
    if (o.nonLive) p.mode = "non-live";
    if (o.migrationMode) p.mode = String(o.migrationMode);
    if (o.targetNode) p.target_node = String(o.targetNode);
    if (o.iallocator) p.iallocator = String(o.iallocator);
    if (o.cleanup) p.cleanup = true;
    if (o.allowFailover) p.allow_failover = true;
    if (o.ignoreIpolicy) p.ignore_ipolicy = true;
    await runJob(ctx, ctx.client().instances.migrate(name, p, jobCall(o)), o);
  });

  jobOptions(
    inst
      .command("failover")
      .description("fail an instance over to another node")
      .argument("<name>")
      .option("-n, --target-node <node>", "target node")
      .option("-I, --iallocator <name>", "allocator choosing the target")
      .option("--ignore-consistency", "proceed even with degraded disks")
      .option("--shutdown-timeout <seconds>", "time to wait for a clean shutdown")
      .option("--ignore-ipolicy", "ignore the node group's instance policy (Ganeti's --ignore-ipolicy)")
      .option("-f, --force", "do not ask for confirmation"),
    false,
  ).action(async (name: string, o: JobFlags & Record<string, unknown>) => {
    if (!o.force) {
      await ensureInstanceExists(ctx, name);
      await confirm(ctx.io, `Failover will happen to image ${name}. This requires a shutdown of the instance. Continue?`);
    }
    const p: Record<string, unknown> = {};
    if (o.ignoreIpolicy) p.ignore_ipolicy = true;
    if (o.targetNode) p.target_node = String(o.targetNode);
    if (o.iallocator) p.iallocator = String(o.iallocator);
    if (o.ignoreConsistency) p.ignore_consistency = true;
    if (o.shutdownTimeout) p.shutdown_timeout = Number(o.shutdownTimeout);
    await runJob(ctx, ctx.client().instances.failover(name, p, jobCall(o)), o);
  });

  jobOptions(
    inst
      .command("rename")
      .description("rename an instance")
      .argument("<name>")
      .argument("<new-name>")
      .option("--no-name-check", "do not resolve the new name")
      .option("--no-ip-check", "do not check the new IP"),
    false,
  ).action(async (name: string, newName: string, o: JobFlags & { nameCheck?: boolean; ipCheck?: boolean }) => {
    const p: Record<string, unknown> = {};
    if (o.nameCheck === false) {
      p.name_check = false;
      p.ip_check = false;
    }
    if (o.ipCheck === false) p.ip_check = false;
    await runJob(ctx, ctx.client().instances.rename(name, newName, p, jobCall(o)), o);
  });

  jobOptions(
    inst
      .command("reinstall")
      .description("reinstall the OS")
      .argument("<name>")
      .option("-o, --os-type <os>", "install this OS instead")
      .option("-O, --os-parameters <k=v,...>", "OS parameters")
      .option("--no-startup", "do not start the instance afterwards")
      .option("-f, --force", "do not ask for confirmation"),
    false,
  ).action(async (name: string, o: JobFlags & { osType?: string; osParameters?: string; startup?: boolean; force?: boolean }) => {
    if (!o.force) {
      await ensureInstanceExists(ctx, name);
      const osMsg = o.osType ? `change the OS to '${o.osType}'` : "keep the same OS";
      await confirm(ctx.io, `This will reinstall the instance '${name}' (and ${osMsg}) which removes all data. Continue?`);
    }
    const p: Record<string, unknown> = { start: o.startup !== false };
    if (o.osType) p.os = o.osType;
    if (o.osParameters) p.osparams = parseKeyVal(o.osParameters);
    await runJob(ctx, ctx.client().instances.reinstall(name, p, jobCall(o)), o);
  });

  inst
    .command("console")
    .description("connect to the instance's console (serial: on its node, over ssh unless the node is this machine)")
    .argument("<name>")
    .option("--show-cmd", "print the command that connects instead of running it")
    .action(async (name: string, o: { showCmd?: boolean }) => {
      await runConsole(ctx.client(), name, { showCmd: Boolean(o.showCmd), print: (l) => process.stdout.write(`${l}\n`) });
    });

  jobOptions(
    inst
      .command("activate-disks")
      .description("activate the instance's disks")
      .argument("<name>")
      .option("--ignore-size", "ignore recorded sizes"),
    false,
  ).action(async (name: string, o: JobFlags & { ignoreSize?: boolean }) => {
    await runJob(ctx, ctx.client().instances.activateDisks(name, { ...jobCall(o), ignoreSize: Boolean(o.ignoreSize) }), o, (r) =>
      Array.isArray(r?.[0]) ? (r[0] as unknown[][]).map((x) => x.join(":")).join("\n") : undefined,
    );
  });

  jobOptions(
    inst
      .command("deactivate-disks")
      .description("deactivate the instance's disks")
      .argument("<name>")
      .option("-f, --force", "even if the instance is running"),
    false,
  ).action(async (name: string, o: JobFlags & { force?: boolean }) => {
    await runJob(ctx, ctx.client().instances.deactivateDisks(name, { ...jobCall(o), force: Boolean(o.force) }), o);
  });

  jobOptions(
    inst
      .command("grow-disk")
      .description("grow a disk")
      .argument("<name>")
      .argument("<disk>")
      .argument("<amount>")
      .option("--absolute", "amount is the new size")
      .option("--no-wait-for-sync", "do not wait for the resync"),
    false,
  ).action(async (name: string, disk: string, amount: string, o: JobFlags & { absolute?: boolean; waitForSync?: boolean }) => {
    const p: { amount: number; absolute?: boolean; wait_for_sync?: boolean } = { amount: parseSize(amount) };
    if (o.absolute) p.absolute = true;
    if (o.waitForSync === false) p.wait_for_sync = false;
    await runJob(ctx, ctx.client().instances.growDisk(name, Number(disk), p, jobCall(o)), o);
  });

  jobOptions(
    inst
      .command("replace-disks")
      .description("replace the disks of a drbd instance")
      .argument("<name>")
      .option("-p, --on-primary", "replace on the primary")
      .option("-s, --on-secondary", "replace on the secondary")
      .option("-a, --auto", "replace degraded disks")
      .option("-n, --new-secondary <node>", "move to a new secondary")
      .option("-I, --iallocator <name>", "allocator choosing the new secondary")
      .option("--disks <indices>", "comma-separated disk indices"),
    false,
  ).action(async (name: string, o: JobFlags & Record<string, unknown>) => {
    const mode = o.onPrimary
      ? "replace_on_primary"
      : o.onSecondary
        ? "replace_on_secondary"
        : o.newSecondary || o.iallocator
          ? "replace_new_secondary"
          : "replace_auto";
    const p: { mode: typeof mode; disks?: number[]; remote_node?: string; iallocator?: string } = { mode };
    if (o.disks) p.disks = String(o.disks).split(",").map(Number);
    if (o.newSecondary) p.remote_node = String(o.newSecondary);
    if (o.iallocator) p.iallocator = String(o.iallocator);
    await runJob(ctx, ctx.client().instances.replaceDisks(name, p, jobCall(o)), o);
  });

  jobOptions(
    inst
      .command("recreate-disks")
      .description("recreate the disks")
      .argument("<name>")
      .option("--disks <indices>", "comma-separated disk indices")
      .option("-n, --nodes <nodes>", "comma-separated new nodes"),
    false,
  ).action(async (name: string, o: JobFlags & { disks?: string; nodes?: string }) => {
    const p: { disks?: number[]; nodes?: string[] } = {};
    if (o.disks) p.disks = o.disks.split(",").map(Number);
    if (o.nodes) p.nodes = o.nodes.split(",");
    await runJob(ctx, ctx.client().instances.recreateDisks(name, p, jobCall(o)), o);
  });

  addTagVerbs(inst, ctx, "instance");
  return inst;
}
