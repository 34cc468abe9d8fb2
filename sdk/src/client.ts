// GanetiClient: options and resource namespaces, nothing else (docs/architecture.md, Naming).
import { Requester } from "./core/request.js";
import { JobWaiter } from "./core/job-handle.js";
import { Transport, type TransportOptions } from "./core/transport.js";
import { Cluster } from "./resources/cluster.js";
import { Filters } from "./resources/filters.js";
import { Groups } from "./resources/groups.js";
import { Instances } from "./resources/instances.js";
import { Jobs } from "./resources/jobs.js";
import { Networks } from "./resources/networks.js";
import { Nodes } from "./resources/nodes.js";
import { Os } from "./resources/os.js";
import { Query } from "./resources/query.js";
import { Tags } from "./resources/tags.js";

export type GanetiClientOptions = TransportOptions;

export class GanetiClient {
  readonly cluster: Cluster;
  readonly nodes: Nodes;
  readonly groups: Groups;
  readonly networks: Networks;
  readonly instances: Instances;
  readonly jobs: Jobs;
  readonly tags: Tags;
  readonly os: Os;
  readonly query: Query;
  readonly filters: Filters;
  private readonly transport: Transport;

  constructor(options: GanetiClientOptions) {
    this.transport = new Transport(options);
    const waiter = new JobWaiter(this.transport);
    const r = new Requester(this.transport, () => waiter);
    this.cluster = new Cluster(r);
    this.nodes = new Nodes(r);
    this.groups = new Groups(r);
    this.networks = new Networks(r);
    this.instances = new Instances(r);
    this.jobs = new Jobs(r, waiter);
    this.tags = new Tags(r);
    this.os = new Os(r);
    this.query = new Query(r);
    this.filters = new Filters(r);
  }

  /** Close idle keep-alive connections (lets the process exit promptly). */
  close(): void {
    this.transport.close();
  }
}
