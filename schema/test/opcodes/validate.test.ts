import { describe, expect, it } from "vitest";
import {
  OpcodeParamsError,
  UnknownOpcodeError,
  formatInvalidBodyParameters,
  formatOpcodeParamsError,
  parseOpcodeParams,
  pyHtmlEscape,
  pyRepr,
  validateOpcodeParams,
  type OpcodeId,
  type OpcodeParamsFailure,
} from "../../src/opcodes/index.js";

// The `message` of Ganeti 3.0.2's 400 answers, verbatim from the oracle captures.
const CAPTURED = {
  // captures/404-put-2-instances-name-reboot-type-bogus.json
  rebootType:
    "Invalid body parameters: (&quot;Parameter &#x27;OP_INSTANCE_REBOOT.reboot_type&#x27; fails validation&quot;, &#x27;wrong_input&#x27;)",
  // captures/261-put-2-groups-name-modify-bad-alloc-policy.json
  allocPolicy:
    "Invalid body parameters: (&quot;Parameter &#x27;OP_GROUP_SET_PARAMS.alloc_policy&#x27; fails validation&quot;, &#x27;wrong_input&#x27;)",
  // captures/393-post-2-instances-unknown-parameter.json
  unknownParam: "Invalid body parameters: Object OpInstanceCreate doesn&#x27;t support the parameter &#x27;bogus_param&#x27;",
};

function failure(opId: OpcodeId, body: Record<string, unknown>): OpcodeParamsFailure {
  const res = validateOpcodeParams(opId, body);
  if (res.ok) throw new Error(`expected ${opId} body to fail: ${JSON.stringify(body)}`);
  return res;
}

const wire = (f: OpcodeParamsFailure) => pyHtmlEscape(formatInvalidBodyParameters(f));

describe("messages as the RAPI sends them (captures)", () => {
  it("type failure: reboot ?type=bogus", () => {
    const f = failure("OP_INSTANCE_REBOOT", { instance_name: "inst1.ganeti.test", reboot_type: "bogus", dry_run: false });
    expect(f).toMatchObject({ kind: "invalid_parameter", param: "reboot_type", ecode: "wrong_input" });
    expect(f.message).toBe("Parameter 'OP_INSTANCE_REBOOT.reboot_type' fails validation");
    expect(formatInvalidBodyParameters(f)).toBe(
      `Invalid body parameters: ("Parameter 'OP_INSTANCE_REBOOT.reboot_type' fails validation", 'wrong_input')`,
    );
    expect(wire(f)).toBe(CAPTURED.rebootType);
  });

  it("type failure: group modify alloc_policy=sometimes", () => {
    const f = failure("OP_GROUP_SET_PARAMS", { alloc_policy: "sometimes", group_name: "capgrp" });
    expect(wire(f)).toBe(CAPTURED.allocPolicy);
  });

  it("unknown parameter: instance create with bogus_param", () => {
    // body after the RAPI renames name→instance_name (appended) and without __version__
    const f = failure("OP_INSTANCE_CREATE", {
      mode: "create",
      disk_template: "diskless",
      disks: [],
      nics: [],
      os_type: "noop",
      bogus_param: 1,
      instance_name: "inst6.ganeti.test",
    });
    expect(f).toMatchObject({ kind: "unknown_parameter", param: "bogus_param" });
    expect(f.message).toBe("Object OpInstanceCreate doesn't support the parameter 'bogus_param'");
    expect(formatOpcodeParamsError(f)).toBe(f.message);
    expect(wire(f)).toBe(CAPTURED.unknownParam);
  });
});

