// harep's pure decisions (Ganeti's Harep.hs and Loader.getArPolicy rules).
import { describe, expect, it } from "vitest";
import { parseText } from "../../src/htools/text.js";
import { mergeData } from "../../src/htools/loader.js";
import { arPolicyOf, arTag, detectBroken, initialState, instancePolicies, parseArTag, typeAllowed } from "../../src/htools/harep.js";

const P = "ganeti:watcher:autorepair:";
const U1 = "11111111-1111-4111-8111-111111111111";
const U2 = "22222222-2222-4222-8222-222222222222";

describe("auto-repair tags", () => {
  it("parses pending and result records; malformed ones (and enoperm's empty job list) are not records", () => {
    expect(parseArTag(`${P}pending:failover:${U1}:100:5+6`)).toMatchObject({
      type: "failover",
      uuid: U1,
      time: 100,
      jobs: [5, 6],
      result: null,
    });
    expect(parseArTag(`${P}result:reinstall:${U1}:100:success:7`)).toMatchObject({ type: "reinstall", result: "success", jobs: [7] });
    expect(parseArTag(`${P}result:failover:${U1}:100:enoperm:`)).toBeNull();
    expect(parseArTag(`${P}pending:explode:${U1}:100:5`)).toBeNull();
    expect(parseArTag(`${P}pending:failover:${U1}:100`)).toBeNull();
    expect(parseArTag(`${P}failover`)).toBeNull();
    const d = { type: "fix-storage" as const, uuid: U1, time: 5, jobs: [1, 2], result: "failure" as const };
    expect(arTag(d)).toBe(`${P}result:fix-storage:${U1}:5:failure:1+2`);
    expect(parseArTag(arTag(d))).toMatchObject(d);
  });

  it("policy: suspend (for ever, with or without its colon; until a future time) beats enabling; the lowest enabled type wins", () => {
    expect(arPolicyOf([`${P}suspend`, `${P}reinstall`], 1000)).toEqual({ kind: "suspended", until: null });
    expect(arPolicyOf([`${P}suspend:`], 1000)).toEqual({ kind: "suspended", until: null });
    expect(arPolicyOf([`${P}suspend:2000`, `${P}suspend:3000`], 1000)).toEqual({ kind: "suspended", until: 3000 });
    expect(arPolicyOf([`${P}suspend:500`, `${P}reinstall`, `${P}migrate`], 1000)).toEqual({ kind: "enabled", max: "migrate" });
    expect(arPolicyOf(["other"], 1000)).toBeNull();
    expect(typeAllowed("fix-storage", "failover")).toBe(true);
    expect(typeAllowed("reinstall", "failover")).toBe(false);
  });

  it("an instance's repair state: earliest failure wins, a newer repair replaces a finished one, two unfinished ones are an error", () => {
    const fail = `${P}result:failover:${U1}:100:failure:1`;
    const later = `${P}result:failover:${U2}:200:success:2`;
    expect(initialState("i", [later, fail]).state).toMatchObject({ kind: "failed", data: { uuid: U1 } });
    const ok = `${P}result:failover:${U1}:100:success:1`;
    const pend = `${P}pending:failover:${U2}:200:2`;
    const s = initialState("i", [ok, pend]);
    expect(s.state).toMatchObject({ kind: "pending", data: { uuid: U2 } });
    expect(s.remove).toEqual([ok]);
    const pend2 = `${P}pending:migrate:${U1}:100:3`;
    expect(() => initialState("i", [pend2, pend])).toThrow(
      `An unfinished repair was found in instance i: found tag "${pend}", but older pending tag "${pend2}"exists.`,
    );
  });
});

