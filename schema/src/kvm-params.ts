// The kvm hypervisor's cross-parameter rules, after Ganeti's hv_kvm
// CheckParameterSyntax helpers (check_boot_parameters, check_console_parameters,
// check_security_model, check_vnc_parameters, check_spice_parameters,
// check_disk_cache_parameters). Pure: the master runs them on filled
// hvparams after the per-parameter types and syntax (the hvparams table);
// the node runs them again before starting qemu, with its path checks
// (server/src/hypervisors/kvm/params.ts).

import { VALID_SERIAL_SPEEDS } from "./hvparams.js";

const str = (v: unknown): string => (v === undefined || v === null ? "" : String(v));
const unspecified = (v: unknown): boolean => v === undefined || v === null || v === "" || v === false || v === 0;
const truthy = (v: unknown): boolean => v === true || v === "true" || v === "True";


/** Parameters naming files, directories or files-or-URLs the node must find. */
export const KVM_FILE_PARAMS = ["kvm_path", "kernel_path", "initrd_path", "vnc_password_file", "spice_password_file", "floppy_image_path"] as const;
export const KVM_FILE_OR_URL_PARAMS = ["cdrom_image_path", "cdrom2_image_path"] as const;
export const KVM_DIR_PARAMS = ["vnc_x509_path", "mem_path"] as const;

const SPICE_DEPENDENT = ["spice_ip_version", "spice_password_file", "spice_image_compression", "spice_jpeg_wan_compression", "spice_zlib_glz_wan_compression", "spice_streaming_video", "spice_use_tls"] as const;

/**
 * null when the rules hold, else the HypervisorError message Ganeti gives.
 * hv is the filled dict (every kvm parameter present).
 */
export function checkKvmParameterRules(hv: Record<string, unknown>): string | null {
  if (hv["boot_order"] === "cdrom" && !str(hv["cdrom_image_path"])) return "Cannot boot from cdrom without an ISO path";
  if (str(hv["kernel_path"]) && !str(hv["root_path"])) return "Need a root partition for the instance, if a kernel is defined";
  if (hv["security_model"] === "user" && !str(hv["security_domain"])) return "A security domain (user to run kvm as) must be specified";
  if ((hv["security_model"] === "none" || hv["security_model"] === "pool") && str(hv["security_domain"])) {
    return "Cannot have a security domain when the security model is 'none' or 'pool'";
  }
  if (truthy(hv["serial_console"])) {
    const speed = Number(hv["serial_speed"]);
    if (!speed || !(VALID_SERIAL_SPEEDS as readonly number[]).includes(speed)) {
      return `Invalid serial console speed, must be one of: ${VALID_SERIAL_SPEEDS.join(", ")}`;
    }
  }
  if (truthy(hv["vnc_x509_verify"]) && !str(hv["vnc_x509_path"])) return "vnc_x509_path must be defined, if vnc_x509_verify is";
  if (!str(hv["spice_bind"])) {
    for (const p of SPICE_DEPENDENT) if (!unspecified(hv[p])) return `SPICE: ${p} requires spice_bind to be set`;
  }
  if (hv["disk_aio"] === "native" && hv["disk_cache"] !== "none") {
    return "When 'disk_aio' is set to 'native', the only supported value for 'disk_cache' is 'none'.";
  }
  return null;
}
