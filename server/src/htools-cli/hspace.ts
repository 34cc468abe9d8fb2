// hspace: capacity planning (command-line front end of htools/hspace.ts).
import "./hspace-tuning.js";
import {
  COMMON_OPTS,
  type OptSpec,
  runMain,
  loadExternalData,
  verbosity,
  out,
  err,
  saveCluster,
  printNodes,
  nodeFieldsOpt,
  showWarnings,
  startTool,
} from "./common.js";
import { HtoolsError, type DiskTemplate, type RSpec, DISK_TEMPLATES, FAIL_MODES } from "../htools/types.js";
import { setNodeStatus, commonSuffix, type ClusterData } from "../htools/loader.js";
import { hspace, totalResources, type CStats, type HspacePhase } from "../htools/hspace.js";
import { compCV, printStatsTable } from "../htools/metrics.js";
import { hsFixed } from "../htools/format.js";
import { showDouble } from "../htools/text.js";
import { requiredNodes, getTotalSpindles } from "../htools/instance.js";
import { parseUnit } from "../htools/simu.js";
import type { Node } from "../htools/node.js";
import type { Instance } from "../htools/types.js";
import { formatTable } from "../htools/metrics.js";

const SPECS: OptSpec[] = [
  ...COMMON_OPTS,
  { long: ["disk-template"], arg: "req", key: "diskTemplate", help: "disk template for the simulated instances" },
  { long: ["spindle-use"], arg: "req", key: "spindleUse", help: "spindle use of the simulated instances" },
  { long: ["independent-groups"], arg: "none", key: "independentGroups", help: "consider groups independently for N+1" },
  { long: ["accept-existing"], arg: "none", key: "acceptExisting", help: "accept existing N+1 violations" },
  { long: ["machine-readable"], arg: "opt", key: "machineReadable", help: "print HTS_* shell assignments" },
  { long: ["mcpu", "max-cpu"], arg: "req", key: "mcpu", help: "maximum virtual-to-physical cpu ratio" },
  { short: "l", long: ["max-length"], arg: "req", key: "maxLength", help: "maximum number of instances to allocate" },
  { long: ["min-disk"], arg: "req", key: "mdsk", help: "minimum free disk ratio" },
  { long: ["standard-alloc"], arg: "req", key: "stdSpec", help: "standard spec: DISK,RAM,CPU[,SPINDLES]" },
  { long: ["tiered-alloc"], arg: "req", key: "tieredSpec", help: "tiered spec: DISK,RAM,CPU[,SPINDLES]" },
];

function parseSpec(s: string, what: string): RSpec {
  const f = s.split(",");
  if (f.length < 3 || f.length > 4) throw new HtoolsError(`Invalid ${what} specification: '${s}'`);
  return { dsk: parseUnit(f[0]!), mem: parseUnit(f[1]!), cpu: Number(f[2]), spn: f[3] !== undefined ? Number(f[3]) : 1 };
}

// (one write per group of keys: hspace prints ~100 of them, and each write
// costs a system call and a pass through Node's fs.writeSync)
const keys = (prefix: string, kv: Array<[string, string]>): void => {
  let s = "";
  for (const [k, v] of kv) s += `${prefix}_${k.toUpperCase()}=${/^[A-Za-z0-9.]*$/.test(v) ? v : `'${v}'`}\n`;
  if (s !== "") out(s);
};
const HTS = (kv: Array<[string, string]>): void => keys("HTS", kv);

const effs = (cs: CStats) => ({
  mem: cs.imem / cs.tmem,
  dsk: cs.idsk / cs.tdsk,
  cpu: cs.icpu / cs.vcpu,
  spn: cs.ispn / cs.tspn,
});

