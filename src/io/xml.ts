/**
 * A thin, fast wrapper over fast-xml-parser that turns an XML file into a plain element tree and turns
 * every way a file can be broken (missing, empty, truncated, malformed) into one `InputError` line that
 * names the file and, where known, the line and column.
 *
 * The tree keeps document order (SUMO files are order-sensitive: lanes by index, requests, phases) and
 * keeps attribute values as strings; the importers decide what is a number.
 */
import { createRequire } from 'node:module';
import { readTextFile } from './files.js';
import { InputError } from '../errors.js';
import { scanXml } from './xml-scan.js';

// The package's CommonJS build: one bundled file that loads in a few ms, where its ES module build is
// ~40 files and ~40 ms of every run's start-up. Same version, same code.
const { XMLParser, XMLValidator } = createRequire(import.meta.url)(
  'fast-xml-parser',
) as typeof import('fast-xml-parser');

export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  /** 1-based line of the element's start tag */
  line?: number;
}

/** Reads and parses an XML file; a missing or unreadable file is an InputError naming the path. */
export function parseXmlFile(path: string): XmlElement {
  return parseXmlString(readTextFile(path, 'an XML file'), path);
}

// typed as the wrapper `Symbol` in fxp.d.ts; it is a primitive symbol at run time
const METADATA = XMLParser.getMetaDataSymbol() as unknown as symbol;

// One parser instance is reusable: parse() resets its state per document.
const parser = new XMLParser({
  preserveOrder: true, // children in document order, repeated tags kept apart
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseAttributeValue: false, // strings: the importers validate numbers with their own messages
  parseTagValue: false,
  ignoreDeclaration: true,
  ignorePiTags: true,
  captureMetaData: true, // start offsets, turned into line numbers for messages
});

/**
 * Parses XML text; `fileName` is only used in error messages. The plain XML that SUMO tools write is
 * read by the one-pass scanner (xml-scan.ts); anything else, broken files included, by the full
 * parser, whose messages name the file and line.
 */
export function parseXmlString(text: string, fileName: string): XmlElement {
  return (fullParserOnly ? undefined : scanXml(text)) ?? parseXmlStringFull(text, fileName);
}

let fullParserOnly = false;

/** Runs `fn` with every document read by the full parser, as before the scanner: for benchmarks that
 *  compare the two readers. */
export function withFullXmlParser<T>(fn: () => T): T {
  fullParserOnly = true;
  try {
    return fn();
  } finally {
    fullParserOnly = false;
  }
}

/** The full parser (fast-xml-parser and its validator): every document the scanner leaves to it, and
 *  the reference the scanner is tested and benchmarked against. */
export function parseXmlStringFull(text: string, fileName: string): XmlElement {
  // (a regex test, not trim(): no copy of a 15 MB string)
  if (!/\S/.test(text)) throw new InputError(fileName, 'file is empty, expected XML');

  const valid = XMLValidator.validate(text);
  if (valid !== true) throw validationError(valid.err, text, fileName);

  let raw: unknown[];
  try {
    raw = parser.parse(text) as unknown[];
  } catch (e) {
    // The validator should have caught everything; keep the parser's words but never its stack.
    throw new InputError(fileName, `malformed XML: ${e instanceof Error ? e.message : String(e)}`);
  }

  const lines = new LineCounter(text);
  const roots = convertChildren(raw, lines);
  // The validator accepts `<a/><b/>` (a self-closing first root does not count), so check here.
  if (roots.length === 0) throw new InputError(fileName, 'no root element found');
  if (roots.length > 1) {
    const second = roots[1]!;
    throw new InputError(
      fileName,
      `more than one root element (<${roots[0]!.name}> and <${second.name}>)`,
      second.line,
    );
  }
  return roots[0]!;
}

interface ValidationErr {
  code: string;
  msg: string;
  line: number;
  col?: number;
}

