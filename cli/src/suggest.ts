// "Did you mean ...?" for a mistyped verb, never proposing a verb that
// destroys data or disrupts instances: a typo must not turn into a removal.
import { Command } from "commander";

/** Verbs gnt never suggests (they remove, stop, move or power off things). */
export const DESTRUCTIVE_VERBS: ReadonlySet<string> = new Set([
  "remove",
  "reinstall",
  "evacuate",
  "powercycle",
  "power",
  "destroy",
  "migrate",
  "failover",
  "master-failover",
  "delete",
  "shutdown",
  "stop",
  "reboot",
  "deactivate-disks",
  "recreate-disks",
  "replace-disks",
  "remove-tags",
  "cancel",
]);

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps). */
function distance(a: string, b: string): number {
  const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i]);
  for (let j = 0; j <= b.length; j++) d[0]![j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, d[i - 2]![j - 2]! + 1);
      d[i]![j] = v;
    }
  }
  return d[a.length]![b.length]!;
}

/** The closest candidates (at most 2 edits, and similar enough), as commander words it; "" if none. */
export function suggestSimilar(word: string, candidates: string[]): string {
  let best = 3;
  let similar: string[] = [];
  for (const c of new Set(candidates)) {
    if (c.length <= 1) continue;
    const dist = distance(word, c);
    const len = Math.max(word.length, c.length);
    if ((len - dist) / len <= 0.4) continue;
    if (dist < best) {
      best = dist;
      similar = [c];
    } else if (dist === best) similar.push(c);
  }
  similar.sort();
  if (similar.length === 0) return "";
  return similar.length > 1 ? `\n(Did you mean one of ${similar.join(", ")}?)` : `\n(Did you mean ${similar[0]}?)`;
}

/** commander's Command with suggestions that skip destructive verbs (and every subcommand made the same way). */
export class GntCommand extends Command {
  override createCommand(name?: string): Command {
    return new GntCommand(name);
  }

  /** Called by commander for an unknown subcommand (replaces its own, which would suggest any verb). */
  unknownCommand(): void {
    const name = this.args[0] ?? "";
    const candidates = this.commands
      .filter((c) => !DESTRUCTIVE_VERBS.has(c.name()))
      .flatMap((c) => [c.name(), ...c.aliases()].filter((n) => !DESTRUCTIVE_VERBS.has(n)));
    this.error(`error: unknown command '${name}'${suggestSimilar(name, candidates)}`, { code: "commander.unknownCommand" });
  }
}
