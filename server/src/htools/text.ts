// Text backend (docs/htools-internals.md, Text backend): parse and serialise the `-t FILE` format.
import { hsFixed } from "./format.js";
import type { AllocPolicy, DiskTemplate, Group, Instance, IPolicy, ISpec, MinMaxISpecs, RunState } from "./types.js";
import { DISK_TEMPLATES, HtoolsError, RUN_STATES, defIPolicy } from "./types.js";
import { Node, createNode } from "./node.js";
import { createInstance, getTotalSpindles, requiredNodes } from "./instance.js";
import type { ClusterData } from "./loader.js";

const fail = (msg: string): never => {
  throw new HtoolsError(msg, "ETEXT");
};

function commaSplit(s: string): string[] {
  return s === "" ? [] : s.split(",");
}

function readNum(owner: string, s: string): number {
  // Haskell `read`: plain decimal literals only.
  if (!/^-?\d+(\.\d+)?([eE][-+]?\d+)?$/.test(s)) fail(`${owner}: cannot parse string '${s}'`);
  return Number(s);
}
function readInt(owner: string, s: string): number {
  if (!/^-?\d+$/.test(s)) fail(`${owner}: cannot parse string '${s}'`);
  return Number(s);
}

function allocPolicyFromRaw(s: string): AllocPolicy {
  if (s === "preferred" || s === "last_resort" || s === "unallocable") return s;
  return fail(`Invalid alloc policy '${s}'`);
}
function diskTemplateFromRaw(s: string): DiskTemplate {
  if ((DISK_TEMPLATES as string[]).includes(s)) return s as DiskTemplate;
  return fail(`Invalid disk template '${s}'`);
}

function loadISpec(owner: string, f: string[]): ISpec {
  if (f.length < 6) fail(`Invalid ispec data for ${owner}: ${JSON.stringify(f)}`);
  return {
    memorySize: readInt(owner + "/memsize", f[0]!),
    cpuCount: readInt(owner + "/cpucount", f[1]!),
    diskSize: readInt(owner + "/disksize", f[2]!),
    diskCount: readInt(owner + "/diskcount", f[3]!),
    nicCount: readInt(owner + "/niccount", f[4]!),
    spindleUse: readInt(owner + "/spindleuse", f[5]!),
  };
}

function loadIPolicy(f: string[]): [string, IPolicy] {
  if (f.length < 6) fail(`Invalid ipolicy data: '${JSON.stringify(f)}'`);
  const owner = f[0]!;
  const std = loadISpec(owner + "/stdspec", commaSplit(f[1]!));
  const specs = f[2]!.split(";");
  if (specs.length % 2 !== 0) fail(`Odd number of min/max specs for ${owner}`);
  const minmax: MinMaxISpecs[] = [];
  for (let i = 0; i < specs.length; i += 2)
    minmax.push({
      min: loadISpec(owner + "/minspec", commaSplit(specs[i]!)),
      max: loadISpec(owner + "/maxspec", commaSplit(specs[i + 1]!)),
    });
  const dts = commaSplit(f[3]!).map(diskTemplateFromRaw);
  return [
    owner,
    {
      minmax,
      std,
      diskTemplates: dts,
      vcpuRatio: readNum(owner + "/vcpu_ratio", f[4]!),
      spindleRatio: readNum(owner + "/spindle_ratio", f[5]!),
    },
  ];
}

/** Split into sections at empty lines, like Ganeti's `sepSplit "" . lines`. */
function sections(text: string): string[][] {
  const lines = text.split("\n");
  if (lines.length > 0 && lines[lines.length - 1] === "") lines.pop(); // `lines` drops the final newline
  const out: string[][] = [[]];
  for (const l of lines) {
    if (l === "") out.push([]);
    else out[out.length - 1]!.push(l);
  }
  return out;
}

