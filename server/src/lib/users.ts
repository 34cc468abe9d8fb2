// Local users by name, as the node's passwd file has them (Node has no
// getpwnam): the user a guest's qemu runs as (kvm security_model=user).
import { promises as fs } from "node:fs";

export interface LocalUser {
  user: string;
  uid: number;
  gid: number;
}

/** The user `name` in the passwd file (name:password:uid:gid:...), or null. */
export async function lookupUser(name: string, passwd = "/etc/passwd"): Promise<LocalUser | null> {
  const text = await fs.readFile(passwd, "utf8").catch(() => "");
  for (const line of text.split("\n")) {
    const [user, , uid, gid] = line.split(":");
    if (user === name && uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid))
      return { user, uid: Number(uid), gid: Number(gid) };
  }
  return null;
}