function statsKV(kind: string, cs: CStats): Array<[string, string]> {
  const e = effs(cs);
  const f8 = (x: number) => hsFixed(x, 8);
  return [
    ["SCORE", f8(cs.score)],
    ["INST_CNT", String(cs.ninst)],
    ["MEM_FREE", String(cs.fmem)],
    ["MEM_AVAIL", String(cs.amem)],
    ["MEM_RESVD", String(cs.fmem - cs.amem)],
    ["MEM_INST", String(cs.imem)],
    ["MEM_OVERHEAD", String(cs.xmem + cs.nmem)],
    ["MEM_EFF", f8(e.mem)],
    ["DSK_FREE", String(cs.fdsk)],
    ["DSK_AVAIL", String(cs.adsk)],
    ["DSK_RESVD", String(cs.fdsk - cs.adsk)],
    ["DSK_INST", String(cs.idsk)],
    ["DSK_EFF", f8(e.dsk)],
    ["SPN_FREE", String(cs.fspn)],
    ["SPN_INST", String(cs.ispn)],
    ["SPN_EFF", f8(e.spn)],
    ["CPU_INST", String(cs.icpu)],
    ["CPU_EFF", f8(e.cpu)],
    ["MNODE_MEM_AVAIL", String(cs.mmem)],
    ["MNODE_DSK_AVAIL", String(cs.mdsk)],
  ].map(([k, v]) => [`${kind}_${k}`, v] as [string, string]);
}

const fmtRes = (r: RSpec, spn: boolean): string => `MEM ${r.mem}, DSK ${r.dsk}, CPU ${r.cpu}` + (spn ? `, SPN ${r.spn}` : "");

function printEff(cs: CStats, spn: boolean): void {
  const e = effs(cs);
  const rows: Array<[string, number]> = [
    ["memory", e.mem],
    ["disk", e.dsk],
    ["vcpu", e.cpu],
    ...(spn ? ([["spindles", e.spn]] as Array<[string, number]>) : []),
  ];
  const len = Math.max(...rows.map((r) => r[0].length));
  for (const [s, v] of rows) out(`  - ${s.padStart(len)} usage efficiency: ${hsFixed(v * 100, 2).padStart(5)}%\n`);
}

function printFRScores(ini: Node[], fin: Node[], reasons: HspacePhase["fails"]): void {
  // Nothing was tried (-l 0): Ganeti's hspace stops here too ("Prelude.head: empty list", exit 1).
  if (reasons.length === 0) throw new HtoolsError("no allocation was tried (-l 0?), so there is no failure reason to report");
  out(`  - most likely failure reason: ${reasons[0]![0]}\n`);
  out(`  - initial cluster score: ${hsFixed(compCV(ini), 8)}\n`);
  out(`  -   final cluster score: ${hsFixed(compCV(fin), 8)}\n`);
  printEff(
    totalResources(fin),
    fin.some((n) => n.exclStorage),
  );
}

function allocationMap(verbose: number, msg: string, nodes: Node[], ixes: Instance[]): void {
  if (verbose <= 1) return;
  const excl = nodes.some((n) => n.exclStorage);
  const rows = ixes.map((i) => {
    const sp = getTotalSpindles(i);
    return [
      i.name,
      nodes[i.pNode]!.name,
      i.sNode < 0 ? "" : nodes[i.sNode]!.name,
      String(i.mem),
      String(i.dsk),
      String(i.vcpus),
      excl ? (sp === null ? "?" : String(sp)) : "",
    ];
  });
  if (rows.length === 0) return err(`${msg} map\n`);
  const t = formatTable(
    "",
    rows[0]!.map(() => ""),
    rows,
    [false, false, false, true, true, true, true],
  )
    .split("\n")
    .slice(1)
    .join("\n");
  err(`${msg} map\n` + t);
}

function withPrefix<T>(p: string, f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof HtoolsError && e.code !== "EHSPACE") throw new HtoolsError(`${p}: ${e.message}`, e.code);
    throw e;
  }
}

