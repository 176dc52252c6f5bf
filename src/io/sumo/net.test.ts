import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InputError } from '../../errors.js';
import { parseSumoNet } from './net.js';
import { NO_INTERNAL_NET, SMALL_NET } from './testing.js';

function inputError(fn: () => unknown, message: RegExp): InputError {
  let caught: unknown;
  try {
    fn();
  } catch (e) {
    caught = e;
  }
  assert.ok(caught instanceof InputError, `expected InputError, got ${String(caught)}`);
  assert.match(caught.message, message);
  assert.ok(!caught.message.includes('\n'));
  return caught;
}

test('edges, lanes and junctions; internal and walking-area edges are not edges', () => {
  const net = parseSumoNet(SMALL_NET, 'small.net.xml');
  assert.equal(net.source, 'small.net.xml');
  assert.deepEqual(
    net.edges.map((e) => e.id),
    ['WC', 'SC', 'CE', 'CN'],
  );
  const sc = net.edges[1]!;
  assert.deepEqual({ from: sc.from, to: sc.to, priority: sc.priority }, { from: 'S', to: 'C', priority: 1 });
  assert.deepEqual(sc.lanes[0], {
    id: 'SC_0',
    index: 0,
    length: 95,
    speed: 13.89,
    shape: [100, 0, 100, 95],
    disallow: ['bicycle', 'pedestrian'],
  });
  assert.deepEqual(net.edges[3]!.lanes[0]!.allow, ['passenger', 'bus']);
  assert.equal(net.edges[0]!.lanes[0]!.allow, undefined);
  // internal junction ":C_3_0" is not a junction of the spec
  assert.deepEqual(
    net.junctions.map((j) => `${j.id}:${j.type}`),
    ['W:dead_end', 'S:dead_end', 'E:dead_end', 'N:dead_end', 'C:traffic_light'],
  );
  const w = net.junctions[0]!;
  assert.deepEqual({ x: w.x, y: w.y, yieldsTo: w.yieldsTo, foes: w.foes }, { x: 0, y: 100, yieldsTo: [], foes: [] });
});

test('request bit strings: link 0 is the rightmost character', () => {
  const c = parseSumoNet(SMALL_NET, 'small.net.xml').junctions.find((j) => j.id === 'C')!;
  assert.deepEqual(c.yieldsTo, [[], [2], [0]]);
  assert.deepEqual(c.foes, [[2], [2], [0, 1]]);
  assert.deepEqual(c.shape, [95, 95, 105, 95, 105, 105, 95, 105]);
});

test('links: request index from intLanes, via chains flattened, tl and cont', () => {
  const net = parseSumoNet(SMALL_NET, 'small.net.xml');
  // one link per normal->normal connection, in file order; the walking-area connection is skipped
  assert.equal(net.links.length, 3);
  const [straight, left, south] = net.links;
  assert.deepEqual(straight, {
    junction: 'C',
    index: 0,
    fromLane: 'WC_0',
    toLane: 'CE_0',
    viaLength: 10,
    viaSpeed: 13,
    viaShape: [95, 100, 105, 100],
    dir: 's',
    tl: { id: 'C', linkIndex: 0 },
    cont: false,
  });
  // :C_1_0 (4 m, 8 m/s) then :C_3_0 (6 m, 7 m/s); the shared point 98,101 appears once; a left-turner
  // waits at the internal junction, 4 m in (the end of :C_1_0)
  assert.deepEqual(left, {
    junction: 'C',
    index: 1,
    fromLane: 'WC_0',
    toLane: 'CN_0',
    viaLength: 10,
    viaSpeed: 7,
    viaShape: [95, 100, 98, 101, 100, 105],
    dir: 'l',
    tl: { id: 'C', linkIndex: 1 },
    cont: true,
    contPos: 4,
  });
  assert.equal(south!.index, 2);
  assert.equal(south!.fromLane, 'SC_0');
  assert.equal(south!.cont, false);
});

test('traffic light programs', () => {
  const net = parseSumoNet(SMALL_NET, 'small.net.xml');
  assert.deepEqual(net.tlLogics, [
    {
      id: 'C',
      programID: '0',
      offset: 5,
      phases: [
        { duration: 30, state: 'GgG' },
        { duration: 3, state: 'yyy' },
        { duration: 20.5, state: 'rrr' },
      ],
    },
  ]);
});

test('without internal lanes the request index follows incLanes order, then file order', () => {
  const net = parseSumoNet(NO_INTERNAL_NET, 'noint.net.xml');
  assert.deepEqual(
    net.links.map((l) => `${l.fromLane}>${l.toLane}:${l.index}:${l.viaLength}`),
    ['WC_0>CE_0:1:0', 'WC_0>CN_0:2:0', 'SC_0>CN_0:0:0'],
  );
  assert.equal(net.links[0]!.viaSpeed, 13.89); // the target lane's limit
  assert.deepEqual(net.links[0]!.viaShape, []);
  assert.equal(net.links[0]!.tl, undefined);
});

