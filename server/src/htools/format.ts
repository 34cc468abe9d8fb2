// Number formatting compatible with Haskell's printf (GHC's showFFloat rounds
// the shortest decimal representation half-to-even, unlike Number#toFixed).

/** Shortest decimal digits of |x| and exponent e such that |x| = 0.d1d2… × 10^e. */
function digits(x: number): { ds: number[]; e: number } {
  const s = Math.abs(x).toExponential(); // shortest round-trip mantissa
  const m = /^(\d)(?:\.(\d+))?e([+-]\d+)$/.exec(s)!;
  const ds = (m[1]! + (m[2] ?? "")).split("").map(Number);
  return { ds, e: Number(m[3]) + 1 };
}

/** printf "%.{prec}f" as GHC does it. */
export function hsFixed(x: number, prec: number): string {
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return prec > 0 ? "0." + "0".repeat(prec) : "0";
  const neg = x < 0;
  const { ds, e } = digits(x);
  // digits relative to the decimal point: integer part has max(e,0) digits
  const all = e >= 0 ? ds : [...Array<number>(-e).fill(0), ...ds];
  const intLen = Math.max(e, 0);
  const keep = intLen + prec;
  let kept: number[];
  if (keep >= all.length) kept = [...all, ...Array<number>(keep - all.length).fill(0)];
  else {
    kept = all.slice(0, keep);
    const next = all[keep]!;
    const rest = all.slice(keep + 1);
    const prevEven = keep === 0 ? true : kept[keep - 1]! % 2 === 0;
    let up: boolean;
    if (next === 5 && rest.every((d) => d === 0)) up = !prevEven;
    else up = next >= 5;
    if (up) {
      let i = kept.length - 1;
      while (i >= 0) {
        if (kept[i]! === 9) {
          kept[i] = 0;
          i--;
        } else {
          kept[i]!++;
          break;
        }
      }
      if (i < 0) kept.unshift(1);
    }
  }
  const il = kept.length - prec;
  const ip = il > 0 ? kept.slice(0, il).join("") : "0";
  const fp = kept.slice(il).join("");
  const body = prec > 0 ? `${ip}.${fp}` : ip;
  const isZero = /^[0.]*$/.test(body);
  return (neg && !isZero ? "-" : "") + body;
}
