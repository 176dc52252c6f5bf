import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError, UsageError } from '../errors.js';
import { loadSumoScenario } from '../io/sumo/config.js';
import { Engine } from '../sim/engine.js';
import type { Network } from '../sim/network.js';
import { chooseParts, formatPartitionMap, laneOwners, loadPartitionMap, makePartition } from './plan.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/${name}/scenario.sumocfg`, import.meta.url));
const engines = new Map<string, Engine>();
const engine = (name: string): Engine => {
  let e = engines.get(name);
  if (!e) engines.set(name, (e = new Engine(loadSumoScenario(fixture(name)))));
  return e;
};

/** Every lane has an owner in range; a normal lane is owned with its to-junction, an internal lane with its junction. */
function checkOwners(net: Network, junctionPart: Int32Array, laneOwner: Int32Array, parts: number): void {
  assert.equal(laneOwner.length, net.laneCount);
  for (let lane = 0; lane < net.laneCount; lane++) {
    const owner = laneOwner[lane]!;
    assert.ok(owner >= 0 && owner < parts, `lane ${net.laneIds[lane]} owner ${owner}`);
    if (lane < net.normalLaneCount)
      assert.equal(owner, junctionPart[net.edgeTo[net.laneEdge[lane]!]!], `lane ${net.laneIds[lane]}`);
    else
      assert.equal(owner, junctionPart[net.linkJunction[net.laneLink[lane]!]!], `internal lane ${net.laneIds[lane]}`);
  }
}