test('a connection to an unknown lane or edge is an error naming file, line and id', () => {
  const badLane = SMALL_NET.replace(
    '<connection from="SC" to="CN" fromLane="0" toLane="0"',
    '<connection from="SC" to="CN" fromLane="0" toLane="3"',
  );
  const e = inputError(
    () => parseSumoNet(badLane, 'bad.net.xml'),
    /^bad\.net\.xml:\d+: <connection from="SC" to="CN" fromLane="0" toLane="3">: unknown lane "CN_3"$/,
  );
  assert.equal(e.line, badLane.split('\n').findIndex((l) => l.includes('toLane="3"')) + 1);
  inputError(
    () => parseSumoNet(SMALL_NET.replace('from="SC" to="CN"', 'from="XX" to="CN"'), 'bad.net.xml'),
    /unknown edge "XX"/,
  );
  inputError(
    () => parseSumoNet(SMALL_NET.replace('via=":C_2_0"', 'via=":C_9_0"'), 'bad.net.xml'),
    /unknown internal lane ":C_9_0"/,
  );
  inputError(
    () => parseSumoNet(SMALL_NET.replace('tl="C" linkIndex="2"', 'tl="Q" linkIndex="2"'), 'bad.net.xml'),
    /unknown traffic light "Q"/,
  );
  inputError(
    () => parseSumoNet(SMALL_NET.replace('tl="C" linkIndex="2"', 'tl="C" linkIndex="7"'), 'bad.net.xml'),
    /linkIndex 7 is outside traffic light "C"/,
  );
  inputError(
    () => parseSumoNet(SMALL_NET.replace(':C_3_0 :C_2_0"', ':C_2_0"'), 'bad.net.xml'),
    /none of its internal lanes \(:C_1_0 :C_3_0\) is in intLanes of junction "C"/,
  );
});

test('bad numbers, bits and references in the net are errors naming the element and attribute', () => {
  inputError(
    () =>
      parseSumoNet(
        SMALL_NET.replace('speed="13.89" length="95.00" shape="0,100', 'speed="fast" length="95.00" shape="0,100'),
        'bad.net.xml',
      ),
    /^bad\.net\.xml:\d+: <lane id="WC_0">: attribute speed="fast" is not a number$/,
  );
  inputError(
    () => parseSumoNet(SMALL_NET.replace('shape="0,100 95,100"', 'shape="0,100 95"'), 'bad.net.xml'),
    /<lane id="WC_0">: attribute shape has a bad point "95"/,
  );
  inputError(
    () => parseSumoNet(SMALL_NET.replace('response="001"', 'response="01"'), 'bad.net.xml'),
    /<request>: response has 2 bits, expected 3/,
  );
  inputError(() => parseSumoNet(SMALL_NET.replace('response="001"', 'response="0x1"'), 'bad.net.xml'), /only 0 and 1/);
  inputError(
    () => parseSumoNet(SMALL_NET.replace('from="S" to="C"', 'from="Z" to="C"'), 'bad.net.xml'),
    /<edge id="SC">: unknown junction "Z"/,
  );
  inputError(() => parseSumoNet('<routes/>', 'r.xml'), /^r\.xml:1: expected a SUMO network \(<net>\), found <routes>$/);
  inputError(() => parseSumoNet(SMALL_NET.slice(0, 2000), 'cut.net.xml'), /^cut\.net\.xml:\d+: unexpected end of file/);
});

test('actuated programs: minDur/maxDur/next/params read; bad values name file and line; other types warn once', () => {
  const actuated = SMALL_NET.replace(
    /<tlLogic id="C" type="static" programID="0" offset="5">[\s\S]*?<\/tlLogic>/,
    `<tlLogic id="C" type="actuated" programID="0" offset="0">
        <param key="max-gap" value="2.5"/>
        <phase duration="30" state="GgG" minDur="5" maxDur="40" name="main"/>
        <phase duration="3"  state="yyy" next="2"/>
        <phase duration="20.5" state="rrr"/>
    </tlLogic>`,
  );
  const net = parseSumoNet(actuated, 'a.net.xml');
  const tl = net.tlLogics[0]!;
  assert.equal(tl.type, 'actuated');
  assert.deepEqual(tl.params, { 'max-gap': '2.5' });
  assert.deepEqual(tl.phases[0], { duration: 30, state: 'GgG', minDur: 5, maxDur: 40, name: 'main' });
  assert.deepEqual(tl.phases[1]!.next, [2]);
  const bad = (text: string, re: RegExp) =>
    assert.throws(
      () => parseSumoNet(text, 'b.net.xml'),
      (e: unknown) => e instanceof InputError && re.test(e.message) && /b\.net\.xml:\d+/.test(e.message),
    );
  bad(actuated.replace('minDur="5" maxDur="40"', 'minDur="50" maxDur="40"'), /minDur 50 is greater than maxDur 40/);
  bad(actuated.replace('value="2.5"', 'value="fast"'), /param "max-gap"/);
  bad(actuated.replace('next="2"', 'next="7"'), /next phase 7/);
  const nema = parseSumoNet(SMALL_NET.replace('type="static"', 'type="NEMA"') + '', 'n.net.xml');
  assert.equal(nema.tlLogics[0]!.type, undefined);
  assert.equal(nema.warnings?.length, 1);
  assert.match(nema.warnings![0]!, /^n\.net\.xml:\d+: .*type "NEMA" is not modelled/);
});
