// The qemu command line built from an instance's hvparams, disks and NICs,
// and the accelerator decision.
import { describe, expect, it } from "vitest";
import { DEFAULT_HVPARAMS } from "../../../src/config/defaults.js";
import { chooseAccelerator, acceleratorFor } from "../../../src/hypervisors/kvm/accel.js";
import {
  buildCommandLine,
  driveOptions,
  freeSlot,
  nicDevice,
  netdevOptions,
  replicaTlsDir,
  type CommandLineInput,
} from "../../../src/hypervisors/kvm/cmdline.js";
import { formatReplicaUri, parseReplicaUri } from "../../../src/lib/replica-uri.js";

const paths = { pidFile: "/r/pid/i.pid", qmpSocket: "/r/ctrl/i.qmp", serialSocket: "/r/ctrl/i.serial", serialLog: "/r/log/i.log" };
const input = (over: Partial<CommandLineInput> = {}, hv: Record<string, unknown> = {}): CommandLineInput => ({
  name: "inst1.example.com",
  uuid: "0b2a6f00-1111-4222-8333-444455556666",
  hvparams: { ...DEFAULT_HVPARAMS.kvm, kernel_path: "/k/vmlinux", initrd_path: "/k/initrd.img", ...hv },
  memory: 128,
  vcpus: 2,
  accel: "tcg",
  paths,
  disks: [],
  nics: [],
  paused: false,
  ...over,
});

/** The value following `flag` (the first occurrence). */
const after = (argv: string[], flag: string) => argv[argv.indexOf(flag) + 1];
const all = (argv: string[], flag: string) => argv.flatMap((a, i) => (a === flag ? [argv[i + 1]!] : []));

