// Ganeti's node group query fields (src/Ganeti/Query/Group.hs).
import type { GroupObject } from "@ganeti-ts/schema";
import { commonFields, f, fieldTable, ndparamFields, normal, type QueryContext } from "./types.js";

type G = GroupObject;
const members = (c: QueryContext, g: G) => Object.values(c.data.nodes).filter((n) => n.group === g.uuid);
const pinst = (c: QueryContext, g: G) => {
  const nodes = new Set(members(c, g).map((n) => n.uuid));
  return Object.values(c.data.instances)
    .filter((i) => nodes.has(i.primary_node))
    .map((i) => i.name)
    .sort();
};

export const GROUP_FIELDS = fieldTable<G>([
  f("alloc_policy", "AllocPolicy", "text", "Allocation policy for group", (g) => normal(g.alloc_policy)),
  f("custom_diskparams", "CustomDiskParameters", "other", "Custom disk parameters", (g) => normal(structuredClone(g.diskparams))),
  f("custom_ipolicy", "CustomInstancePolicy", "other", "Custom instance policy limitations", (g) => normal(structuredClone(g.ipolicy))),
  f("custom_ndparams", "CustomNDParams", "other", "Custom node parameters", (g) => normal({ ...g.ndparams })),
  f("diskparams", "DiskParameters", "other", "Disk parameters (merged)", (g, c) => normal(c.config.filledDiskparams(g))),
  f("ipolicy", "InstancePolicy", "other", "Instance policy limitations (merged)", (g, c) =>
    normal(structuredClone(c.config.filledIpolicy(g))),
  ),
  f("name", "Group", "text", "Group name", (g) => normal(g.name)),
  f("ndparams", "NDParams", "other", "Node parameters", (g, c) => normal(c.config.filledGroupNdparams(g))),
  f("node_cnt", "Nodes", "number", "Number of nodes", (g, c) => normal(members(c, g).length)),
  f("node_list", "NodeList", "other", "List of nodes", (g, c) =>
    normal(
      members(c, g)
        .map((n) => n.name)
        .sort(),
    ),
  ),
  f("pinst_cnt", "Instances", "number", "Number of primary instances", (g, c) => normal(pinst(c, g).length)),
  f("pinst_list", "InstanceList", "other", "List of primary instances", (g, c) => normal(pinst(c, g))),
  ...ndparamFields<G>((g, c) => c.config.filledGroupNdparams(g)),
  ...commonFields<G>("Group"),
]);
