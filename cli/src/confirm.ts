// Ganeti's AskUser for destructive verbs: the question, then "y/[n]/?"; only
// "y" goes ahead. Without a terminal on stdin there is nobody to ask, so the
// command refuses and says which flag confirms instead (Ganeti silently
// takes the default "no").
import { CliError, EXIT, ExitStatus } from "./errors.js";
import type { Io } from "./output.js";

/** Ganeti wraps questions at 70 columns. */
function wrap(text: string, width = 70): string {
  return text
    .split("\n")
    .map((line) => {
      const out: string[] = [];
      let cur = "";
      for (const word of line.split(" ")) {
        if (cur && cur.length + 1 + word.length > width) {
          out.push(cur);
          cur = word;
        } else cur = cur ? `${cur} ${word}` : word;
      }
      out.push(cur);
      return out.join("\n");
    })
    .join("\n");
}

export interface ConfirmOptions {
  /** The flag that skips the question (default "--force"). */
  flag?: string;
  /** Exit code when the answer is no (Ganeti's differ per command; default 1). */
  exitCode?: number;
}

/** Ask `question`; return when confirmed, else end the command. */
export async function confirm(io: Io, question: string, o: ConfirmOptions = {}): Promise<void> {
  const flag = o.flag ?? "--force";
  if (!io.stdinIsTTY || !io.ask) {
    throw new CliError(
      `${question}\nNot confirmed: stdin is not a terminal, so there is nobody to ask. Run it again with ${flag} to go ahead without the question.`,
      o.exitCode ?? EXIT.FAILED,
    );
  }
  for (;;) {
    const answer = await io.ask(`${wrap(question)}\ny/[n]/?: `);
    const a = (answer ?? "").trim().toLowerCase();
    if (a === "y" || a === "yes") return;
    if (a === "?") {
      io.err(" y - Perform the operation\n n - Do not perform the operation");
      continue;
    }
    throw new ExitStatus(o.exitCode ?? EXIT.FAILED);
  }
}