async function main(): Promise<number> {
  const cmd = startTool("hspace", SPECS);
  if (typeof cmd === "number") return cmd;
  const { opts: o, args } = cmd;
  if (args.length > 0) throw new HtoolsError("This program doesn't take any arguments.");
  const verbose = verbosity(o);
  const mr = o.machineReadable !== undefined && o.machineReadable !== "no";
  const { cd: cd0, warnings } = await loadExternalData(o);
  if (verbose > 0) showWarnings(warnings);
  const cd: ClusterData = cd0;
  setNodeStatus(cd, {
    offline: (o.offline as string[] | undefined) ?? [],
    mcpu: o.mcpu !== undefined ? Number(o.mcpu) : undefined,
    mdsk: o.mdsk !== undefined ? Number(o.mdsk) : 0,
  });
  let dt: DiskTemplate | undefined;
  if (typeof o.diskTemplate === "string") {
    if (!(DISK_TEMPLATES as string[]).includes(o.diskTemplate)) throw new HtoolsError(`Invalid disk template '${o.diskTemplate}'`);
    dt = o.diskTemplate as DiskTemplate;
  }
  const csf = commonSuffix(cd);
  if (csf && verbose > 1) err(`Note: Stripping common suffix of '${csf}' from names\n`);
  const pn = nodeFieldsOpt(o.printNodes);
  if (pn) err("\nInitial cluster status:\n" + printNodes(cd.nodes, pn) + "\n");
  if (verbose > 2) err(`Initial coefficients: overall ${hsFixed(compCV(cd.nodes), 8)}\n` + printStatsTable("  ", cd.nodes));
  const ini = totalResources(cd.nodes);
  const excl = cd.nodes.some((n) => n.exclStorage);
  if (mr) {
    HTS([
      ["CLUSTER_MEM", hsFixed(ini.tmem, 0)],
      ["CLUSTER_DSK", hsFixed(ini.tdsk, 0)],
      ["CLUSTER_CPU", hsFixed(ini.tcpu, 0)],
      ["CLUSTER_VCPU", String(ini.vcpu)],
      ["CLUSTER_SPN", hsFixed(ini.tspn, 0)],
    ]);
    HTS([["CLUSTER_NODES", String(cd.nodes.length)]]);
    HTS(statsKV("INI", ini));
  } else {
    out(
      `The cluster has ${cd.nodes.length} nodes and the following resources:\n  MEM ${hsFixed(ini.tmem, 0)}, DSK ${hsFixed(ini.tdsk, 0)}, CPU ${hsFixed(ini.tcpu, 0)}, VCPU ${ini.vcpu}${excl ? `, SPN ${hsFixed(ini.tspn, 0)}` : ""}.\n`,
    );
    out(`There are ${ini.ninst > 0 ? ini.ninst : "no"} initial instances on the cluster.\n`);
  }
  const res = withPrefix("failure during allocation", () =>
    hspace(cd, {
      diskTemplate: dt,
      spindleUse: o.spindleUse !== undefined ? Number(o.spindleUse) : undefined,
      independentGroups: !!o.independentGroups,
      computeBadGroups: verbose > 3,
      acceptExisting: !!o.acceptExisting,
      capacity: !o.noCapacity,
      ignoreSoftErrors: !!o.ignoreSoftErrors,
      maxLength: o.maxLength !== undefined ? Number(o.maxLength) : -1,
      tieredSpec: typeof o.tieredSpec === "string" ? parseSpec(o.tieredSpec, "tiered") : null,
      stdSpec: typeof o.stdSpec === "string" ? parseSpec(o.stdSpec, "standard") : null,
    }),
  );
  if (verbose > 3 && res.badNodes.length > 0) err(`Bad nodes: ${JSON.stringify(res.badNodes).replace(/","/g, '","')}\n`);
  if (verbose > 3 && res.badGroups.length > 0) err(`Bad groups: ${JSON.stringify(res.badGroups)}\n`);
  const phase = (p: HspacePhase, name: string, prefix: string, desc: string): void => {
    const excl2 = p.nodes.some((n) => n.exclStorage);
    if (mr) {
      HTS([
        [`${prefix}_MEM`, String(p.spec.mem)],
        [`${prefix}_DSK`, String(p.spec.dsk)],
        [`${prefix}_CPU`, String(p.spec.cpu)],
        [`${prefix}_SPN`, String(p.spec.spn)],
      ]);
      HTS([[`${prefix}_RQN`, String(requiredNodes(res.diskTemplate))]]);
      HTS([[`${prefix}_DISK_TEMPLATE`, res.diskTemplate]]);
    } else out(`${desc} instance spec is:\n  ${fmtRes(p.spec, excl2)}, using disk template '${res.diskTemplate}'.\n`);
    const newIxes = p.il.slice(res.numInstances);
    allocationMap(verbose, `${name} allocation`, p.nodes, newIxes);
    if (pn) err(`\n${name} allocation status:\n` + printNodes(p.nodes, pn) + "\n");
    const s = saveCluster(o.saveCluster as string | undefined, name.toLowerCase(), `after ${name.toLowerCase()} allocation`, {
      ...cd,
      nodes: p.nodes,
      instances: p.il,
    });
    if (s) err(s);
  };
  // Tiered
  phase(res.tiered, "Tiered", "TSPEC_INI", "Tiered (initial size)");
  if (mr) {
    const trl = totalResources(res.tiered.nodes);
    HTS(statsKV("TRL", trl));
    HTS([["TSPEC", res.tiered.specMap.map(([s, c]) => `${s.mem},${s.dsk},${s.cpu},${s.spn}=${c}`).join(" ")]]);
    const kc = (s: string, r: { vc: number; nc: number; m: number; d: number; sp: number }): Array<[string, string]> => [
      [`KM_${s}_CPU`, String(r.vc)],
      [`KM_${s}_NPU`, showDouble(r.nc)],
      [`KM_${s}_MEM`, String(r.m)],
      [`KM_${s}_DSK`, String(r.d)],
      [`KM_${s}_SPN`, String(r.sp)],
    ];
    HTS(kc("USED", { vc: ini.icpu, nc: ini.ncpu, m: ini.imem, d: ini.idsk, sp: ini.ispn }));
    HTS(
      kc("POOL", {
        vc: trl.icpu - ini.icpu,
        nc: trl.ncpu - ini.ncpu,
        m: trl.imem - ini.imem,
        d: trl.idsk - ini.idsk,
        sp: trl.ispn - ini.ispn,
      }),
    );
    HTS(
      kc("UNAV", {
        vc: trl.vcpu - trl.icpu,
        nc: trl.tcpu - trl.ncpu,
        m: Math.trunc(trl.tmem) - trl.imem,
        d: Math.trunc(trl.tdsk) - trl.idsk,
        sp: Math.trunc(trl.tspn) - trl.ispn,
      }),
    );
  } else {
    out("Tiered allocation results:\n");
    const spn = cd.nodes.some((n) => n.exclStorage);
    if (res.tiered.specMap.length === 0) out("  - no instances allocated\n");
    else for (const [s, c] of res.tiered.specMap) out(`  - ${String(c).padStart(3)} instances of spec ${fmtRes(s, spn)}\n`);
    printFRScores(cd.nodes, res.tiered.nodes, res.tiered.fails);
  }
  // Standard
  phase(res.standard, "Standard", "SPEC", "Standard (fixed-size)");
  const fin = totalResources(res.standard.nodes);
  if (mr) {
    if (res.numInstances + res.standard.allocated !== fin.ninst)
      throw new HtoolsError(`internal inconsistency, allocated (${res.numInstances + res.standard.allocated}) != counted (${fin.ninst})\n`);
    HTS(statsKV("FIN", fin));
    const total = res.numInstances + res.standard.allocated;
    HTS([
      ["ALLOC_USAGE", hsFixed(res.numInstances / total, 8)],
      ["ALLOC_INSTANCES", String(res.standard.allocated)],
      ["ALLOC_FAIL_REASON", res.standard.fails[0]![0].toUpperCase()],
    ]);
    HTS(res.standard.fails.map(([f, c]) => [`ALLOC_${f}_CNT`, String(c)] as [string, string]));
    HTS([["OK", "1"]]);
  } else {
    out("Normal (fixed-size) allocation results:\n");
    out(`  - ${String(res.standard.allocated).padStart(3)} instances allocated\n`);
    printFRScores(cd.nodes, res.standard.nodes, res.standard.fails);
  }
  void FAIL_MODES;
  return 0;
}

// not awaited: the bundles are CommonJS (no top-level await); runMain sets the exit code
void runMain("hspace", main);