describe("kvm command line", () => {
  it("daemonises with a pid file, QMP, a serial socket that also logs, and no default devices", () => {
    const argv = buildCommandLine(input());
    expect(argv[0]).toBe("/usr/bin/kvm");
    expect(after(argv, "-name")).toBe("inst1.example.com");
    expect(after(argv, "-m")).toBe("128");
    expect(after(argv, "-smp")).toBe("2");
    expect(after(argv, "-accel")).toBe("tcg,tb-size=16");
    expect(argv).toContain("-daemonize");
    expect(argv).toContain("-nodefaults");
    expect(after(argv, "-pidfile")).toBe(paths.pidFile);
    expect(after(argv, "-qmp")).toBe("unix:/r/ctrl/i.qmp,server=on,wait=off");
    expect(after(argv, "-chardev")).toBe("socket,id=serial0,path=/r/ctrl/i.serial,server=on,wait=off,logfile=/r/log/i.log,logappend=on");
    expect(after(argv, "-serial")).toBe("chardev:serial0");
    expect(after(argv, "-display")).toBe("none");
    expect(argv).not.toContain("-nographic");
    expect(all(argv, "-device")).toContain("virtio-balloon-pci,id=balloon");
    expect(argv).not.toContain("-S");
  });

  it("boots the kernel_path with root_path, the serial console and kernel_args", () => {
    const argv = buildCommandLine(input({}, { kernel_args: "ro quiet", root_path: "/dev/vda1", serial_speed: 115200 }));
    expect(after(argv, "-kernel")).toBe("/k/vmlinux");
    expect(after(argv, "-initrd")).toBe("/k/initrd.img");
    expect(after(argv, "-append")).toBe("root=/dev/vda1 console=ttyS0,115200 ro quiet");
    expect(argv).not.toContain("-boot");
  });

  it("without a kernel boots by boot_order; serial_console off gives no serial", () => {
    const argv = buildCommandLine(
      input({}, { kernel_path: "", boot_order: "cdrom", cdrom_image_path: "/iso/x.iso", serial_console: false }),
    );
    expect(argv).not.toContain("-kernel");
    expect(after(argv, "-boot")).toBe("order=d");
    expect(all(argv, "-drive")).toContain("file=/iso/x.iso,media=cdrom,format=raw,readonly=on,if=ide,index=2");
    expect(after(argv, "-serial")).toBe("none");
    expect(argv).not.toContain("-chardev");
  });

  it("attaches paravirtual disks at explicit PCI slots with disk_cache, and NICs with their MAC and nic_type", () => {
    const argv = buildCommandLine(
      input(
        {
          disks: [
            { uuid: "aaaa1111-0000-4000-8000-000000000000", path: "/srv/disk0", mode: "rw", slot: 12 },
            { uuid: "bbbb2222-0000-4000-8000-000000000000", path: "/srv/a,b", mode: "ro", slot: 13 },
          ],
          nics: [
            {
              uuid: "cccc3333-0000-4000-8000-000000000000",
              mac: "aa:00:00:11:22:33",
              slot: 14,
              netdev: "tap,ifname=tap0,script=no,downscript=no",
            },
            { uuid: "dddd4444-0000-4000-8000-000000000000", mac: "aa:00:00:11:22:34", slot: 15, netdev: null },
          ],
        },
        { disk_cache: "none", disk_aio: "native", nic_type: "e1000" },
      ),
    );
    expect(all(argv, "-drive")).toEqual([
      "file=/srv/disk0,format=raw,if=none,id=drive-aaaa1111,cache=none,aio=native",
      "file=/srv/a,,b,format=raw,if=none,id=drive-bbbb2222,cache=none,aio=native,readonly=on",
    ]);
    const devices = all(argv, "-device");
    expect(devices).toContain("virtio-blk-pci,drive=drive-aaaa1111,id=disk-aaaa1111,bus=pci.0,addr=0xc");
    expect(devices).toContain("virtio-blk-pci,drive=drive-bbbb2222,id=disk-bbbb2222,bus=pci.0,addr=0xd");
    expect(after(argv, "-netdev")).toBe("tap,ifname=tap0,script=no,downscript=no,id=netdev-cccc3333");
    expect(devices).toContain("e1000,mac=aa:00:00:11:22:33,id=nic-cccc3333,netdev=netdev-cccc3333,bus=pci.0,addr=0xe");
    // A NIC without a backend: the card without any network.
    expect(devices).toContain("e1000,mac=aa:00:00:11:22:34,id=nic-dddd4444,bus=pci.0,addr=0xf");
  });

  it("maps the other parameters: paused start, no ACPI, exit on reboot, machine, cpu, mem_path, kvm_extra, VNC", () => {
    const argv = buildCommandLine(
      input(
        { paused: true, accel: "kvm", vncDisplay: 3 },
        {
          acpi: false,
          reboot_behavior: "exit",
          machine_version: "pc-i440fx-7.2",
          cpu_type: "qemu64",
          cpu_cores: 2,
          cpu_sockets: 1,
          mem_path: "/hugepages",
          kvm_extra: "-rtc base=utc",
          vnc_bind_address: "127.0.0.1",
        },
      ),
    );
    expect(argv).toContain("-S");
    expect(after(argv, "-accel")).toBe("kvm");
    expect(argv).toContain("-no-acpi");
    expect(argv).toContain("-no-reboot");
    expect(after(argv, "-machine")).toBe("pc-i440fx-7.2");
    expect(after(argv, "-cpu")).toBe("qemu64");
    expect(after(argv, "-smp")).toBe("2,cores=2,sockets=1");
    expect(after(argv, "-mem-path")).toBe("/hugepages");
    expect(argv.slice(-2)).toEqual(["-rtc", "base=utc"]);
    expect(after(argv, "-vnc")).toBe("127.0.0.1:3");
    expect(after(argv, "-vga")).toBe("std");
    expect(argv).not.toContain("-display");
  });

  it("places devices in the first free slot after the reservations", () => {
    expect(freeSlot([], 12)).toBe(12);
    expect(freeSlot([12, 13, null], 12)).toBe(14);
    expect(
      freeSlot(
        Array.from({ length: 20 }, (_, i) => 12 + i),
        12,
      ),
    ).toBeNull();
    expect(freeSlot([], 0)).toBe(1);
  });
});

