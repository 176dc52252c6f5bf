import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../errors.js';
import { parseXmlFile, parseXmlString } from './xml.js';

/** Asserts an InputError whose one-line message matches, and returns it for further checks. */
function inputError(fn: () => unknown, message: RegExp): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InputError, `expected InputError, got ${String(caught)}`);
  assert.match(caught.message, message);
  assert.ok(!caught.message.includes('\n'), 'message must be one line');
  return caught;
}

test('parses elements, attributes (as strings) and document order, with line numbers', () => {
  const root = parseXmlString(
    `<?xml version="1.0"?>\n<!-- c -->\n<net a="1" b="x &amp; y">\n  <edge id="e1"/>\n  <junction id="j"/>\n  <edge id="e2">\n    <lane id="e2_0"/>\n  </edge>\n</net>\n`,
    'n.xml',
  );
  assert.equal(root.name, 'net');
  assert.deepEqual(root.attrs, { a: '1', b: 'x & y' });
  assert.deepEqual(
    root.children.map((c) => `${c.name}:${c.attrs['id']}`),
    ['edge:e1', 'junction:j', 'edge:e2'],
  );
  assert.equal(root.line, 3);
  assert.deepEqual(
    root.children.map((c) => c.line),
    [4, 5, 6],
  );
  assert.equal(root.children[2]!.children[0]!.line, 7);
  assert.deepEqual(root.children[0]!.children, []);
});

test('CRLF line endings keep line numbers right', () => {
  const root = parseXmlString('<a>\r\n<b/>\r\n<c/>\r\n</a>', 'crlf.xml');
  assert.deepEqual(
    root.children.map((c) => c.line),
    [2, 3],
  );
});

test('missing file, directory, empty file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-xml-'));
  inputError(() => parseXmlFile(join(dir, 'nope.xml')), /nope\.xml: file not found$/);
  mkdirSync(join(dir, 'sub'));
  inputError(() => parseXmlFile(join(dir, 'sub')), /sub: is a directory/);
  writeFileSync(join(dir, 'empty.xml'), '');
  inputError(() => parseXmlFile(join(dir, 'empty.xml')), /empty\.xml: file is empty/);
  writeFileSync(join(dir, 'blank.xml'), '  \n\n');
  inputError(() => parseXmlFile(join(dir, 'blank.xml')), /blank\.xml: file is empty/);
});

test('truncated files are caught and named with the last line', () => {
  const full = '<net>\n  <edge id="a">\n    <lane id="a_0" shape="0,0 1,1"/>\n  </edge>\n</net>\n';
  // cut after every character: each prefix that is not the whole document must be an error
  for (let cut = 1; cut < full.trimEnd().length; cut++) {
    const text = full.slice(0, cut);
    if (text.trim() === '') continue;
    const e = inputError(() => parseXmlString(text, 't.xml'), /^t\.xml(:\d+(:\d+)?)?: /);
    assert.ok(e.line === undefined || e.line >= 1);
  }
  const e = inputError(() => parseXmlString('<net>\n  <edge id="a">\n    <lane', 't.xml'), /end of file inside <lane>/);
  assert.equal(e.line, 3);
  inputError(
    () => parseXmlString('<net>\n<edge id="a"/>\n', 't.xml'),
    /^t\.xml:2: unexpected end of file: <net> opened at line 1 is not closed/,
  );
});

test('malformed XML names file, line and column', () => {
  const e = inputError(
    () => parseXmlString('<net>\n  <edge id="a"></lane>\n</net>', 'm.xml'),
    /^m\.xml:2:\d+: malformed XML: .*closing tag/,
  );
  assert.equal(e.line, 2);
  inputError(
    () => parseXmlString('<a x="1" x="2"/>', 'm.xml'),
    /^m\.xml:1:\d+: malformed XML: Attribute 'x' is repeated/,
  );
  inputError(() => parseXmlString('<a><b x=1/></a>', 'm.xml'), /m\.xml:1:\d+: malformed XML/);
  inputError(() => parseXmlString('hello', 'm.xml'), /m\.xml:1:1: malformed XML/);
  inputError(() => parseXmlString('<a/>\n<b/>', 'm.xml'), /^m\.xml:2: more than one root element/);
  inputError(() => parseXmlString('<?xml version="1.0"?>', 'm.xml'), /m\.xml: no root element/);
});
