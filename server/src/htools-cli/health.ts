// Checks shared by hinfo and hcheck (Ganeti's Cluster.computeBadItems).
import type { Node } from "../htools/node.js";

/** The online nodes failing N+1 and the distinct instances on them (primary or secondary). */
export function badItems(nl: readonly Node[]): { nodes: number; instances: number } {
  const bad = nl.filter((n) => !n.offline && n.failN1);
  const insts = new Set(bad.flatMap((n) => [...n.sList, ...n.pList]));
  return { nodes: bad.length, instances: insts.size };
}