describe("replicated (drbd) disks", () => {
  const uri = formatReplicaUri({
    host: "192.0.2.7",
    port: 11005,
    export: "d1",
    tlsCredsDir: "/var/lib/g/replication/tls",
    tlsHostname: "ganeti-ts-replication",
  });

  it("attach the local storage daemon's export with qemu's nbd driver over TLS, once the credentials object", () => {
    const disks = [
      { uuid: "d1-aaaa", path: uri, mode: "rw" as const, slot: 12 },
      { uuid: "d2-bbbb", path: uri.replace("/d1?", "/d2?"), mode: "rw" as const, slot: 13 },
      { uuid: "d3-cccc", path: "/srv/file/disk0", mode: "rw" as const, slot: 14 },
    ];
    const argv = buildCommandLine(input({ disks }, { disk_cache: "none", disk_aio: "native" }));
    expect(all(argv, "-object").filter((o) => o.startsWith("tls-creds-x509"))).toEqual([
      "tls-creds-x509,id=tls-replica,dir=/var/lib/g/replication/tls,endpoint=client",
    ]);
    const drives = all(argv, "-drive");
    expect(drives[0]).toBe(
      "file.driver=nbd,file.server.type=inet,file.server.host=192.0.2.7,file.server.port=11005,file.export=d1," +
        "file.tls-creds=tls-replica,file.tls-hostname=ganeti-ts-replication,file.reconnect-delay=30,format=raw,if=none,id=drive-d1,cache=none",
    );
    expect(drives[1]).toContain("file.export=d2,");
    expect(drives[2]).toBe("file=/srv/file/disk0,format=raw,if=none,id=drive-d3,cache=none,aio=native");
    expect(all(argv, "-object").filter((o) => o.startsWith("iothread"))).toEqual([
      "iothread,id=iothread-disk-d1",
      "iothread,id=iothread-disk-d2",
    ]);
    expect(driveOptions(disks[0]!, {}, "none")).not.toContain("aio");
  });

  it("attach a node's own replica through the storage daemon's unix socket, without TLS; aio does not apply", () => {
    const local = formatReplicaUri({ socket: "/var/lib/g/replication/d1/nbd", export: "d1-aaaa" });
    expect(local).toBe("nbd+unix:///d1-aaaa?socket=%2Fvar%2Flib%2Fg%2Freplication%2Fd1%2Fnbd");
    expect(parseReplicaUri(local)).toEqual({ socket: "/var/lib/g/replication/d1/nbd", export: "d1-aaaa" });
    const disks = [{ uuid: "d1-aaaa", path: local, mode: "rw" as const, slot: 12 }];
    const argv = buildCommandLine(input({ disks }, { disk_cache: "none", disk_aio: "native" }));
    expect(all(argv, "-object").filter((o) => o.startsWith("tls-creds-x509"))).toEqual([]);
    expect(all(argv, "-drive")).toEqual([
      "file.driver=nbd,file.server.type=unix,file.server.path=/var/lib/g/replication/d1/nbd,file.export=d1-aaaa," +
        "file.reconnect-delay=30,format=raw,if=none,id=drive-d1,cache=none",
    ]);
    expect(replicaTlsDir(disks)).toBeNull();
    // Its network I/O runs in an iothread of its own, off the main loop's lock.
    expect(all(argv, "-object")).toContain("iothread,id=iothread-disk-d1");
    expect(all(argv, "-device")).toContain("virtio-blk-pci,drive=drive-d1,id=disk-d1,iothread=iothread-disk-d1,bus=pci.0,addr=0xc");
    expect(parseReplicaUri("nbd+unix:///x")).toBeNull();
  });

  it("round-trip through the device path, and other paths are not replica URIs", () => {
    expect(parseReplicaUri(uri)).toEqual({
      host: "192.0.2.7",
      port: 11005,
      export: "d1",
      tlsCredsDir: "/var/lib/g/replication/tls",
      tlsHostname: "ganeti-ts-replication",
    });
    expect(
      parseReplicaUri(formatReplicaUri({ host: "fd00::1", port: 1, export: "a b", tlsCredsDir: "/t", tlsHostname: "n" })),
    ).toMatchObject({
      host: "fd00::1",
      export: "a b",
    });
    expect(parseReplicaUri("/dev/vg/lv")).toBeNull();
    expect(parseReplicaUri("nbds://h:1/x")).toBeNull();
    expect(replicaTlsDir([{ path: "/a" }])).toBeNull();
  });
});

