// Fixture program for test/e2e/pulumi-engine.int.test.ts. The examples stay
// what a user runs; this one takes its whole shape from the `spec` config so
// that a test can change one field per `pulumi up`.
import * as pulumi from "@pulumi/pulumi";
import { Instance } from "@ganeti-ts/pulumi";

interface Spec {
  node: string;
  memory: number | string;
  disks: (number | string)[];
  /** Number of NICs, all bridged on br0. */
  nics: number;
  tags: string[];
  /** Adds an instance that needs more memory than any node has (a failing job). */
  hog?: boolean;
}

const spec = new pulumi.Config().requireObject<Spec>("spec");

const app = new Instance("app", {
  name: "e2e-app.example.com",
  diskTemplate: "file",
  os: "noop",
  hypervisor: "fake",
  primaryNode: spec.node,
  memory: spec.memory,
  vcpus: 1,
  disks: spec.disks.map((size) => ({ size })),
  nics: Array.from({ length: spec.nics }, () => ({ link: "br0" })),
  tags: spec.tags,
  updatePolicy: { allowReboot: true },
});

if (spec.hog) {
  new Instance("hog", {
    name: "e2e-hog.example.com",
    diskTemplate: "diskless",
    os: "noop",
    hypervisor: "fake",
    memory: "64T",
    vcpus: 1,
    iallocator: "hail",
    nics: [{ link: "br0" }],
    timeouts: { create: "2m" },
  });
}

export const appUuid = app.uuid;
export const appStatus = app.status;