export function parseText(text: string): ClusterData {
  const secs = sections(text);
  if (secs.length < 4) fail(`Invalid format of the input file: ${secs.length} sections instead of 4 or more`);
  const [glines, nlines, ilines, ctags] = secs as [string[], string[], string[], string[]];
  const pollines = secs[4] ?? [];
  const groups: Group[] = [];
  const gByUuid = new Map<string, number>();
  for (const line of glines) {
    const f = line.split("|");
    if (f.length < 4) fail(`Invalid/incomplete group data: '${JSON.stringify(f)}'`);
    const g: Group = {
      name: f[0]!,
      uuid: f[1]!,
      idx: groups.length,
      allocPolicy: allocPolicyFromRaw(f[2]!),
      tags: commaSplit(f[3]!),
      networks: commaSplit(f[4] ?? ""),
      ipolicy: defIPolicy(),
    };
    gByUuid.set(g.uuid, g.idx);
    groups.push(g);
  }
  const nodes: Node[] = [];
  const nByName = new Map<string, number>();
  for (const line of nlines) {
    const f = line.split("|");
    if (f.length < 9) fail(`Invalid/incomplete node data: '${JSON.stringify(f)}'`);
    const defaults = ["1", "", "N", "0", "1", "1.0"];
    while (f.length < 15) f.push(defaults[f.length - 9]!);
    const name = f[0]!;
    const gdx = gByUuid.get(f[8]!);
    if (gdx === undefined) fail(`Unknown group '${f[8]}' for node ${name}`);
    let n: Node;
    if (f.slice(1, 7).includes("?")) {
      n = createNode({
        name,
        tMem: 0,
        nMem: 0,
        fMem: 0,
        tDsk: 0,
        fDsk: 0,
        tCpu: 0,
        nCpu: 0,
        offline: true,
        tSpindles: 0,
        fSpindles: 0,
        group: gdx!,
        exclStorage: false,
      });
    } else {
      const excl = f[11]!;
      if (excl !== "Y" && excl !== "N") fail(`Invalid exclusive_storage value for node '${name}': ${excl}`);
      n = createNode({
        name,
        tMem: readNum(name, f[1]!),
        nMem: readInt(name, f[2]!),
        fMem: readInt(name, f[3]!),
        tDsk: readNum(name, f[4]!),
        fDsk: readInt(name, f[5]!),
        tCpu: readNum(name, f[6]!),
        nCpu: readInt(name, f[13]!),
        offline: f[7] === "Y",
        tSpindles: readInt(name, f[9]!),
        fSpindles: readInt(name, f[12]!),
        group: gdx!,
        exclStorage: excl === "Y",
      });
      n.isMaster = f[7] === "M";
      n.nTags = commaSplit(f[10]!);
      n.tCpuSpeed = readNum(name, f[14]!);
    }
    n.idx = nodes.length;
    nByName.set(name, n.idx);
    nodes.push(n);
  }
  const instances: Instance[] = [];
  for (const line of ilines) {
    const f = line.split("|");
    if (f.length < 10) fail(`Invalid/incomplete instance data: '${JSON.stringify(f)}'`);
    const defaults = ["1", "-", "N"];
    while (f.length < 13) f.push(defaults[f.length - 10]!);
    const name = f[0]!;
    const lookup = (nn: string): number => {
      const x = nByName.get(nn);
      if (x === undefined) fail(`Unknown node '${nn}' for instance ${name}`);
      return x!;
    };
    const pidx = lookup(f[6]!);
    const sidx = f[7] === "" ? -1 : lookup(f[7]!);
    const status = f[4]!;
    if (!(RUN_STATES as string[]).includes(status)) fail(`Invalid instance status '${status}'`);
    const ab = f[5]!;
    if (ab !== "Y" && ab !== "N") fail(`Invalid auto_balance value '${ab}' for instance ${name}`);
    let dt: DiskTemplate;
    try {
      dt = diskTemplateFromRaw(f[8]!);
    } catch (e) {
      throw new HtoolsError(`Instance ${name}: ${(e as Error).message}`, "ETEXT");
    }
    const dsize = readInt(name, f[2]!);
    const sp = f[11] === "-" ? null : readInt(name, f[11]!);
    const fc = f[12]!;
    if (fc !== "Y" && fc !== "N") fail(`Invalid forthcoming value '${fc}' for instance ${name}`);
    const inst = createInstance({
      name,
      mem: readInt(name, f[1]!),
      dsk: dsize,
      disks: [{ size: dsize, spindles: sp }],
      vcpus: readInt(name, f[3]!),
      runSt: status as RunState,
      tags: commaSplit(f[9]!),
      autoBalance: ab === "Y",
      pNode: pidx,
      sNode: sidx,
      diskTemplate: dt,
      spindleUse: readInt(name, f[10]!),
      forthcoming: fc === "Y",
    });
    if (requiredNodes(inst.diskTemplate) === 2 && sidx === pidx) fail(`Instance ${name} has same primary and secondary node - ${f[6]}`);
    inst.idx = instances.length;
    instances.push(inst);
  }
  let cpol = defIPolicy();
  for (const line of pollines) {
    const [owner, pol] = loadIPolicy(line.split("|"));
    if (owner === "") cpol = pol;
    else {
      const g = groups.find((x) => x.name === owner);
      if (!g) fail(`Unknown group '${owner}'`);
      g!.ipolicy = pol;
    }
  }
  return { groups, nodes, instances, tags: ctags, ipolicy: cpol };
}

// ---- serialisation -----------------------------------------------------------