/** Runs `body` with a temporary file holding `text`. */
function withFile<T>(name: string, text: string, body: (path: string) => T): T {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-partition-'));
  try {
    const path = join(dir, name);
    writeFileSync(path, text);
    return body(path);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const name of ['grid4', 'spider4', 'rand4']) {
  test(`${name}: every lane gets an owner; a lane belongs to the part of the junction it drives into`, () => {
    const { net, demand } = engine(name);
    for (const parts of [1, 2, 3, 4]) {
      const plan = makePartition(net, demand, { parts });
      assert.equal(plan.parts, parts);
      assert.equal(plan.junctionPart.length, net.junctionIds.length);
      assert.equal(new Set(plan.junctionPart).size, parts, 'every part used');
      checkOwners(net, plan.junctionPart, plan.laneOwner, parts);
    }
  });
}

test('part count rule: one part per worker; one worker: ≥ 50 junctions a part; within min..max, a multiple of workers', () => {
  assert.equal(chooseParts(16), 1, 'small network: one part');
  assert.equal(chooseParts(16, { workers: 4 }), 4, 'one per worker, even when small');
  assert.equal(chooseParts(16, { workers: 4, maxParts: 2 }), 2, 'unless the range forbids');
  assert.equal(chooseParts(3, { workers: 4 }), 3, 'never more parts than junctions');
  assert.equal(chooseParts(260), 5, 'one worker: ⌊260 / 50⌋');
  assert.equal(chooseParts(260, { workers: 2 }), 2, 'several workers: one part each, not more');
  assert.equal(chooseParts(2000), 8, 'default maxParts 8');
  assert.equal(chooseParts(2000, { maxParts: 64, workers: 8 }), 8);
  assert.equal(
    chooseParts(2000, { minParts: 20, maxParts: 30, workers: 8 }),
    24,
    'more parts than workers: a multiple of them',
  );
  assert.equal(
    chooseParts(2000, { minParts: 20, maxParts: 23, workers: 8 }),
    20,
    'no multiple in range: the range wins',
  );
  assert.equal(chooseParts(2000, { maxParts: 6, workers: 8 }), 6, 'fewer parts than workers when the range says so');
  assert.equal(chooseParts(100, { minParts: 3, workers: 2 }), 4, 'rounded up when rounding down leaves the range');
  assert.equal(chooseParts(100, { minParts: 3, maxParts: 3, workers: 2 }), 3, 'no multiple in range: the range wins');
  assert.throws(() => chooseParts(100, { minParts: 5, maxParts: 4 }), /--min-parts 5 is greater than --max-parts 4/);
  assert.throws(() => chooseParts(100, { workers: 0 }), UsageError);
  assert.throws(() => chooseParts(4, { minParts: 5 }), /only 4 junction/);
});

test('makePartition without parts uses the rule; with workers the count is a multiple', () => {
  const { net, demand } = engine('rand4');
  assert.equal(makePartition(net, demand).parts, 1);
  const plan = makePartition(net, demand, { workers: 3 });
  assert.equal(plan.parts, 3);
  checkOwners(net, plan.junctionPart, plan.laneOwner, 3);
  assert.throws(() => makePartition(net, demand, { parts: 33 }), /only 32 junction/);
  assert.throws(() => makePartition(net, demand, { parts: 0 }), UsageError);
});

test('a JSON partition map assigns the junctions as written', () => {
  const { net, demand } = engine('grid4');
  // columns A,B → part 0; C,D → part 1
  const entries = net.junctionIds.map((id) => `  ${JSON.stringify(id)}: ${id < 'C' ? 0 : 1}`);
  withFile('map.json', `{\n${entries.join(',\n')}\n}\n`, (path) => {
    const map = loadPartitionMap(path);
    assert.equal(map.size, 16);
    assert.equal(map.get('A0'), 0);
    assert.equal(map.get('D3'), 1);
    const plan = makePartition(net, demand, { map });
    assert.equal(plan.parts, 2);
    net.junctionIds.forEach((id, j) => assert.equal(plan.junctionPart[j], id < 'C' ? 0 : 1));
    checkOwners(net, plan.junctionPart, plan.laneOwner, 2);
    assert.throws(() => makePartition(net, demand, { map, parts: 3 }), /contradicts the partition map/);
  });
});

test('formatPartitionMap writes a JSON map that reads back as the same partition, whatever the ids', () => {
  const { net, demand } = engine('grid4');
  const plan = makePartition(net, demand, { parts: 3 });
  withFile('saved.json', formatPartitionMap(net.junctionIds, plan.junctionPart), (path) => {
    assert.deepEqual(makePartition(net, demand, { map: loadPartitionMap(path) }).junctionPart, plan.junctionPart);
  });
  const odd = ['__proto__', 'a "quoted" id', 'x#1', 'ünïcode'];
  withFile('odd.json', formatPartitionMap(odd, [1, 0, 1, 0]), (path) => {
    assert.deepEqual(
      [...loadPartitionMap(path)],
      [
        ['__proto__', 1],
        ['a "quoted" id', 0],
        ['x#1', 1],
        ['ünïcode', 0],
      ],
    );
  });
});

test('a text partition map: one "junction part" per line, # comments', () => {
  const text = '# columns\nA0 0\n  A1   1  # trailing comment\n\nB#2 2\n';
  withFile('map.txt', text, (path) => {
    assert.deepEqual(
      [...loadPartitionMap(path)],
      [
        ['A0', 0],
        ['A1', 1],
        ['B#2', 2],
      ],
    );
  });
});

test('a partition map missing a junction, naming an unknown one, or with a gap in the parts is refused by name', () => {
  const { net, demand } = engine('grid4');
  const full = new Map(net.junctionIds.map((id, i) => [id, i % 2]));
  const missing = new Map(full);
  missing.delete('B2');
  assert.throws(
    () => makePartition(net, demand, { map: missing }),
    (e: unknown) => e instanceof UsageError && /junction "B2"/.test(e.message),
  );
  const unknown = new Map(full).set('nowhere', 0);
  assert.throws(
    () => makePartition(net, demand, { map: unknown }),
    (e: unknown) => e instanceof UsageError && /"nowhere"/.test(e.message),
  );
  const gap = new Map(net.junctionIds.map((id, i) => [id, i % 2 === 0 ? 0 : 2]));
  assert.throws(() => makePartition(net, demand, { map: gap }), /no junction is in part 1/);
});

test('malformed partition maps: the error names the file and the line', () => {
  const cases: [string, string, number, RegExp][] = [
    ['bad.json', '{\n  "A0": 0,\n  "A1" 1\n}\n', 3, /malformed JSON/],
    ['trunc.json', '{\n  "A0": 0,\n', 3, /malformed JSON/],
    ['neg.json', '{\n  "A0": 0,\n  "A1": -1\n}\n', 3, /part of junction "A1" must be a non-negative integer/],
    ['dup.json', '{\n  "A0": 0,\n  "A0": 1\n}\n', 3, /listed twice \(first on line 2\)/],
    ['array.json', '[1, 2]', 1, /expected a JSON object/],
    ['words.txt', 'A0 0\nA1 1 extra\n', 2, /expected "junctionId part"/],
    ['part.txt', '# map\nA0 zero\n', 2, /must be a non-negative integer, found "zero"/],
    ['dup.txt', 'A0 0\n\nA0 1\n', 3, /listed twice \(first on line 1\)/],
  ];
  for (const [name, text, line, what] of cases) {
    withFile(name, text, (path) => {
      assert.throws(
        () => loadPartitionMap(path),
        (e: unknown) =>
          e instanceof InputError &&
          e.file === path &&
          e.line === line &&
          what.test(e.message) &&
          e.message.startsWith(`${path}:${line}`),
        `${name}: expected line ${line} and ${what}`,
      );
    });
  }
  withFile('empty.txt', '# nothing\n', (path) => assert.throws(() => loadPartitionMap(path), /lists no junctions/));
  assert.throws(
    () => loadPartitionMap('/nonexistent/map.json'),
    (e: unknown) => e instanceof InputError && /file not found/.test(e.message),
  );
});

test('laneOwners follows junctionPart for any assignment', () => {
  const { net } = engine('spider4');
  const junctionPart = Int32Array.from(net.junctionIds, (_, j) => j % 3);
  checkOwners(net, junctionPart, laneOwners(net, junctionPart), 3);
});