/** Rewords the validator's end-of-file messages, which are the ones users meet on truncated files. */
function validationError(err: ValidationErr, text: string, fileName: string): InputError {
  const eofLine = countLines(text);
  // A file cut inside a tag gives whatever error the validator meets first (often "open quote"); the
  // useful message is that the file ends early. A well-formed document never ends inside a tag.
  const lastOpen = text.lastIndexOf('<');
  if (lastOpen > text.lastIndexOf('>')) {
    const tag = /^<\/?([^\s/>]*)/.exec(text.slice(lastOpen))?.[1] ?? '';
    return new InputError(fileName, `unexpected end of file inside <${tag}> (truncated file?)`, eofLine);
  }
  const unclosed = /^Unclosed tag '(.*)'\.$/.exec(err.msg);
  if (unclosed) {
    return new InputError(
      fileName,
      `unexpected end of file: <${unclosed[1]}> opened at line ${err.line} is not closed (truncated file?)`,
      eofLine,
    );
  }
  // Several open tags at the end: the validator reports them as a JSON list at 1:1.
  const many = /^Invalid '(\[.*\])' found\.$/.exec(err.msg);
  if (many) {
    let names: string[] = [];
    try {
      names = JSON.parse(many[1]!) as string[];
    } catch {
      /* keep the generic message below */
    }
    const inner = names[names.length - 1];
    if (inner !== undefined) {
      return new InputError(
        fileName,
        `unexpected end of file inside <${inner}> (${names.length} elements not closed; truncated file?)`,
        eofLine,
      );
    }
  }
  if (err.msg === 'Start tag expected.') return new InputError(fileName, 'no root element found, expected XML');
  return new InputError(fileName, `malformed XML: ${err.msg}`, err.line, err.col);
}

/** Number of the last line that has content (a final newline does not start a new line). */
function countLines(text: string): number {
  let n = text.endsWith('\n') ? 0 : 1;
  for (let i = text.indexOf('\n'); i !== -1; i = text.indexOf('\n', i + 1)) n++;
  return n;
}

/**
 * Maps offsets to 1-based line numbers. Elements arrive in document order, so offsets only grow and the
 * whole file is scanned once (a binary search per element would also do, but this needs no index).
 */
class LineCounter {
  private offset = 0;
  private line = 1;
  constructor(private readonly text: string) {}

  lineAt(offset: number): number {
    if (offset < this.offset) {
      // Not expected (document order), but stay correct: restart the scan.
      this.offset = 0;
      this.line = 1;
    }
    const text = this.text;
    for (let i = text.indexOf('\n', this.offset); i !== -1 && i < offset; i = text.indexOf('\n', i + 1)) this.line++;
    this.offset = offset;
    return this.line;
  }
}

/**
 * preserveOrder output: each node is `{ [tagName]: children[], ':@'?: attrs }`, text nodes are
 * `{ '#text': string }`. SUMO files carry everything in attributes, so text is dropped.
 */
function convertChildren(nodes: unknown[], lines: LineCounter): XmlElement[] {
  const out: XmlElement[] = [];
  for (const node of nodes) {
    const obj = node as Record<string | symbol, unknown>;
    let name: string | undefined;
    for (const key in obj) {
      if (key !== ':@') {
        name = key;
        break;
      }
    }
    if (name === undefined || name === '#text') continue;
    const meta = obj[METADATA] as { startIndex?: number } | undefined;
    // The element's own line first, then its children: keeps offsets increasing for LineCounter.
    const line = meta?.startIndex !== undefined ? lines.lineAt(meta.startIndex) : undefined;
    const children = obj[name];
    const el: XmlElement = {
      name,
      attrs: (obj[':@'] as Record<string, string> | undefined) ?? {},
      children: Array.isArray(children) ? convertChildren(children, lines) : [],
    };
    if (line !== undefined) el.line = line;
    out.push(el);
  }
  return out;
}