/** Haskell's `show` for a Double: shortest digits, fixed for 0.1 <= |x| < 10^7. */
export function showDouble(x: number): string {
  if (x === 0) return "0.0";
  if (!Number.isFinite(x)) return x > 0 ? "Infinity" : x < 0 ? "-Infinity" : "NaN";
  const neg = x < 0 ? "-" : "";
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(Math.abs(x).toExponential())!;
  const ds = m[1]! + (m[2] ?? "");
  const e = Number(m[3]) + 1; // |x| = 0.ds × 10^e
  if (e >= 1 && e <= 7) {
    const ip = ds.slice(0, e).padEnd(e, "0");
    const fp = ds.slice(e) || "0";
    return `${neg}${ip}.${fp}`;
  }
  if (e <= 0 && e > -1) return `${neg}0.${"0".repeat(-e)}${ds}`;
  return `${neg}${ds[0]}.${ds.slice(1) || "0"}e${e - 1}`;
}

function serializeISpec(s: ISpec): string {
  return [s.memorySize, s.cpuCount, s.diskSize, s.diskCount, s.nicCount, s.spindleUse].join(",");
}
function serializeIPolicy(owner: string, p: IPolicy): string {
  const mm = p.minmax.flatMap((x) => [serializeISpec(x.min), serializeISpec(x.max)]).join(";");
  return [owner, serializeISpec(p.std), mm, p.diskTemplates.join(","), showDouble(p.vcpuRatio), showDouble(p.spindleRatio)].join("|");
}

export function serializeCluster(cd: ClusterData): string {
  const unlines = (xs: string[]): string => xs.map((x) => x + "\n").join("");
  const gdata = unlines(cd.groups.map((g) => [g.name, g.uuid, g.allocPolicy, g.tags.join(","), g.networks.join(",")].join("|")));
  const byIdx = new Map(cd.nodes.map((n) => [n.idx, n] as const));
  const gByIdx = new Map(cd.groups.map((g) => [g.idx, g] as const));
  const ndata = unlines(
    cd.nodes.map((n) =>
      [
        n.name,
        hsFixed(n.tMem, 0),
        n.nMem,
        n.fMem,
        hsFixed(n.tDsk, 0),
        n.fDsk,
        hsFixed(n.tCpu, 0),
        n.offline ? "Y" : n.isMaster ? "M" : "N",
        gByIdx.get(n.group)?.uuid ?? "",
        n.tSpindles,
        n.nTags.join(","),
        n.exclStorage ? "Y" : "N",
        n.fSpindles,
        n.nCpu,
        showDouble(n.tCpuSpeed),
      ].join("|"),
    ),
  );
  const idata = unlines(
    cd.instances.map((i) => {
      const sp = getTotalSpindles(i);
      return [
        i.name,
        i.mem,
        i.dsk,
        i.vcpus,
        i.runSt,
        i.autoBalance ? "Y" : "N",
        byIdx.get(i.pNode)?.name ?? "",
        i.sNode < 0 ? "" : (byIdx.get(i.sNode)?.name ?? ""),
        i.diskTemplate,
        i.allTags.join(","),
        i.spindleUse,
        sp === null ? "-" : String(sp),
        i.forthcoming ? "Y" : "N",
      ].join("|");
    }),
  );
  const pdata = unlines([serializeIPolicy("", cd.ipolicy), ...cd.groups.map((g) => serializeIPolicy(g.name, g.ipolicy))]);
  return [gdata, ndata, idata, unlines(cd.tags), pdata].join("\n");
}

const DT_SHOW: Record<string, string> = {
  diskless: "DTDiskless",
  file: "DTFile",
  sharedfile: "DTSharedFile",
  plain: "DTPlain",
  blockdev: "DTBlock",
  drbd: "DTDrbd8",
  rbd: "DTRbd",
  ext: "DTExt",
  gluster: "DTGluster",
};
function showISpec(s: ISpec): string {
  return `ISpec {iSpecMemorySize = ${s.memorySize}, iSpecCpuCount = ${s.cpuCount}, iSpecDiskSize = ${s.diskSize}, iSpecDiskCount = ${s.diskCount}, iSpecNicCount = ${s.nicCount}, iSpecSpindleUse = ${s.spindleUse}}`;
}
/** Haskell `show` of an IPolicy (hbal -v -v prints it). */
export function showIPolicy(p: IPolicy): string {
  const mm = p.minmax
    .map((m) => `MinMaxISpecs {minMaxISpecsMinSpec = ${showISpec(m.min)}, minMaxISpecsMaxSpec = ${showISpec(m.max)}}`)
    .join(",");
  return `IPolicy {iPolicyMinMaxISpecs = [${mm}], iPolicyStdSpec = ${showISpec(p.std)}, iPolicyDiskTemplates = [${p.diskTemplates.map((d) => DT_SHOW[d]).join(",")}], iPolicyVcpuRatio = ${showDouble(p.vcpuRatio)}, iPolicySpindleRatio = ${showDouble(p.spindleRatio)}}`;
}
