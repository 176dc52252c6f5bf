import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { scanXml } from './xml-scan.js';
import { parseXmlStringFull, type XmlElement } from './xml.js';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures', import.meta.url));

function xmlFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? xmlFiles(join(dir, e.name)) : /\.(xml|sumocfg)$/.test(e.name) ? [join(dir, e.name)] : [],
  );
}

/** The full parser's tree, or its message when it refuses the document. */
function full(text: string): XmlElement | string {
  try {
    return parseXmlStringFull(text, 'f.xml');
  } catch (e) {
    return (e as Error).message;
  }
}

test('every CI fixture: the scanner reads it, into the tree the full parser builds', () => {
  const files = xmlFiles(FIXTURES);
  assert.ok(files.length >= 50, `found only ${files.length} fixture files`);
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const scanned = scanXml(text);
    assert.ok(scanned !== undefined, `${file}: left to the full parser`);
    assert.ok(isDeepStrictEqual(scanned, parseXmlStringFull(text, file)), `${file}: trees differ`);
  }
});

const SAMPLE =
  `<?xml version="1.0" encoding="UTF-8"?>\r\n<!-- generated -->\n<net version="1.9" xmlns:xsi="x">\n` +
  `  <edge id="a" name="Rue d&apos;Ostende &amp; co" from='J0' to="J1" >\n` +
  `    <lane id="a_0" index="0" shape=" 0,0 1,1 " />\r\n  </edge>\n  <junction id="J0"/>\n</net>\n`;

const SAMPLE_ROUTES =
  `<routes>\n\t<vType id='car' accel="2.6"/>\n\t<vehicle id="v&lt;0&gt;" depart="0.00">\n\t\t<route edges="a b"/>\n` +
  `\t</vehicle><!--x--><flow id="f" begin="0" end="9" period="1" route="r"></flow>\n</routes>`;

test('the scanner agrees with the full parser on declarations, comments, quotes, entities, CRLF', () => {
  const scanned = scanXml(SAMPLE);
  assert.ok(scanned !== undefined);
  assert.deepEqual(scanned, parseXmlStringFull(SAMPLE, 's.xml'));
  assert.equal(scanned.children[0]!.attrs['name'], "Rue d'Ostende & co");
  assert.equal(scanned.children[0]!.children[0]!.attrs['shape'], '0,0 1,1');
  assert.deepEqual(
    [scanned.line, scanned.children[0]!.line, scanned.children[0]!.children[0]!.line, scanned.children[1]!.line],
    [3, 4, 5, 7],
  );
});

test('what the scanner does not fully understand goes to the full parser', () => {
  for (const text of [
    '<a>text</a>',
    '<a><![CDATA[x]]></a>',
    '<!DOCTYPE a><a/>',
    '<a x="&#65;"/>',
    '<a x="&nbsp;"/>',
    '<a x="1" x="2"/>',
    '<a x=1/>',
    '<a x/>',
    '<a></b>',
    '<a>',
    '<a/><b/>',
    '<a>\r<b/></a>',
    '<a><toString/></a>',
    '<a constructor="1"/>',
    '<a><?pi x?></a>',
    ' <?xml version="1.0"?><a/>',
    '\uFEFF<a/>',
    '<a x = "1"/>',
    '<a x="1"y="2"/>',
    '<é/>',
    '<a><!-- a -- b --></a>',
    '',
  ])
    assert.equal(scanXml(text), undefined, JSON.stringify(text));
});

/** A deterministic generator (mulberry32): the same mutations on every run. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

test('on mutated documents, whatever the scanner accepts the full parser reads into the same tree', () => {
  const rnd = random(14);
  const alphabet = ['<', '>', '/', '=', '"', "'", '&', ';', '!', '-', '?', ' ', '\r', '\n', '\t', 'a', ':', '_', '.'];
  alphabet.push('amp;', 'lt;', '#65;', '<!--', '-->', '<?', '?>', '</', '/>', '\u00a0', 'é', '\ufeff', 'xml');
  let accepted = 0;
  let refused = 0;
  for (let n = 0; n < 4000; n++) {
    let text = n % 2 === 0 ? SAMPLE : SAMPLE_ROUTES;
    for (let m = 1 + Math.floor(rnd() * 3); m > 0; m--) {
      const at = Math.floor(rnd() * text.length);
      const op = rnd();
      const ch = alphabet[Math.floor(rnd() * alphabet.length)]!;
      if (op < 0.4) text = text.slice(0, at) + text.slice(at + 1);
      else if (op < 0.7) text = text.slice(0, at) + ch + text.slice(at);
      else text = text.slice(0, at) + ch + text.slice(at + 1);
    }
    const scanned = scanXml(text);
    if (scanned === undefined) {
      refused++;
      continue;
    }
    accepted++;
    assert.deepEqual(scanned, full(text), JSON.stringify(text));
  }
  // both branches were exercised (most single mutations inside attribute values stay readable)
  assert.ok(accepted > 500 && refused > 500, `accepted ${accepted}, refused ${refused}`);
});
