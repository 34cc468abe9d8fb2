// Which accelerator qemu gets on this node. KVM only where it is real: the CPU
// has hardware virtualization (vmx or svm in /proc/cpuinfo) and /dev/kvm is a
// full KVM. Some hosts (nested clouds, Firecracker VMs) offer a paravirtual
// KVM (the kvm_pvm module) on a CPU without vmx/svm: qemu starts there with
// -accel kvm but runs a stock guest kernel 20-50x slower than TCG, and
// -cpu host aborts. Everywhere else qemu's TCG emulator is used.
import { promises as fs, constants as fsc } from "node:fs";

export type Accelerator = "kvm" | "tcg";

export interface AccelProbe {
  accel: Accelerator;
  /** Why this accelerator, for node info and logs. */
  reason: string;
}

export interface AccelProbeInputs {
  cpuinfo: string | null;
  devKvmUsable: boolean;
  paravirtKvm: boolean;
}

/** The decision, separated from the probing for tests. */
export function chooseAccelerator(i: AccelProbeInputs): AccelProbe {
  const hw = i.cpuinfo !== null && /^flags\s*:.*\b(vmx|svm)\b/m.test(i.cpuinfo);
  if (!hw) return { accel: "tcg", reason: "the CPU has no hardware virtualization (no vmx/svm flag)" };
  if (!i.devKvmUsable) return { accel: "tcg", reason: "/dev/kvm is missing or not accessible" };
  if (i.paravirtKvm) return { accel: "tcg", reason: "/dev/kvm is a paravirtual KVM (kvm_pvm)" };
  return { accel: "kvm", reason: "hardware virtualization and /dev/kvm present" };
}

async function exists(p: string, mode = fsc.F_OK): Promise<boolean> {
  try {
    await fs.access(p, mode);
    return true;
  } catch {
    return false;
  }
}

let cached: Promise<AccelProbe> | null = null;

/** Probe once per process: the host's CPU and KVM do not change under us. */
export function probeAccelerator(): Promise<AccelProbe> {
  cached ??= (async () => {
    const cpuinfo = await fs.readFile("/proc/cpuinfo", "utf8").catch(() => null);
    return chooseAccelerator({
      cpuinfo,
      devKvmUsable: await exists("/dev/kvm", fsc.R_OK | fsc.W_OK),
      paravirtKvm: await exists("/sys/module/kvm_pvm"),
    });
  })();
  return cached;
}

/**
 * The accelerator for one instance: the kvm_flag hvparam forces it
 * ("enabled": KVM, "disabled": TCG), as Ganeti's -enable-kvm/-disable-kvm;
 * empty means the probed choice.
 */
export function acceleratorFor(kvmFlag: unknown, probed: AccelProbe): Accelerator {
  if (kvmFlag === "enabled") return "kvm";
  if (kvmFlag === "disabled") return "tcg";
  return probed.accel;
}