describe("validation semantics", () => {
  it("a missing required parameter fails validation", () => {
    const f = failure("OP_INSTANCE_REBOOT", { instance_name: "x" });
    expect(f.message).toBe("Parameter 'OP_INSTANCE_REBOOT.reboot_type' fails validation");
    expect(failure("OP_INSTANCE_SHUTDOWN", {}).message).toBe("Parameter 'OP_INSTANCE_SHUTDOWN.instance_name' fails validation");
  });

  it("unknown keys are reported before type failures, in body order", () => {
    const f = failure("OP_INSTANCE_SHUTDOWN", { timeout: "x", foo: 1, bar: 2 });
    expect(f.message).toBe("Object OpInstanceShutdown doesn't support the parameter 'foo'");
  });

  it("OP_ID is not a parameter", () => {
    expect(failure("OP_INSTANCE_SHUTDOWN", { OP_ID: "OP_INSTANCE_SHUTDOWN", instance_name: "x" }).message).toBe(
      "Object OpInstanceShutdown doesn't support the parameter 'OP_ID'",
    );
  });

  it("the first failing parameter in definition order wins, own params before common ones", () => {
    const f = failure("OP_INSTANCE_REBOOT", { priority: 3, reboot_type: "x", instance_name: "i" });
    expect(f.param).toBe("reboot_type");
    expect(failure("OP_INSTANCE_REBOOT", { priority: 3, reboot_type: "soft", instance_name: "i" }).param).toBe("priority");
    expect(failure("OP_INSTANCE_REBOOT", { shutdown_timeout: -1, instance_name: 5 }).param).toBe("instance_name");
  });

  it("ints reject floats, bools and strings; doubles accept ints", () => {
    expect(failure("OP_INSTANCE_SHUTDOWN", { instance_name: "x", timeout: 1.5 }).param).toBe("timeout");
    expect(failure("OP_INSTANCE_SHUTDOWN", { instance_name: "x", timeout: true }).param).toBe("timeout");
    expect(failure("OP_INSTANCE_SHUTDOWN", { instance_name: "x", timeout: "10" }).param).toBe("timeout");
    expect(failure("OP_INSTANCE_SHUTDOWN", { instance_name: "x", timeout: -1 }).param).toBe("timeout");
    expect(validateOpcodeParams("OP_INSTANCE_SHUTDOWN", { instance_name: "x", timeout: 0 }).ok).toBe(true);
    expect(validateOpcodeParams("OP_TEST_DELAY", { duration: 2 }).ok).toBe(true);
    expect(validateOpcodeParams("OP_TEST_DELAY", { duration: 0.25 }).ok).toBe(true);
    expect(failure("OP_TEST_DELAY", { duration: true }).param).toBe("duration");
  });

  it("bools reject 0/1 and strings", () => {
    for (const v of [0, 1, "true", "1"]) {
      expect(failure("OP_INSTANCE_STARTUP", { instance_name: "x", force: v }).param).toBe("force");
    }
  });

  it("null is accepted only where Ganeti's type is optional", () => {
    expect(validateOpcodeParams("OP_INSTANCE_MIGRATE", { instance_name: "x", mode: null, target_node: null }).ok).toBe(true);
    expect(failure("OP_INSTANCE_MIGRATE", { instance_name: "x", cleanup: null }).param).toBe("cleanup");
    expect(failure("OP_INSTANCE_STARTUP", { instance_name: "x", hvparams: null }).param).toBe("hvparams");
  });

  it("non-empty strings, dict shapes and enums", () => {
    expect(failure("OP_GROUP_ADD", { group_name: "" }).param).toBe("group_name");
    expect(validateOpcodeParams("OP_INSTANCE_STARTUP", { instance_name: "" }).ok).toBe(true); // Ganeti: String
    expect(failure("OP_INSTANCE_STARTUP", { instance_name: "x", beparams: [] }).param).toBe("beparams");
    expect(failure("OP_GROUP_ADD", { group_name: "g", diskparams: { drbd8: {} } }).param).toBe("diskparams");
    expect(validateOpcodeParams("OP_GROUP_ADD", { group_name: "g", diskparams: { drbd: { resync_rate: 1 } } }).ok).toBe(true);
    expect(failure("OP_NODE_EVACUATE", { node_name: "n", mode: "everything" }).param).toBe("mode");
    expect(failure("OP_INSTANCE_GROW_DISK", { instance_name: "x", disk: 16, amount: 1 }).param).toBe("disk");
  });

  it("instance create: disks and nics", () => {
    const base = { instance_name: "i", mode: "create", disk_template: "plain" };
    expect(validateOpcodeParams("OP_INSTANCE_CREATE", { ...base, disks: [{ size: "1G" }], nics: [{}] }).ok).toBe(true);
    expect(failure("OP_INSTANCE_CREATE", { ...base, disks: [{ size: 1.5 }], nics: [] }).param).toBe("disks");
    expect(failure("OP_INSTANCE_CREATE", { ...base, disks: [], nics: [{ vlan: 5 }] }).param).toBe("nics");
    expect(failure("OP_INSTANCE_CREATE", { ...base, nics: [] }).param).toBe("disks");
    expect(failure("OP_INSTANCE_CREATE", { ...base, disks: [], nics: [], mode: "clone" }).param).toBe("mode");
  });

  it("instance modify: modification lists", () => {
    const ok = (body: Record<string, unknown>) => validateOpcodeParams("OP_INSTANCE_SET_PARAMS", { instance_name: "i", ...body }).ok;
    expect(ok({ disks: [["add", -1, { size: 1024, mode: "rw" }]] })).toBe(true);
    expect(ok({ disks: [[0, { mode: "ro" }]] })).toBe(true);
    expect(ok({ nics: [["remove", "nic-name", {}]] })).toBe(true);
    expect(ok({ disks: [["grow", 0, {}]] })).toBe(false);
    expect(ok({ nics: [["add", { mac: 1 }]] })).toBe(false);
  });

  it("network addresses", () => {
    expect(
      validateOpcodeParams("OP_NETWORK_ADD", {
        network_name: "n",
        network: "10.250.3.0/24",
        gateway: "10.250.3.1",
        add_reserved_ips: ["10.250.3.2"],
      }).ok,
    ).toBe(true);
    expect(failure("OP_NETWORK_ADD", { network_name: "n", network: "10.250.3.5/24" }).param).toBe("network");
    expect(failure("OP_NETWORK_ADD", { network_name: "n", network: "10.0.0.0/8", gateway: "10.0.0" }).param).toBe("gateway");
  });

  it("depends and priority", () => {
    expect(validateOpcodeParams("OP_TEST_DELAY", { duration: 0, depends: [[5, ["success", "error"]]], priority: -10 }).ok).toBe(true);
    expect(failure("OP_TEST_DELAY", { duration: 0, depends: [[5, ["running"]]] }).param).toBe("depends");
    expect(failure("OP_TEST_DELAY", { duration: 0, priority: 5 }).param).toBe("priority");
  });

  it("a null body is an empty body", () => {
    expect(validateOpcodeParams("OP_CLUSTER_REDIST_CONF", null).ok).toBe(true);
  });

  it("returns the opcode with defaults applied", () => {
    const res = validateOpcodeParams("OP_INSTANCE_REBOOT", { instance_name: "x", reboot_type: "soft" });
    expect(res).toEqual({
      ok: true,
      op: {
        OP_ID: "OP_INSTANCE_REBOOT",
        instance_name: "x",
        instance_uuid: null,
        shutdown_timeout: 120,
        ignore_secondaries: false,
        reboot_type: "soft",
        dry_run: null,
        debug_level: null,
        priority: 0,
        depends: null,
        comment: null,
        reason: [],
      },
    });
  });

  it("parseOpcodeParams throws a typed error carrying the ECODE", () => {
    expect(() => parseOpcodeParams("OP_INSTANCE_REBOOT", {})).toThrow(OpcodeParamsError);
    try {
      parseOpcodeParams("OP_INSTANCE_REBOOT", { instance_name: "x" });
    } catch (err) {
      expect(err).toBeInstanceOf(OpcodeParamsError);
      expect((err as OpcodeParamsError).code).toBe("wrong_input");
      expect((err as OpcodeParamsError).param).toBe("reboot_type");
    }
    expect(() => validateOpcodeParams("OP_NOPE" as OpcodeId, {})).toThrow(UnknownOpcodeError);
  });
});

describe("Python formatting helpers", () => {
  it("repr picks quotes like Python", () => {
    expect(pyRepr("abc")).toBe("'abc'");
    expect(pyRepr("it's")).toBe(`"it's"`);
    expect(pyRepr(`both ' and "`)).toBe(`'both \\' and "'`);
    expect(pyRepr(["a", 1, null, true])).toBe("('a', 1, None, True)");
    expect(pyRepr(["only"])).toBe("('only',)");
  });

  it("html escaping matches html.escape(quote=True)", () => {
    expect(pyHtmlEscape(`<a href="x">'&'</a>`)).toBe("&lt;a href=&quot;x&quot;&gt;&#x27;&amp;&#x27;&lt;/a&gt;");
  });
});
