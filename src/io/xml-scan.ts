/**
 * A one-pass reader for the well-formed, plain XML that SUMO tools write: elements, attributes in
 * double or single quotes, comments, an XML declaration at the very start, whitespace between tags.
 * It builds the same `XmlElement` tree as the full parser in xml.ts (fast-xml-parser with its
 * validator) about 3 times faster in a fresh process and 9 times once compiled (Monaco, 16 MB;
 * bench/cluster.ts measures it), because it builds the tree in one pass instead of validating,
 * parsing to fast-xml-parser's nodes and converting those.
 *
 * It is deliberately narrow: on anything it does not fully understand (text content, CDATA, DOCTYPE,
 * processing instructions, entities other than the five XML ones, names outside plain ASCII, a
 * missing or mismatched end tag, a repeated attribute, a bare carriage return, …) it returns
 * undefined, and xml.ts gives the document to the full parser, which then either reads it or
 * reports what is wrong with the file's own words and line. So a document it accepts is one the
 * full parser accepts too, with the same tree (xml-scan.test.ts checks both on every fixture and on
 * thousands of mutated documents); the error messages are the full parser's.
 */
import type { XmlElement } from './xml.js';

// character codes
const TAB = 9;
const LF = 10;
const CR = 13;
const SPACE = 32;
const QUOTE = 34;
const APOS = 39;
const DASH = 45;
const SLASH = 47;
const LT = 60;
const EQ = 61;
const GT = 62;
const QUESTION = 63;
const BANG = 33;

/** fast-xml-parser renames or refuses these as tag and attribute names (prototype pollution). */
const RESERVED_NAMES: ReadonlySet<string> = new Set([
  '__proto__',
  'constructor',
  'prototype',
  'hasOwnProperty',
  'toString',
  'valueOf',
  '__defineGetter__',
  '__defineSetter__',
  '__lookupGetter__',
  '__lookupSetter__',
]);

/** fast-xml-parser refuses deeper documents (its maxNestedTags). */
const MAX_DEPTH = 100;

/** `<?xml version="1.0" encoding="UTF-8"?>`: plain attributes, nothing the full parser could object to */
const DECLARATION = /^<\?xml((?:[ \t\n]+(?:version|encoding|standalone)=(?:"[\w.-]*"|'[\w.-]*'))*)[ \t\n]*\?>/;

const ENTITY = /&(lt|gt|quot|apos|amp);/g;
const ENTITY_TEXT: Readonly<Record<string, string>> = { lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' };

function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58; // a-z A-Z _ :
}

function isNameChar(c: number): boolean {
  return isNameStart(c) || (c >= 48 && c <= 57) || c === DASH || c === 46; // 0-9 - .
}

