// @ganeti-ts/pulumi: Instance, NodeGroup and Network as Pulumi dynamic
// resources. Type tokens (fixed forever):
//   pulumi-nodejs:dynamic/ganeti:Instance
//   pulumi-nodejs:dynamic/ganeti:NodeGroup
//   pulumi-nodejs:dynamic/ganeti:Network
//
// Connection (read by the provider at call time, never stored in the state):
//   stack config ganeti:url, ganeti:user, ganeti:password (secret),
//   ganeti:caCert (PEM or path), ganeti:fingerprint, ganeti:insecure;
//   or GANETI_RAPI_URL, GANETI_RAPI_USER, GANETI_RAPI_PASSWORD, GANETI_RAPI_CA,
//   GANETI_RAPI_FINGERPRINT, GANETI_RAPI_INSECURE.
import * as pulumi from "@pulumi/pulumi";
import { providerStub, TOKEN_MODULE, typeToken, type ResourceKind } from "./core/define-resource.js";
import { INSTANCE_SECRET_OUTPUTS, type InstanceDisk, type InstanceNic, type InstanceUpdatePolicy } from "./resources/instance.js";
import type { NetworkConnection } from "./resources/network.js";
import type { Timeouts } from "./core/timeouts.js";
import type { InstanceConsole } from "@ganeti-ts/schema";

export type { InstanceInputs, InstanceOutputs, InstanceDisk, InstanceNic, InstanceUpdatePolicy } from "./resources/instance.js";
export type { NodeGroupInputs, NodeGroupOutputs } from "./resources/node-group.js";
export type { NetworkInputs, NetworkOutputs, NetworkConnection } from "./resources/network.js";
export type { Timeouts } from "./core/timeouts.js";
export { typeToken, TOKEN_MODULE } from "./core/define-resource.js";
export { CONFIG_KEYS } from "./core/client.js";
export * from "./core/errors.js";

type In<T> = pulumi.Input<T>;
type InDict = In<Record<string, In<string | number | boolean>>>;

/** Every output key must be present (as undefined) in the props for Pulumi to register it. */
function props(args: object, outputs: readonly string[]): Record<string, unknown> {
  const p: Record<string, unknown> = { ...args };
  for (const k of outputs) if (!(k in p)) p[k] = undefined;
  return p;
}

function options(opts: pulumi.CustomResourceOptions | undefined, secrets: readonly string[]): pulumi.CustomResourceOptions {
  return { ...opts, additionalSecretOutputs: [...(opts?.additionalSecretOutputs ?? []), ...secrets] };
}

// Provider stubs are shared per kind: Pulumi caches a provider's serialized
// text per object, so one object per kind serializes once.
const stubs = new Map<ResourceKind, ReturnType<typeof providerStub>>();
function stub(kind: ResourceKind) {
  let s = stubs.get(kind);
  if (!s) {
    s = providerStub(kind);
    stubs.set(kind, s);
  }
  return s;
}

// ------------------------------------------------------------------ Instance

export interface InstanceArgs {
  /** Instance name (FQDN); a change renames in place. */
  name: In<string>;
  /** diskless, file, sharedfile, plain, drbd, ... */
  diskTemplate: In<string>;
  disks?: In<In<{ size: In<number | string>; name?: In<string>; mode?: In<"rw" | "ro">; spindles?: In<number> }>[]>;
  nics?: In<
    In<{
      network?: In<string>;
      link?: In<string>;
      mode?: In<"bridged" | "routed" | "openvswitch">;
      ip?: In<string>;
      mac?: In<string>;
      name?: In<string>;
      vlan?: In<string>;
    }>[]
  >;
  os: In<string>;
  osParams?: InDict;
  /** Private OS parameters (stored as a secret). */
  osParamsPrivate?: InDict;
  hypervisor?: In<string>;
  hvParams?: InDict;
  /** Sets minMemory and maxMemory together (MiB or "1G"). */
  memory?: In<number | string>;
  minMemory?: In<number | string>;
  maxMemory?: In<number | string>;
  vcpus?: In<number>;
  autoBalance?: In<boolean>;
  alwaysFailover?: In<boolean>;
  primaryNode?: In<string>;
  secondaryNode?: In<string>;
  iallocator?: In<string>;
  group?: In<string>;
  tags?: In<In<string>[]>;
  /** Desired state (default "running"). */
  state?: In<"running" | "stopped">;
  updatePolicy?: In<InstanceUpdatePolicy>;
  /** Resolve the name in DNS on create/rename (default false). */
  nameCheck?: In<boolean>;
  /** Take over an existing instance of this name instead of creating one. */
  adopt?: In<boolean>;
  timeouts?: In<Timeouts>;
}

const INSTANCE_OUTPUTS = [
  "uuid",
  "primaryNode",
  "secondaryNode",
  "secondaryNodes",
  "status",
  "nicIps",
  "nicMacs",
  "nicUuids",
  "networkPort",
  "diskUuids",
  "runtimeMemory",
  "console",
  "ctime",
  "mtime",
  "disks",
  "nics",
  "minMemory",
  "maxMemory",
  "vcpus",
  "autoBalance",
  "alwaysFailover",
  "tags",
  "state",
  "osParamsPrivate",
] as const;

