import type { Command } from "commander";
import type { NetworkInfo } from "@ganeti-ts/sdk";
import { CliError } from "../errors.js";
import { renderInfo } from "../output.js";
import { addListVerbs, addTagVerbs, jobCall, jobOptions, parseKeyVal, printObject, runJob, type Ctx, type JobFlags } from "./common.js";

const list = (s: string | undefined) => (s ? s.split(",").filter(Boolean) : undefined);

export function registerNetworkCommands(program: Command, ctx: Ctx): Command {
  const net = program.command("network").description("manage networks (gnt-network)");
  addListVerbs(net, ctx, "network", ["name", "network", "gateway", "mac_prefix", "group_list"]);

  net
    .command("info")
    .description("show network details")
    .argument("<names...>")
    .action(async (names: string[]) => {
      const objs: NetworkInfo[] = [];
      for (const n of names) objs.push(await ctx.client().networks.get(n));
      printObject(ctx, names.length === 1 ? objs[0] : objs, () =>
        objs.map((o) => `Network name: ${o.name}\n${renderInfo(o as Record<string, unknown>, "  ")}`).join("\n\n"),
      );
    });

  jobOptions(
    net
      .command("add")
      .description("create a network")
      .argument("<name>")
      .requiredOption("--network <cidr>", "IPv4 network, e.g. 192.0.2.0/24")
      .option("--gateway <ip>", "IPv4 gateway")
      .option("--network6 <cidr>", "IPv6 network")
      .option("--gateway6 <ip>", "IPv6 gateway")
      .option("--mac-prefix <prefix>", "MAC prefix")
      .option("--add-reserved-ips <ips>", "comma-separated IPs to reserve")
      .option("--no-conflicts-check", "do not check for IP conflicts")
      .option("--tags <tags>", "comma-separated tags"),
  ).action(async (name: string, o: JobFlags & Record<string, string | boolean | undefined>) => {
    const p: Parameters<ReturnType<Ctx["client"]>["networks"]["create"]>[0] = { network_name: name, network: String(o.network) };
    if (o.gateway) p.gateway = String(o.gateway);
    if (o.network6) p.network6 = String(o.network6);
    if (o.gateway6) p.gateway6 = String(o.gateway6);
    if (o.macPrefix) p.mac_prefix = String(o.macPrefix);
    const r = list(o.addReservedIps as string | undefined);
    if (r) p.add_reserved_ips = r;
    if (o.conflictsCheck === false) p.conflicts_check = false;
    const t = list(o.tags as string | undefined);
    if (t) p.tags = t;
    await runJob(ctx, ctx.client().networks.create(p, jobCall(o)), o);
  });

  jobOptions(net.command("remove").description("remove a network").argument("<name>")).action(async (name: string, o: JobFlags) => {
    await runJob(ctx, ctx.client().networks.remove(name, jobCall(o)), o);
  });

  jobOptions(
    net
      .command("modify")
      .description("change a network")
      .argument("<name>")
      .option("--gateway <ip>", "IPv4 gateway")
      .option("--network6 <cidr>", "IPv6 network")
      .option("--gateway6 <ip>", "IPv6 gateway")
      .option("--mac-prefix <prefix>", "MAC prefix")
      .option("--add-reserved-ips <ips>", "IPs to reserve")
      .option("--remove-reserved-ips <ips>", "IPs to release"),
    false,
  ).action(async (name: string, o: JobFlags & Record<string, string | undefined>) => {
    const p: Record<string, unknown> = {};
    if (o.gateway) p.gateway = o.gateway;
    if (o.network6) p.network6 = o.network6;
    if (o.gateway6) p.gateway6 = o.gateway6;
    if (o.macPrefix) p.mac_prefix = o.macPrefix;
    if (o.addReservedIps) p.add_reserved_ips = list(o.addReservedIps);
    if (o.removeReservedIps) p.remove_reserved_ips = list(o.removeReservedIps);
    if (Object.keys(p).length === 0) throw new CliError("nothing to modify (see gnt network modify --help)");
    await runJob(ctx, ctx.client().networks.modify(name, p, jobCall(o)), o);
  });

  jobOptions(
    net
      .command("connect")
      .description("connect a network to a node group")
      .argument("<name>")
      .argument("<group>")
      .requiredOption("-N, --nic-parameters <mode=...,link=...[,vlan=...]>", "NIC mode and link for the group")
      .option("--no-conflicts-check", "do not check for IP conflicts"),
  ).action(async (name: string, group: string, o: JobFlags & { nicParameters: string; conflictsCheck?: boolean }) => {
    const nic = parseKeyVal(o.nicParameters);
    if (!nic.mode || !nic.link) throw new CliError("--nic-parameters needs mode= and link=");
    await runJob(
      ctx,
      ctx.client().networks.connect(
        name,
        {
          group_name: group,
          network_mode: String(nic.mode) as "bridged",
          network_link: String(nic.link),
          network_vlan: nic.vlan === undefined ? "" : String(nic.vlan),
          ...(o.conflictsCheck === false ? { conflicts_check: false } : {}),
        },
        jobCall(o),
      ),
      o,
    );
  });

  jobOptions(net.command("disconnect").description("disconnect a network from a node group").argument("<name>").argument("<group>")).action(
    async (name: string, group: string, o: JobFlags) => {
      await runJob(ctx, ctx.client().networks.disconnect(name, group, jobCall(o)), o);
    },
  );

  addTagVerbs(net, ctx, "network");
  return net;
}
