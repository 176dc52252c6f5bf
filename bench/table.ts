/**
 * Plain-text tables and number formatting for the bench report (stdout stays readable and diffable).
 */

export type Align = 'l' | 'r';

/** Render rows as an aligned table; the first row is the header, underlined. */
export function table(rows: string[][], align: Align[]): string {
  // width in code points, so that '✓' and '×' count as one column
  const len = (s: string) => [...s].length;
  const cols = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: cols }, (_, c) => Math.max(...rows.map((r) => len(r[c] ?? ''))));
  const line = (r: string[]) =>
    widths
      .map((w, c) => {
        const cell = r[c] ?? '';
        const pad = ' '.repeat(w - len(cell));
        return align[c] === 'r' ? pad + cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  const [head, ...body] = rows;
  if (!head) return '';
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

/** A figure with a sensible number of decimals for its size. */
export function num(x: number): string {
  if (!Number.isFinite(x)) return 'n/a';
  if (Number.isInteger(x)) return String(x);
  const a = Math.abs(x);
  return x.toFixed(a >= 100 ? 1 : a >= 10 ? 2 : 3);
}

/** Updates per second as 1.23M / 456.7k. */
export function ups(x: number): string {
  if (!Number.isFinite(x) || x <= 0) return 'n/a';
  return x >= 1e6 ? `${(x / 1e6).toFixed(2)}M` : `${(x / 1e3).toFixed(1)}k`;
}

/** Signed relative error of `ours` against `ref`, in percent (undefined when ref is 0). */
export function relErr(ours: number, ref: number): number | undefined {
  if (ref === 0) return ours === 0 ? 0 : undefined;
  return ((ours - ref) / Math.abs(ref)) * 100;
}

export function pct(x: number | undefined): string {
  if (x === undefined) return 'n/a';
  const s = x.toFixed(1);
  // a tiny negative error rounds to "-0.0"; show it as no error
  return s === '-0.0' || s === '0.0' ? '0.0%' : `${x > 0 ? '+' : ''}${s}%`;
}

export function kib(k: number | undefined): string {
  if (k === undefined) return 'n/a';
  return k >= 1024 * 1024 ? `${(k / 1024 / 1024).toFixed(2)} GiB` : `${(k / 1024).toFixed(0)} MiB`;
}

export function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
