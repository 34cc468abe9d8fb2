// Helpers shared by the network LUs.
import type { InstanceObject } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";
import type { LuContext } from "../base.js";
import { commaJoin, logWarning } from "../common/node.js";

/** Ganeti's NormalizeAndValidateThreeOctetMacPrefix. */
export function normalizeMacPrefix(prefix: string): string {
  if (!/^[0-9a-fA-F]{2}(:[0-9a-fA-F]{2}){2}$/.test(prefix))
    throw new OpPrereqError(`Invalid MAC address prefix '${prefix}'`, "wrong_input");
  return prefix.toLowerCase();
}

/** Ganeti's _NetworkConflictCheck: refuse when NICs of the group's instances match. */
export function networkConflictCheck(
  ctx: LuContext,
  networkName: string,
  groupName: string,
  check: (nic: InstanceObject["nics"][number]) => boolean,
  action: string,
  instances: InstanceObject[],
): void {
  const conflicts: string[] = [];
  for (const inst of instances) {
    const details = inst.nics.flatMap((nic, idx) => (check(nic) ? [`nic${idx}/${nic.ip}`] : []));
    if (details.length) conflicts.push(`${inst.name}: ${commaJoin(details)}`);
  }
  if (conflicts.length) {
    logWarning(
      ctx,
      `IP addresses from network '${networkName}', which is about to ${action} node group '${groupName}', are in use: ${commaJoin(conflicts)}`,
    );
    throw new OpPrereqError("Conflicting IP addresses found;  remove/modify the corresponding network interfaces", "wrong_state");
  }
}

/** Ganeti's NIC.CheckParameterSyntax for a group connection. */
export function checkNicParams(mode: string, link: string): void {
  const modes = ["bridged", "routed", "openvswitch"];
  if (!modes.includes(mode)) throw new OpPrereqError(`Invalid NIC mode '${mode}'`, "wrong_input");
  if (mode === "bridged" && !link) throw new OpPrereqError("Missing bridged NIC link", "wrong_input");
  if (mode === "openvswitch" && !link) throw new OpPrereqError("Missing openvswitch NIC link", "wrong_input");
}
