/**
 * Attribute readers shared by the SUMO importers. Every failure is an InputError that names the file,
 * the element's line, the element (with its id when it has one) and the attribute, so a user can find
 * the offending spot without a stack trace.
 */
import { InputError } from '../../errors.js';
import type { XmlElement } from '../xml.js';

/** `<lane id="A0A1_0">`, or `<phase>` for elements without an id. */
export function describe(el: XmlElement): string {
  const id = el.attrs['id'];
  return id !== undefined ? `<${el.name} id="${id}">` : `<${el.name}>`;
}

export function fail(file: string, el: XmlElement, detail: string): InputError {
  return new InputError(file, `${describe(el)}: ${detail}`, el.line);
}

export function reqStr(file: string, el: XmlElement, name: string): string {
  const v = el.attrs[name];
  if (v === undefined || v === '') throw fail(file, el, `missing attribute ${name}`);
  return v;
}

// Plain decimal numbers only: Number() would also accept '', ' ', '0x1f' and 'Infinity'.
const NUMBER = /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/;

/** Parses a decimal number or returns undefined; exported for values that are not attributes. */
export function parseNumber(text: string): number | undefined {
  return NUMBER.test(text) ? Number(text) : undefined;
}

export function optNum(file: string, el: XmlElement, name: string): number | undefined {
  const v = el.attrs[name];
  if (v === undefined) return undefined;
  const n = parseNumber(v);
  if (n === undefined) throw fail(file, el, `attribute ${name}="${v}" is not a number`);
  return n;
}

export function num(file: string, el: XmlElement, name: string, dflt?: number): number {
  const n = optNum(file, el, name);
  if (n !== undefined) return n;
  if (dflt !== undefined) return dflt;
  throw fail(file, el, `missing attribute ${name}`);
}

export function optInt(file: string, el: XmlElement, name: string): number | undefined {
  const n = optNum(file, el, name);
  if (n !== undefined && !Number.isInteger(n))
    throw fail(file, el, `attribute ${name}="${el.attrs[name]}" is not an integer`);
  return n;
}

export function int(file: string, el: XmlElement, name: string, dflt?: number): number {
  const n = optInt(file, el, name);
  if (n !== undefined) return n;
  if (dflt !== undefined) return dflt;
  throw fail(file, el, `missing attribute ${name}`);
}

/** Space-separated list (SUMO's incLanes, allow, route edges); empty attribute → []. */
export function list(value: string | undefined): string[] {
  if (value === undefined) return [];
  const t = value.trim();
  if (t === '') return [];
  // what SUMO writes, single spaces, splits without a regex (a third of a large net's reading)
  return OTHER_SPACING.test(t) ? t.split(/\s+/) : t.split(' ');
}

/** whitespace other than one space between items */
const OTHER_SPACING = /[^\S ]| {2}/;

/**
 * SUMO shape "x,y x,y ..." (points may carry a third z coordinate, dropped) to a flat [x0,y0,x1,y1,...].
 * Hot path on large nets, so it avoids regexes per point.
 */
export function parseShape(file: string, el: XmlElement, name: string): number[] {
  const v = el.attrs[name];
  if (v === undefined) return [];
  const out: number[] = [];
  for (const point of list(v)) {
    const c1 = point.indexOf(',');
    const c2 = c1 < 0 ? -1 : point.indexOf(',', c1 + 1);
    const x = c1 < 0 ? NaN : coord(point.slice(0, c1));
    const y = c1 < 0 ? NaN : coord(c2 < 0 ? point.slice(c1 + 1) : point.slice(c1 + 1, c2));
    if (!Number.isFinite(x) || !Number.isFinite(y))
      throw fail(file, el, `attribute ${name} has a bad point "${point}" (expected x,y)`);
    out.push(x, y);
  }
  return out;
}

// Number('') is 0; an empty coordinate ("1,") is an error, not the origin.
function coord(s: string): number {
  return s === '' ? NaN : Number(s);
}