describe("accelerator choice", () => {
  const vmx = "processor\t: 0\nflags\t\t: fpu vme de pse vmx sse\n";
  const plain = "processor\t: 0\nflags\t\t: fpu vme de pse sse\n";
  it("KVM only with vmx/svm and a full /dev/kvm", () => {
    expect(chooseAccelerator({ cpuinfo: vmx, devKvmUsable: true, paravirtKvm: false }).accel).toBe("kvm");
    expect(chooseAccelerator({ cpuinfo: vmx.replace("vmx", "svm"), devKvmUsable: true, paravirtKvm: false }).accel).toBe("kvm");
    expect(chooseAccelerator({ cpuinfo: plain, devKvmUsable: true, paravirtKvm: false })).toEqual({
      accel: "tcg",
      reason: "the CPU has no hardware virtualization (no vmx/svm flag)",
    });
    expect(chooseAccelerator({ cpuinfo: vmx, devKvmUsable: false, paravirtKvm: false }).accel).toBe("tcg");
    expect(chooseAccelerator({ cpuinfo: vmx, devKvmUsable: true, paravirtKvm: true })).toEqual({
      accel: "tcg",
      reason: "/dev/kvm is a paravirtual KVM (kvm_pvm)",
    });
    expect(chooseAccelerator({ cpuinfo: null, devKvmUsable: true, paravirtKvm: false }).accel).toBe("tcg");
  });
  it("kvm_flag forces the choice", () => {
    const probed = { accel: "tcg" as const, reason: "" };
    expect(acceleratorFor("enabled", probed)).toBe("kvm");
    expect(acceleratorFor("disabled", { accel: "kvm", reason: "" })).toBe("tcg");
    expect(acceleratorFor("", probed)).toBe("tcg");
  });
});

