// Disks as an opcode asks for them (size, mode, name, spindles), before a
// disk template turns them into disk objects.
import { parseUnitSize, UnitParseError } from "@ganeti-ts/schema";
import { OpPrereqError } from "../../lib/errors.js";

export interface DiskSpec {
  size: number;
  mode: "rw" | "ro";
  name: string | null;
  spindles: number | null;
}

/** Ganeti's _ComputeDisks: sizes parsed, modes checked. */
export function computeDiskSpecs(disks: Array<Record<string, unknown>>): DiskSpec[] {
  return disks.map((d) => {
    const mode = (d["mode"] ?? "rw") as string;
    if (mode !== "rw" && mode !== "ro") throw new OpPrereqError(`Invalid disk access mode '${mode}'`, "wrong_input");
    const raw = d["size"];
    if (raw === undefined || raw === null) throw new OpPrereqError("Missing disk size", "wrong_input");
    let size: number;
    try {
      size = typeof raw === "number" && Number.isInteger(raw) ? raw : parseUnitSize(raw as string);
    } catch (err) {
      if (!(err instanceof UnitParseError)) throw err;
      throw new OpPrereqError(`Invalid disk size '${String(raw)}'`, "wrong_input", { cause: err });
    }
    const name = d["name"] === undefined || d["name"] === null || d["name"] === "none" ? null : String(d["name"]);
    const sp = d["spindles"];
    return { size, mode, name, spindles: sp === undefined || sp === null ? null : Number(sp) };
  });
}