/** The document's root element, or undefined when the full parser must read it (see above). */
export function scanXml(text: string): XmlElement | undefined {
  const n = text.length;
  let i = 0;
  // the declaration, only at the very start (the full parser refuses one elsewhere)
  if (text.startsWith('<?xml', 0)) {
    const decl = DECLARATION.exec(text);
    if (decl === null || hasRepeats(decl[1]!.match(/[a-z]+(?==)/g) ?? [])) return undefined;
    i = decl[0].length;
  }
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  // line numbers: offsets only grow, so newlines are counted once, up to each start tag
  let lineOffset = 0;
  // the next '<', carriage return and '&' at or after where they were last looked for
  let nextLt = -1;
  let nextCr = -1;
  let nextAmp = -1;
  let line = 1;
  for (;;) {
    // (never a read past the end: one would cost the optimised code)
    let c = i < n ? text.charCodeAt(i) : -1;
    while (c === SPACE || c === LF || c === TAB || c === CR) {
      if (c === CR && text.charCodeAt(i + 1) !== LF) return undefined; // a bare CR: the parser makes it a newline
      c = ++i < n ? text.charCodeAt(i) : -1;
    }
    if (i >= n) break;
    if (c !== LT) return undefined; // text content
    const c2 = text.charCodeAt(i + 1);
    if (c2 === BANG) {
      // a comment; DOCTYPE and CDATA are the full parser's
      if (!text.startsWith('<!--', i)) return undefined;
      const end = text.indexOf('-->', i + 4);
      if (end <= i + 4 || text.indexOf('--', i + 4) !== end) return undefined;
      i = end + 3;
      continue;
    }
    if (c2 === QUESTION) return undefined;
    if (c2 === SLASH) {
      const open = stack.pop();
      if (open === undefined) return undefined;
      const j = i + 2 + open.name.length;
      if (!text.startsWith(open.name, i + 2) || text.charCodeAt(j) !== GT) return undefined;
      i = j + 1;
      continue;
    }
    if (root !== undefined && stack.length === 0) return undefined; // a second root
    // a start tag
    let j = i + 1;
    if (!isNameStart(text.charCodeAt(j))) return undefined;
    while (isNameChar(text.charCodeAt(++j)));
    const name = cachedName(text, i + 1, j);
    if (RESERVED_NAMES.has(name)) return undefined;
    for (let k = text.indexOf('\n', lineOffset); k !== -1 && k < i; k = text.indexOf('\n', k + 1)) line++;
    lineOffset = i;
    const attrs: Record<string, string> = {};
    seen.length = 0;
    let selfClosing = false;
    for (;;) {
      c = text.charCodeAt(j);
      const spaced = isSpace(c);
      while (isSpace(c)) {
        if (c === CR && text.charCodeAt(j + 1) !== LF) return undefined;
        c = text.charCodeAt(++j);
      }
      if (c === GT) {
        j++;
        break;
      }
      if (c === SLASH) {
        if (text.charCodeAt(j + 1) !== GT) return undefined;
        selfClosing = true;
        j += 2;
        break;
      }
      // an attribute: after whitespace, name="value" or name='value'
      if (!spaced || !isNameStart(c)) return undefined;
      const nameStart = j;
      while (isNameChar(text.charCodeAt(++j)));
      const attr = cachedName(text, nameStart, j);
      if (text.charCodeAt(j) !== EQ) return undefined;
      const quote = text.charCodeAt(j + 1);
      if (quote !== QUOTE && quote !== APOS) return undefined;
      const valueStart = j + 2;
      // the value's end by a native search; what it may not hold is found the same way, once per
      // file and not per character: the next '<' (past the tag's own), carriage return and '&'
      const k = text.indexOf(quote === QUOTE ? '"' : "'", valueStart);
      if (k < 0) return undefined;
      if (nextLt <= i) nextLt = after(text, '<', i + 1);
      if (k > nextLt) return undefined;
      if (nextCr < valueStart) nextCr = after(text, '\r', valueStart);
      if (k > nextCr) return undefined;
      if (nextAmp < valueStart) nextAmp = after(text, '&', valueStart);
      const entities = k > nextAmp;
      if (RESERVED_NAMES.has(attr) || seen.includes(attr)) return undefined;
      seen.push(attr);
      let value = text.slice(valueStart, k);
      // the parser trims values (String.prototype.trim, which knows Unicode spaces), then decodes
      if (value.length > 0 && (edgeMayTrim(value.charCodeAt(0)) || edgeMayTrim(value.charCodeAt(value.length - 1))))
        value = value.trim();
      if (entities) {
        const decoded = decodeEntities(value);
        if (decoded === undefined) return undefined;
        value = decoded;
      }
      attrs[attr] = value;
      j = k + 1;
    }
    const el: XmlElement = { name, attrs, children: [], line };
    if (stack.length > 0) stack[stack.length - 1]!.children.push(el);
    else root = el;
    if (!selfClosing) {
      if (stack.length >= MAX_DEPTH) return undefined;
      stack.push(el);
    }
    i = j;
  }
  return stack.length === 0 ? root : undefined;
}

/** the attribute names of the element being read, for the repeat check */
const seen: string[] = [];

/**
 * Tag and attribute names, the same few hundred again and again: one string each. A fresh slice per
 * use would be hashed and internalised anew whenever it becomes a property key (most of the
 * scanner's time on a large net, measured).
 */
const names: string[] = Array.from({ length: 4096 }, () => '');

function cachedName(text: string, start: number, end: number): string {
  const length = end - start;
  const slot = (text.charCodeAt(start) * 961 + text.charCodeAt(end - 1) * 31 + length) & 4095;
  const known = names[slot];
  if (known!.length === length && text.startsWith(known!, start)) return known!;
  const name = text.slice(start, end);
  names[slot] = name;
  return name;
}

/** The position of `ch` from `from` on; past the end when there is none. */
function after(text: string, ch: string, from: number): number {
  const at = text.indexOf(ch, from);
  return at < 0 ? Infinity : at;
}

function isSpace(c: number): boolean {
  return c === SPACE || c === LF || c === TAB || c === CR;
}

function hasRepeats(names: string[]): boolean {
  return new Set(names).size !== names.length;
}

/** Control characters, spaces and anything beyond ASCII may be trimmed away. */
function edgeMayTrim(c: number): boolean {
  return c <= SPACE || c >= 127;
}

/**
 * The five XML entities, in one pass as the parser does (`&amp;lt;` is `&lt;`); undefined when the
 * value holds any other `&`, which the full parser then reads.
 */
function decodeEntities(value: string): string | undefined {
  let amps = 0;
  for (let k = value.indexOf('&'); k !== -1; k = value.indexOf('&', k + 1)) amps++;
  let known = 0;
  const out = value.replace(ENTITY, (_m, e: string) => {
    known++;
    return ENTITY_TEXT[e]!;
  });
  return known === amps ? out : undefined;
}
