// Ganeti's query filter strings (`gnt-instance list -F 'pnode == "node1"
// and not admin_state'`) parsed into the list form the RAPI takes. Grammar
// (Ganeti's qlang): conditions joined by `not`, `and`, `or` (that order of
// binding) and parentheses; a condition is
//   FIELD                       true when the field is true
//   FIELD (==|=|!=|<|<=|>|>=) VALUE
//   VALUE in FIELD / VALUE not in FIELD       (list fields)
//   FIELD =~ /re/flags, FIELD !~ /re/flags    (m/../, #..#, ^..^, |..| too; flags s, i)
//   FIELD =* "glob", FIELD !* "glob"          (DNS name globs)
// VALUE is a number or a quoted string.
import type { Filter, FilterValue } from "@ganeti-ts/sdk";
import { CliError } from "./errors.js";

type Token =
  | { t: "field"; v: string; at: number }
  | { t: "num"; v: number; at: number }
  | { t: "str"; v: string; at: number }
  | { t: "op"; v: string; at: number }
  | { t: "re"; v: string; at: number }
  | { t: "("; at: number }
  | { t: ")"; at: number };

const OPS = ["==", "!=", "<=", ">=", "=~", "!~", "=*", "!*", "=", "<", ">"];
const BINARY: Record<string, "==" | "!=" | "<" | "<=" | ">" | ">="> = {
  "==": "==",
  "=": "==",
  "!=": "!=",
  "<": "<",
  "<=": "<=",
  ">": ">",
  ">=": ">=",
};
const REGEX_DELIMS = "/#^|";