// Ganeti's testsuite cluster hbal-evac.data: node-E is offline
const EVAC = `group-01|fake-uuid-01|preferred||

node-E|4000|0|2000|6000|3000|32|Y|fake-uuid-01|4
node-1|4000|0|3000|6000|4000|32|N|fake-uuid-01|4
node-2|4000|0|3000|6000|1000|32|N|fake-uuid-01|4
node-3|4000|0|2000|6000|2000|32|N|fake-uuid-01|4

inst-p1|1000|1000|1|running|Y|node-E|node-1|drbd||1
inst-p2|1000|1000|1|running|Y|node-E|node-3|drbd||1
inst-s1|1000|1000|1|running|Y|node-2|node-E|drbd||1
inst-12|1000|1000|1|running|Y|node-1|node-2|drbd||1
inst-32a|1000|1000|1|running|Y|node-3|node-2|drbd||1
inst-32b|1000|1000|1|running|Y|node-3|node-2|drbd||1

|128,1,1024,1,1,1|128,1,1024,1,1,1;32768,8,1048576,16,8,12|diskless,file,sharedfile,plain,blockdev,drbd,rbd,ext|4.0|32.0
group-01|128,1,1024,1,1,1|128,1,1024,1,1,1;32768,8,1048576,16,8,12|diskless,file,sharedfile,plain,blockdev,drbd,rbd,ext|4.0|32.0
`;

describe("detectBroken and policies on Ganeti's test cluster (hbal-evac.data: node-E offline)", () => {
  const cd = mergeData(parseText(EVAC));
  const byName = (n: string) => cd.instances.findIndex((i) => i.name === n);

  it("DRBD: primary offline -> failover, secondary offline -> a new secondary through hail, both online -> nothing", () => {
    expect(detectBroken(cd, byName("inst-p1"))).toMatchObject({
      type: "failover",
      ops: [{ OP_ID: "OP_INSTANCE_FAILOVER", instance_name: "inst-p1" }],
    });
    expect(detectBroken(cd, byName("inst-s1"))).toMatchObject({
      type: "fix-storage",
      ops: [{ OP_ID: "OP_INSTANCE_REPLACE_DISKS", mode: "replace_new_secondary", iallocator: "hail" }],
    });
    expect(detectBroken(cd, byName("inst-12"))).toBeNull();
  });

  it("plain with its node offline -> recreate the disks through hail and reinstall; file or diskless -> nothing (as Ganeti)", () => {
    const k = byName("inst-p2");
    const plain = { ...cd, instances: cd.instances.map((i, j) => (j === k ? { ...i, diskTemplate: "plain" as const, sNode: -1 } : i)) };
    expect(detectBroken(plain, k)).toMatchObject({
      type: "reinstall",
      ops: [{ OP_ID: "OP_INSTANCE_RECREATE_DISKS", iallocator: "hail" }, { OP_ID: "OP_INSTANCE_REINSTALL" }],
    });
    const file = { ...cd, instances: cd.instances.map((i, j) => (j === k ? { ...i, diskTemplate: "file" as const, sNode: -1 } : i)) };
    expect(detectBroken(file, k)).toBeNull();
  });

  it("the instance's own tags, else its group's, else the cluster's", () => {
    const cd2 = {
      ...cd,
      tags: [`${P}reinstall`],
      groups: cd.groups.map((g) => ({ ...g, tags: [`${P}migrate`] })),
      instances: cd.instances.map((i) => (i.name === "inst-12" ? { ...i, allTags: [`${P}suspend`] } : i)),
    };
    const pols = instancePolicies(cd2, 0);
    expect(pols[byName("inst-p1")]).toEqual({ kind: "enabled", max: "migrate" });
    expect(pols[byName("inst-12")]).toEqual({ kind: "suspended", until: null });
    expect(instancePolicies({ ...cd2, groups: cd.groups.map((g) => ({ ...g, tags: [] })) }, 0)[byName("inst-p1")]).toEqual({
      kind: "enabled",
      max: "reinstall",
    });
    expect(instancePolicies(cd, 0)[0]).toEqual({ kind: "not-enabled" });
  });
});