describe("kvm parameters Ganeti's hv_kvm maps onto qemu", () => {
  const disk = { uuid: "aaaa1111-0000-4000-8000-000000000000", path: "/srv/disk0", mode: "rw" as const, slot: null };
  const nic = {
    uuid: "cccc3333-0000-4000-8000-000000000000",
    mac: "aa:00:00:11:22:33",
    slot: 14,
    netdev: "tap,ifname=tap0,script=no,downscript=no",
  };

  it("soundhw, usb_mouse, usb_devices, vga, use_chroot, security_model user, user_shutdown, mem_path prealloc", () => {
    const argv = buildCommandLine(
      input(
        { paths: { ...paths, chrootDir: "/r/chroot/i" } },
        {
          soundhw: "ac97",
          usb_mouse: "mouse",
          usb_devices: "keyboard,braille",
          vga: "cirrus",
          use_chroot: true,
          security_model: "user",
          security_domain: "qemu-user",
          user_shutdown: true,
          mem_path: "/hugepages",
        },
      ),
    );
    expect(after(argv, "-audio")).toBe("driver=none,model=ac97");
    expect(argv).toContain("-usb");
    expect(all(argv, "-usbdevice")).toEqual(["mouse", "keyboard", "braille"]);
    expect(after(argv, "-vga")).toBe("cirrus");
    expect(after(argv, "-chroot")).toBe("/r/chroot/i");
    expect(after(argv, "-runas")).toBe("qemu-user");
    expect(argv).toContain("-no-shutdown");
    expect(argv.slice(argv.indexOf("-mem-path"), argv.indexOf("-mem-path") + 3)).toEqual(["-mem-path", "/hugepages", "-mem-prealloc"]);
    // Defaults add none of them.
    const plain = buildCommandLine(input());
    for (const flag of ["-audio", "-usb", "-usbdevice", "-vga", "-chroot", "-runas", "-no-shutdown", "-spice"])
      expect(plain).not.toContain(flag);
  });

  it("VNC gets a USB tablet as Ganeti's (unless usb_mouse says otherwise)", () => {
    const argv = buildCommandLine(input({ vncDisplay: 1 }, { vnc_bind_address: "127.0.0.1" }));
    expect(all(argv, "-usbdevice")).toEqual(["tablet"]);
  });

  it("SCSI device disks on the scsi_controller_type controller; cdrom_disk_type for CD-ROMs", () => {
    const argv = buildCommandLine(
      input(
        { disks: [disk] },
        {
          disk_type: "scsi-hd",
          scsi_controller_type: "virtio-scsi-pci",
          cdrom_image_path: "/iso/a.iso",
          cdrom2_image_path: "/iso/b.iso",
          cdrom_disk_type: "paravirtual",
        },
      ),
    );
    const devices = all(argv, "-device");
    expect(devices).toContain("virtio-scsi-pci,id=scsi");
    expect(devices).toContain("scsi-hd,drive=drive-aaaa1111,id=disk-aaaa1111,bus=scsi.0,channel=0,scsi-id=0,lun=0");
    expect(all(argv, "-drive")).toEqual([
      "file=/iso/a.iso,media=cdrom,format=raw,readonly=on,if=virtio",
      "file=/iso/b.iso,media=cdrom,format=raw,readonly=on,if=virtio",
      "file=/srv/disk0,format=raw,if=none,id=drive-aaaa1111,aio=threads",
    ]);
    // Booting from the CD-ROM puts it on IDE; without cdrom_disk_type it follows disk_type.
    const boot = buildCommandLine(
      input(
        {},
        { kernel_path: "", boot_order: "cdrom", cdrom_image_path: "/iso/a.iso", cdrom2_image_path: "/iso/b.iso", disk_type: "ide" },
      ),
    );
    expect(all(boot, "-drive")).toEqual([
      "file=/iso/a.iso,media=cdrom,format=raw,readonly=on,if=ide,index=2",
      "file=/iso/b.iso,media=cdrom,format=raw,readonly=on,if=ide,index=3",
    ]);
  });

  it("the guest agent's channel on its PCI slot", () => {
    const argv = buildCommandLine(
      input({ guestAgentSlot: 12, paths: { ...paths, qgaSocket: "/r/ctrl/i.qga" } }, { use_guest_agent: true }),
    );
    expect(all(argv, "-chardev")).toContain("socket,path=/r/ctrl/i.qga,server=on,wait=off,id=qga0");
    expect(all(argv, "-device")).toEqual(
      expect.arrayContaining(["virtio-serial-pci,id=qga0,bus=pci.0,addr=0xc", "virtserialport,chardev=qga0,name=org.qemu.guest_agent.0"]),
    );
  });

  it("tap features of paravirtual NICs: vhost_net, vnet_hdr, virtio_net_queues", () => {
    const hvp = { ...DEFAULT_HVPARAMS.kvm, vhost_net: true, virtio_net_queues: 4 } as Record<string, unknown>;
    expect(netdevOptions(nic.netdev, hvp)).toBe("tap,ifname=tap0,script=no,downscript=no,vhost=on,vnet_hdr=on,queues=4");
    expect(nicDevice(nic, hvp)).toBe(
      "virtio-net-pci,mac=aa:00:00:11:22:33,id=nic-cccc3333,netdev=netdev-cccc3333,mq=on,vectors=9,bus=pci.0,addr=0xe",
    );
    expect(netdevOptions(nic.netdev, { ...DEFAULT_HVPARAMS.kvm, vnet_hdr: false })).toBe(
      "tap,ifname=tap0,script=no,downscript=no,vnet_hdr=off",
    );
    // Other NIC models take the tap as it is.
    expect(netdevOptions(nic.netdev, { ...hvp, nic_type: "e1000" })).toBe(nic.netdev);
    const argv = buildCommandLine(input({ nics: [nic] }, { virtio_net_queues: 2 }));
    expect(after(argv, "-netdev")).toBe("tap,ifname=tap0,script=no,downscript=no,vnet_hdr=on,queues=2,id=netdev-cccc3333");
  });

  it("SPICE on the network port: TLS, password ticketing, compression, streaming, audio, vdagent; qxl VGA", () => {
    const argv = buildCommandLine(
      input(
        { networkPort: 11000, paths: { ...paths, spiceCert: "/n/spice.pem", spiceCaCert: "/n/spice-ca.pem" } },
        {
          spice_bind: "127.0.0.1",
          spice_ip_version: 4,
          spice_use_tls: true,
          spice_password_file: "/n/pw",
          spice_image_compression: "glz",
          spice_jpeg_wan_compression: "auto",
          spice_zlib_glz_wan_compression: "never",
          spice_streaming_video: "filter",
          spice_playback_compression: false,
        },
      ),
    );
    expect(after(argv, "-spice")).toBe(
      "addr=127.0.0.1,tls-port=11000,x509-cacert-file=/n/spice-ca.pem,x509-key-file=/n/spice.pem,x509-cert-file=/n/spice.pem," +
        "tls-ciphers=HIGH:-DES:-3DES:-EXPORT:-DH,ipv4=on,image-compression=glz,jpeg-wan-compression=auto," +
        "zlib-glz-wan-compression=never,streaming-video=filter,playback-compression=off",
    );
    expect(after(argv, "-vga")).toBe("qxl");
    expect(all(argv, "-device")).toContain("virtserialport,chardev=spicechannel0,name=com.redhat.spice.0");
    expect(argv).not.toContain("-display");
    const plain = buildCommandLine(input({ networkPort: 11001 }, { spice_bind: "0.0.0.0", spice_use_vdagent: false }));
    expect(after(plain, "-spice")).toBe("addr=0.0.0.0,port=11001,disable-ticketing=on,agent-mouse=off");
    expect(all(plain, "-chardev").some((c) => c.startsWith("spicevmc"))).toBe(false);
  });
});