export class Instance extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly diskTemplate: pulumi.Output<string>;
  declare readonly disks: pulumi.Output<InstanceDisk[]>;
  declare readonly nics: pulumi.Output<InstanceNic[]>;
  declare readonly os: pulumi.Output<string>;
  declare readonly minMemory: pulumi.Output<number>;
  declare readonly maxMemory: pulumi.Output<number>;
  declare readonly vcpus: pulumi.Output<number>;
  declare readonly autoBalance: pulumi.Output<boolean>;
  declare readonly alwaysFailover: pulumi.Output<boolean>;
  declare readonly tags: pulumi.Output<string[]>;
  declare readonly state: pulumi.Output<"running" | "stopped">;
  declare readonly osParamsPrivate: pulumi.Output<Record<string, string | number | boolean> | undefined>;
  declare readonly uuid: pulumi.Output<string>;
  declare readonly primaryNode: pulumi.Output<string>;
  declare readonly secondaryNode: pulumi.Output<string | undefined>;
  declare readonly secondaryNodes: pulumi.Output<string[]>;
  declare readonly status: pulumi.Output<string>;
  declare readonly nicIps: pulumi.Output<(string | null)[]>;
  declare readonly nicMacs: pulumi.Output<string[]>;
  declare readonly nicUuids: pulumi.Output<string[]>;
  declare readonly networkPort: pulumi.Output<number | null>;
  declare readonly diskUuids: pulumi.Output<string[]>;
  /** Memory the running instance has now (the balloon's size), null when stopped. */
  declare readonly runtimeMemory: pulumi.Output<number | null>;
  /** Ganeti's console description (`kind` ssh/vnc/spice/msg, `host`, `command`...), null when stopped. */
  declare readonly console: pulumi.Output<InstanceConsole | null>;
  declare readonly ctime: pulumi.Output<number | null>;
  declare readonly mtime: pulumi.Output<number | null>;

  constructor(name: string, args: InstanceArgs, opts?: pulumi.CustomResourceOptions) {
    super(stub("Instance"), name, props(args, INSTANCE_OUTPUTS), options(opts, INSTANCE_SECRET_OUTPUTS), TOKEN_MODULE, "Instance");
  }
}

// ------------------------------------------------------------------ NodeGroup

export interface NodeGroupArgs {
  name: In<string>;
  /** preferred (default), last_resort, unallocable. */
  allocPolicy?: In<"preferred" | "last_resort" | "unallocable">;
  /** Group instance policy overrides (Ganeti's ipolicy dict). */
  ipolicy?: In<Record<string, unknown>>;
  ndParams?: In<Record<string, unknown>>;
  /** Per disk template overrides: `{ drbd: { resync-rate: 1024 } }`. */
  diskParams?: In<Record<string, In<Record<string, unknown>>>>;
  /** Nodes assigned to this group. */
  nodes?: In<In<string>[]>;
  tags?: In<In<string>[]>;
  adopt?: In<boolean>;
  timeouts?: In<Timeouts>;
}

const GROUP_OUTPUTS = ["uuid", "nodeList", "ctime", "mtime", "allocPolicy", "tags"] as const;

export class NodeGroup extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly allocPolicy: pulumi.Output<string>;
  declare readonly tags: pulumi.Output<string[]>;
  declare readonly uuid: pulumi.Output<string>;
  declare readonly nodeList: pulumi.Output<string[]>;
  declare readonly ctime: pulumi.Output<number | null>;
  declare readonly mtime: pulumi.Output<number | null>;

  constructor(name: string, args: NodeGroupArgs, opts?: pulumi.CustomResourceOptions) {
    super(stub("NodeGroup"), name, props(args, GROUP_OUTPUTS), options(opts, []), TOKEN_MODULE, "NodeGroup");
  }
}

// ------------------------------------------------------------------ Network

export interface NetworkArgs {
  /** Network name (Ganeti cannot rename networks: a change replaces it). */
  name: In<string>;
  /** IPv4 CIDR, e.g. "192.0.2.0/24" (a change replaces the network). */
  subnet: In<string>;
  gateway?: In<string>;
  subnet6?: In<string>;
  gateway6?: In<string>;
  /** "aa:00:01" style MAC prefix for NICs in this network. */
  macPrefix?: In<string>;
  /** Addresses reserved outside Ganeti's allocation. */
  reservedIps?: In<In<string>[]>;
  /** Node groups the network is connected to, with the NIC mode and link there. */
  connections?: In<In<{ group: In<string>; mode: In<"bridged" | "routed" | "openvswitch">; link: In<string>; vlan?: In<string> }>[]>;
  tags?: In<In<string>[]>;
  adopt?: In<boolean>;
  timeouts?: In<Timeouts>;
}

const NETWORK_OUTPUTS = [
  "uuid",
  "freeCount",
  "reservedCount",
  "instances",
  "ctime",
  "mtime",
  "reservedIps",
  "connections",
  "tags",
] as const;

export class Network extends pulumi.dynamic.Resource {
  declare readonly name: pulumi.Output<string>;
  declare readonly subnet: pulumi.Output<string>;
  declare readonly reservedIps: pulumi.Output<string[]>;
  declare readonly connections: pulumi.Output<NetworkConnection[]>;
  declare readonly tags: pulumi.Output<string[]>;
  declare readonly uuid: pulumi.Output<string>;
  declare readonly freeCount: pulumi.Output<number>;
  declare readonly reservedCount: pulumi.Output<number>;
  declare readonly instances: pulumi.Output<string[]>;
  declare readonly ctime: pulumi.Output<number | null>;
  declare readonly mtime: pulumi.Output<number | null>;

  constructor(name: string, args: NetworkArgs, opts?: pulumi.CustomResourceOptions) {
    super(stub("Network"), name, props(args, NETWORK_OUTPUTS), options(opts, []), TOKEN_MODULE, "Network");
  }
}

/** The type token of each resource, for tests and docs. */
export const TYPE_TOKENS = {
  Instance: typeToken("Instance"),
  NodeGroup: typeToken("NodeGroup"),
  Network: typeToken("Network"),
} as const;
