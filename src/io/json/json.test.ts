import { test } from 'node:test';
import assert from 'node:assert/strict';
import { JsonSyntaxError, lineColumn, parentPath, parseLocated } from './json.js';

test('parses exactly what JSON.parse parses', () => {
  const samples = [
    '{}',
    '[]',
    ' {"a": [1, -2.5e3, 0, 1E-2, true, false, null], "b": {"c": "d"}} ',
    '"esc \\" \\\\ \\/ \\b \\f \\n \\r \\t \\u00e9 \\ud83d\\ude00"',
    '{"__proto__": 1, "x": "é😀"}',
    '\ufeff[1]',
  ];
  for (const s of samples) assert.deepEqual(parseLocated(s).value, JSON.parse(s.replace(/^\ufeff/, '')), s);
});

test('rejects what JSON.parse rejects', () => {
  for (const s of [
    '',
    '01',
    '1.',
    '.5',
    '+1',
    "{'a':1}",
    '[1,]',
    '{"a":1,}',
    '"\t"',
    '"\\x"',
    '[1] 2',
    'nul',
    '{"a" 1}',
    '"abc',
  ]) {
    assert.throws(() => JSON.parse(s), s);
    assert.throws(() => parseLocated(s), JsonSyntaxError, s);
  }
});

test('records where each value starts', () => {
  const text = '{\n  "edges": [\n    {"id": "e", "to": "Q"}\n  ]\n}';
  const { offsets } = parseLocated(text);
  assert.deepEqual(lineColumn(text, offsets.get('edges[0].to')!), { line: 3, column: 23 });
  assert.deepEqual(lineColumn(text, offsets.get('edges')!), { line: 2, column: 12 });
  assert.equal(offsets.get(''), 0);
});

test('parentPath walks up a JSON path', () => {
  assert.equal(parentPath('edges[3].to'), 'edges[3]');
  assert.equal(parentPath('edges[3]'), 'edges');
  assert.equal(parentPath('edges'), '');
  assert.equal(parentPath(''), undefined);
  assert.equal(parentPath('a.b[0][1]'), 'a.b[0]');
});