/** Ganeti's QLANG_FILTER_DETECTION_CHARS: an argument with one of these is a filter, not a name. */
const FILTER_CHARS = /[\s!"'()/<=>\\~]/;

export class FilterParseError extends CliError {
  constructor(text: string, at: number, why: string) {
    super(`Error while parsing query filter: ${why}\n  ${text}\n  ${" ".repeat(at)}^`);
  }
}

function tokenize(text: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  const fail = (why: string): never => {
    throw new FilterParseError(text, i, why);
  };
  while (i < text.length) {
    const c = text[i]!;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const at = i;
    if (c === "(" || c === ")") {
      out.push({ t: c, at });
      i++;
      continue;
    }
    if (c === '"' || c === "'") {
      let s = "";
      i++;
      while (i < text.length && text[i] !== c) {
        if (text[i] === "\\" && i + 1 < text.length) i++;
        s += text[i];
        i++;
      }
      if (i >= text.length) fail("unterminated string");
      i++;
      out.push({ t: "str", v: s, at });
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op) {
      i += op.length;
      out.push({ t: "op", v: op, at });
      if (op === "=~" || op === "!~") {
        while (/\s/.test(text[i] ?? "")) i++;
        const reAt = i;
        if (text[i] === "m" && REGEX_DELIMS.includes(text[i + 1] ?? "")) i++;
        const delim = text[i];
        if (!delim || !REGEX_DELIMS.includes(delim)) fail("expected a regular expression such as /web.*/");
        i++;
        let re = "";
        while (i < text.length && text[i] !== delim) {
          if (text[i] === "\\" && text[i + 1] === delim) i++;
          else if (text[i] === "\\") re += text[i++];
          re += text[i];
          i++;
        }
        if (i >= text.length) fail("unterminated regular expression");
        i++;
        let flags = "";
        while (/[A-Za-z]/.test(text[i] ?? "")) flags += text[i++];
        const unknown = [...flags].filter((f) => f !== "s" && f !== "i");
        if (unknown.length) fail(`Unknown regular expression flags: '${unknown.join("")}'`);
        try {
          new RegExp(re);
        } catch (err) {
          throw new FilterParseError(text, reAt, `invalid regular expression: ${(err as Error).message}`);
        }
        out.push({ t: "re", v: (flags ? `(?${[...new Set(flags)].sort().join("")})` : "") + re, at: reAt });
      }
      continue;
    }
    const num = /^[-+]?\d+/.exec(text.slice(i));
    if (num && !/[A-Za-z_]/.test(text[i + num[0].length] ?? "")) {
      out.push({ t: "num", v: Number(num[0]), at });
      i += num[0].length;
      continue;
    }
    const word = /^[A-Za-z][A-Za-z0-9_/.]*/.exec(text.slice(i));
    if (word) {
      out.push({ t: "field", v: word[0], at });
      i += word[0].length;
      continue;
    }
    fail(`unexpected character '${c}'`);
  }
  return out;
}

/** Ganeti's DnsNameGlobPattern: "*" and "?" match within one DNS label, the rest literally; any domain suffix may follow. */
export function globPattern(glob: string): string {
  const body = glob.replace(/\*|\?|[^*?]+/g, (m) => (m === "*" ? "[^.]*" : m === "?" ? "[^.]" : m.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&")));
  return `^${body}(\\..*)?$`;
}

/** Parse a filter string into the RAPI's list form. */
export function parseFilterText(text: string): Filter {
  const toks = tokenize(text);
  let p = 0;
  const peek = () => toks[p];
  const fail = (why: string): never => {
    throw new FilterParseError(text, peek()?.at ?? text.length, why);
  };
  const keyword = (w: string) => {
    const t = peek();
    return t?.t === "field" && t.v === w;
  };
  const value = (): FilterValue => {
    const t = toks[p++];
    if (t?.t === "num" || t?.t === "str") return t.v;
    p--;
    return fail("expected a number or a quoted string");
  };
  const condition = (): Filter => {
    const t = peek();
    if (!t) return fail("expected a condition");
    if (t.t === "(") {
      p++;
      const inner = orExpr();
      if (peek()?.t !== ")") fail("expected ')'");
      p++;
      return inner;
    }
    if (t.t === "num" || t.t === "str") {
      const v = value();
      let negate = false;
      if (keyword("not")) {
        negate = true;
        p++;
      }
      if (!keyword("in")) fail("expected 'in' after a value");
      p++;
      const f = toks[p++];
      if (f?.t !== "field") {
        p--;
        fail("expected a field name after 'in'");
      }
      const contains: Filter = ["=[]", (f as { v: string }).v, v];
      return negate ? ["!", contains] : contains;
    }
    if (t.t !== "field") return fail("expected a field name");
    p++;
    const op = peek();
    if (op?.t !== "op") return ["?", t.v];
    p++;
    if (op.v === "=~" || op.v === "!~") {
      const re = toks[p++] as { t: "re"; v: string };
      const m: Filter = ["=~", t.v, re.v];
      return op.v === "!~" ? ["!", m] : m;
    }
    if (op.v === "=*" || op.v === "!*") {
      const g = toks[p++];
      if (g?.t !== "str") {
        p--;
        fail("expected a quoted glob pattern");
      }
      const m: Filter = ["=~", t.v, globPattern((g as { v: string }).v)];
      return op.v === "!*" ? ["!", m] : m;
    }
    return [BINARY[op.v]!, t.v, value()];
  };
  const notExpr = (): Filter => {
    if (keyword("not") && toks[p + 1] && !(toks[p + 1]!.t === "field" && (toks[p + 1] as { v: string }).v === "in")) {
      p++;
      return ["!", notExpr()];
    }
    return condition();
  };
  const andExpr = (): Filter => {
    const parts = [notExpr()];
    while (keyword("and")) {
      p++;
      parts.push(notExpr());
    }
    return parts.length === 1 ? parts[0]! : ["&", ...parts];
  };
  const orExpr = (): Filter => {
    const parts = [andExpr()];
    while (keyword("or")) {
      p++;
      parts.push(andExpr());
    }
    return parts.length === 1 ? parts[0]! : ["|", ...parts];
  };
  const result = orExpr();
  if (p < toks.length) fail("unexpected text after the filter");
  return result;
}

/**
 * Ganeti's MakeFilter for list verbs: with -F (or one argument that looks
 * like a filter) the argument is a filter string; otherwise names, where a
 * glob ("web*") matches by pattern.
 */
export function makeListFilter(args: string[], forceFilter: boolean, nameField: string, numeric: boolean): Filter | null {
  if (forceFilter || (args.length === 1 && FILTER_CHARS.test(args[0]!))) {
    if (args.length !== 1) throw new CliError("Exactly one argument must be given as a filter");
    return parseFilterText(args[0]!);
  }
  if (args.length === 0) return null;
  return [
    "|",
    ...args.map((a): Filter => {
      if (numeric) {
        if (!/^\d+$/.test(a)) throw new CliError(`Invalid job ID passed: ${a}`);
        return ["==", nameField, Number(a)];
      }
      return /[*?]/.test(a) ? ["=~", nameField, globPattern(a)] : ["==", nameField, a];
    }),
  ];
}
