// Request inputs. Wire names, not camelCase (docs/architecture.md, Naming).
// The opcode-backed bodies are derived from the opcode schemas of
// @ganeti-ts/schema (OpcodeBody: the opcode's input minus OP_ID and what
// the path supplies), so there is one shape in one place; the server
// validates them, the SDK only passes them through. Extra parameters are
// allowed (`[key: string]: unknown`) so that a newer server's options stay
// reachable. Only the spellings the RAPI accepts besides the opcode's
// (Ganeti's renames: `name`, `os`, `destination`) are added here.
import type { z } from "zod";
import type {
  DiskSpecSchema,
  FilterRuleBodySchema,
  InstanceReinstallBodySchema,
  NicSpecSchema,
  OpcodeBody,
  OpcodeCommonBody,
  OpcodeParams,
} from "@ganeti-ts/schema";

type DiskSpecInput = z.input<typeof DiskSpecSchema>;
type NicSpecInput = z.input<typeof NicSpecSchema>;

/** Parameters common to every opcode. */
export type OpcodeCommon = OpcodeCommonBody;

type Inst = "instance_name" | "instance_uuid";
type NodeRef = "node_name" | "node_uuid";
type GroupRef = "group_name";
type NetRef = "network_name";

export type { DiskTemplate, Hypervisor } from "@ganeti-ts/schema";

/** A disk of a new instance (schema/'s DiskSpecSchema: sizes may be unit strings such as "1G"). */
export type DiskSpec = DiskSpecInput;
/** A NIC of a new instance (schema/'s NicSpecSchema). */
export type NicSpec = NicSpecInput;

/**
 * `POST /2/instances` (version-1 body; the SDK adds `__version__: 1`):
 * OP_INSTANCE_CREATE's parameters, with the RAPI's other spellings
 * (`name` for `instance_name`, `os` for `os_type`) and typed disks and NICs.
 */
export type InstanceCreateParams = Omit<OpcodeParams<"OP_INSTANCE_CREATE">, "instance_name" | "disks" | "nics"> & {
  [key: string]: unknown;
  instance_name?: string;
  name?: string;
  os?: string;
  disks: DiskSpec[];
  nics: NicSpec[];
};

/** `POST /2/instances-multi-alloc`: OP_INSTANCE_MULTI_ALLOC with creation bodies. */
export type InstanceMultiAllocParams = Omit<OpcodeParams<"OP_INSTANCE_MULTI_ALLOC">, "instances"> & {
  [key: string]: unknown;
  instances: Omit<InstanceCreateParams, "__version__">[];
};

export type InstanceRemoveParams = OpcodeBody<"OP_INSTANCE_REMOVE", Inst>;

export type InstanceShutdownParams = OpcodeBody<"OP_INSTANCE_SHUTDOWN", Inst>;

/** The reboot type travels in the query string (`type`). */
export type InstanceRebootParams = OpcodeBody<"OP_INSTANCE_REBOOT", Inst | "reboot_type">;

/** `POST /2/instances/NAME/reinstall` body. */
export type InstanceReinstallParams = z.input<typeof InstanceReinstallBodySchema>;

export type InstanceReplaceDisksParams = OpcodeBody<"OP_INSTANCE_REPLACE_DISKS", Inst>;

export type InstanceRecreateDisksParams = OpcodeBody<"OP_INSTANCE_RECREATE_DISKS", Inst>;

export type InstanceGrowDiskParams = OpcodeBody<"OP_INSTANCE_GROW_DISK", Inst | "disk">;

/** `destination` is the RAPI's old name of `target_node`. */
export type InstanceExportParams = Partial<OpcodeBody<"OP_BACKUP_EXPORT", Inst>> & { destination?: string | unknown[] };

export type InstanceMigrateParams = OpcodeBody<"OP_INSTANCE_MIGRATE", Inst>;

export type InstanceFailoverParams = OpcodeBody<"OP_INSTANCE_FAILOVER", Inst>;

export type InstanceRenameParams = OpcodeBody<"OP_INSTANCE_RENAME", Inst | "new_name">;

/** A disk/NIC modification: `[action, identifier, params]` or legacy `[op, params]` (§9.1). */
export type DeviceModification =
  | ["add" | "attach" | "modify" | "remove" | "detach", number | string, Record<string, unknown>]
  | ["add" | "attach" | "remove" | "detach" | number, Record<string, unknown>];

/** Disk and NIC modifications keep the loose form (params as any dict): the server checks them per device. */
export type InstanceModifyParams = Omit<OpcodeParams<"OP_INSTANCE_SET_PARAMS", Inst>, "disks" | "nics"> & {
  [key: string]: unknown;
  disks?: DeviceModification[];
  nics?: DeviceModification[];
};

export type NodeModifyParams = OpcodeBody<"OP_NODE_SET_PARAMS", NodeRef>;

export type NodeEvacuateParams = OpcodeBody<"OP_NODE_EVACUATE", NodeRef>;

export type NodeMigrateParams = OpcodeBody<"OP_NODE_MIGRATE", NodeRef>;

export type StorageType = "lvm-vg" | "lvm-pv" | "file" | (string & {});

/** `name` is the accepted old spelling of `group_name`. */
export type GroupCreateParams = OpcodeBody<"OP_GROUP_ADD", GroupRef> & { group_name?: string; name?: string };

export type GroupModifyParams = OpcodeBody<"OP_GROUP_SET_PARAMS", GroupRef>;

export type NetworkCreateParams = OpcodeBody<"OP_NETWORK_ADD">;

export type NetworkModifyParams = OpcodeBody<"OP_NETWORK_SET_PARAMS", NetRef>;

export type NetworkConnectParams = OpcodeBody<"OP_NETWORK_CONNECT", NetRef>;

/** `PUT /2/modify` (OP_CLUSTER_SET_PARAMS minus compression_tools). */
/** `PUT /2/modify` (OP_CLUSTER_SET_PARAMS). */
export type ClusterModifyParams = OpcodeBody<"OP_CLUSTER_SET_PARAMS">;

/** Filter rule body for `POST /2/filters` / `PUT /2/filters/UUID`. */
export type FilterRuleParams = z.input<typeof FilterRuleBodySchema>;
