import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../errors.js';
import type { LinkSpec, ScenarioSpec } from '../spec.js';
import { DEFAULT_VTYPE, FIELDS } from './format.js';
import { loadJsonScenario, parseJsonScenario } from './scenario.js';

// dist/src/io/json/ → project root
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const examples = ['crossroads', 'corridor', 'merge'];

const parse = (doc: unknown, name = 'x.json'): ScenarioSpec => parseJsonScenario(JSON.stringify(doc, null, 2), name);
const linksAt = (s: ScenarioSpec, junction: string): LinkSpec[] => s.net.links.filter((l) => l.junction === junction);
const junction = (s: ScenarioSpec, id: string) => s.net.junctions.find((j) => j.id === id)!;

/** Two-way roads as `reverse` edges; nodes as [id, x, y, type?]. */
function net(
  nodes: [string, number, number, string?][],
  edges: [string, string, string, object?][],
): { nodes: object[]; edges: object[] } {
  return {
    nodes: nodes.map(([id, x, y, type]) => ({ id, x, y, ...(type ? { type } : {}) })),
    edges: edges.map(([from, to, rev, extra]) => ({ id: from + to, from, to, reverse: rev, ...extra })),
  };
}

/** Structural invariants every derived network must keep. */
function checkInvariants(s: ScenarioSpec): void {
  const lanes = new Map(s.net.edges.flatMap((e) => e.lanes.map((l) => [l.id, l] as const)));
  for (const l of lanes.values()) {
    assert.ok(l.length > 0, `${l.id} length`);
    assert.ok(l.shape.length >= 4 && l.shape.length % 2 === 0, `${l.id} shape`);
  }
  for (const j of s.net.junctions) {
    const links = linksAt(s, j.id);
    assert.deepEqual(
      links.map((l) => l.index),
      links.map((_, i) => i),
      `${j.id}: indices 0..n-1 in order`,
    );
    assert.equal(j.foes.length, links.length);
    assert.equal(j.yieldsTo.length, links.length);
    j.foes.forEach((fs, i) => {
      for (const f of fs) assert.ok(j.foes[f]!.includes(i), `${j.id}: foes symmetric ${i}/${f}`);
      for (const y of j.yieldsTo[i]!) {
        assert.ok(fs.includes(y), `${j.id}: ${i} yields to ${y}, a foe`);
        assert.ok(!j.yieldsTo[y]!.includes(i), `${j.id}: ${i} and ${y} yield to each other`);
      }
    });
    // acyclic: repeatedly remove links that yield to nobody left
    const left = new Set(links.map((l) => l.index));
    while (left.size) {
      const free = [...left].filter((i) => !j.yieldsTo[i]!.some((y) => left.has(y)));
      assert.ok(free.length > 0, `${j.id}: yieldsTo has a cycle`);
      for (const i of free) left.delete(i);
    }
    for (const l of links) {
      assert.ok(lanes.has(l.fromLane) && lanes.has(l.toLane), `${l.fromLane}->${l.toLane} lanes exist`);
      assert.ok(l.viaLength >= 1 && l.viaSpeed > 0 && l.viaShape.length >= 4);
    }
  }
  for (const tl of s.net.tlLogics) {
    const n = linksAt(s, tl.id).length;
    for (const p of tl.phases) assert.equal(p.state.length, n, `${tl.id}: one signal per link`);
    assert.ok(linksAt(s, tl.id).every((l) => l.tl?.id === tl.id && l.tl.linkIndex === l.index));
  }
}

for (const name of examples) {
  test(`example ${name}.json loads and keeps the invariants`, () => {
    const s = loadJsonScenario(`${root}examples/${name}.json`);
    assert.ok(s.net.edges.length > 0 && s.net.links.length > 0);
    assert.ok(s.demand.flows.length > 0);
    assert.deepEqual(s.demand.warnings, []);
    checkInvariants(s);
  });
}

test('crossroads example: generated signal program and demand', () => {
  const s = loadJsonScenario(`${root}examples/crossroads.json`);
  assert.equal(s.stepLength, 0.5);
  assert.equal(s.end, 600);
  assert.equal(s.seed, 42);
  assert.equal(s.net.tlLogics.length, 1);
  const tl = s.net.tlLogics[0]!;
  assert.deepEqual(
    tl.phases.map((p) => p.duration),
    [31, 3, 31, 3],
  );
  assert.equal(linksAt(s, 'C').length, 16);
  // The 12 flows cover every movement, each flow's route is two linked edges.
  assert.equal(s.demand.flows.length, 12);
  assert.deepEqual(s.demand.flows[0]!.departLane, { kind: 'best' });
});

test('tiny 3-node road: lane lengths, shapes, links', () => {
  const s = parse(
    net(
      [
        ['A', 0, 0],
        ['B', 100, 0],
        ['C', 200, 0],
      ],
      [
        ['A', 'B', 'BA'],
        ['B', 'C', 'CB'],
      ],
    ),
  );
  const ab = s.net.edges.find((e) => e.id === 'AB')!;
  // A is a road end (radius 0), B joins two roads: radius max(4, 1 lane × 3.2 m) = 4 m.
  assert.equal(ab.lanes[0]!.length, 96);
  assert.deepEqual(ab.lanes[0]!.shape, [0, -1.6, 96, -1.6]);
  assert.equal(ab.lanes[0]!.id, 'AB_0');
  // B: straight on in both directions, no U-turns.
  const b = linksAt(s, 'B');
  assert.deepEqual(
    b.map((l) => `${l.fromLane}>${l.toLane}:${l.dir}`),
    ['CB_0>BA_0:s', 'AB_0>BC_0:s'],
  );
  assert.equal(b[0]!.viaLength, 8);
  assert.equal(junction(s, 'B').type, 'priority');
  assert.deepEqual(junction(s, 'B').foes, [[], []]);
  // A: the end of a two-way road turns vehicles around.
  const a = linksAt(s, 'A');
  assert.deepEqual(
    a.map((l) => `${l.fromLane}>${l.toLane}:${l.dir}`),
    ['BA_0>AB_0:t'],
  );
  assert.ok(Math.abs(a[0]!.viaLength - Math.PI * 1.6) < 0.05, `half circle, got ${a[0]!.viaLength}`);
  assert.equal(a[0]!.viaSpeed, 5);
  checkInvariants(s);
  // "uturns": true adds the two U-turns at B.
  const withU = parse({
    ...net(
      [
        ['A', 0, 0],
        ['B', 100, 0],
        ['C', 200, 0],
      ],
      [
        ['A', 'B', 'BA'],
        ['B', 'C', 'CB'],
      ],
    ),
    uturns: true,
  });
  assert.equal(linksAt(withU, 'B').length, 4);
  // length override and shape
  const o = parse({
    nodes: [
      { id: 'A', x: 0, y: 0 },
      { id: 'B', x: 100, y: 0 },
    ],
    edges: [
      {
        id: 'e',
        from: 'A',
        to: 'B',
        length: 250,
        shape: [
          [0, 0],
          [50, 50],
          [100, 0],
        ],
      },
    ],
  });
  assert.equal(o.net.edges[0]!.lanes[0]!.length, 250);
  assert.equal(o.net.edges[0]!.lanes[0]!.shape.length, 6);
  assert.equal(junction(o, 'B').type, 'dead_end');
});

test('T-junction: directions, lanes, foes and right of way', () => {
  const doc = net(
    [
      ['W', -100, 0],
      ['B', 0, 0],
      ['E', 100, 0],
      ['S', 0, -100],
    ],
    [
      ['W', 'B', 'BW', { lanes: 2, priority: 2 }],
      ['B', 'E', 'EB', { lanes: 2, priority: 2 }],
      ['S', 'B', 'BS', { priority: 1 }],
    ],
  );
  const s = parse(doc);
  // radius at B: 2 lanes × 3.2 = 6.4 m
  assert.equal(s.net.edges.find((e) => e.id === 'WB')!.lanes[0]!.length, 93.6);
  // lane 0 is the rightmost, farthest from the axis
  assert.deepEqual(s.net.edges.find((e) => e.id === 'WB')!.lanes[0]!.shape, [-100, -4.8, -6.4, -4.8]);
  const got = linksAt(s, 'B').map((l) => `${l.fromLane}>${l.toLane}:${l.dir}`);
  // order: incoming clockwise from north (EB from the east, SB, WB), then lane, then right to left
  assert.deepEqual(got, [
    'EB_0>BW_0:s',
    'EB_1>BW_1:s',
    'EB_1>BS_0:l',
    'SB_0>BE_0:r',
    'SB_0>BW_1:l',
    'WB_0>BS_0:r',
    'WB_0>BE_0:s',
    'WB_1>BE_1:s',
  ]);
  const j = junction(s, 'B');
  const idx = (k: string): number => got.indexOf(k);
  const sideLeft = idx('SB_0>BW_1:l');
  // the side road's left turn crosses both eastbound lanes, merges with the westbound lane 1 and yields
  // to all of them; it does not meet westbound lane 0, which it joins beside
  assert.ok(!j.foes[sideLeft]!.includes(idx('EB_0>BW_0:s')));
  for (const k of ['EB_1>BW_1:s', 'WB_0>BE_0:s', 'WB_1>BE_1:s']) {
    assert.ok(j.foes[sideLeft]!.includes(idx(k)), `foe ${k}`);
    assert.ok(j.yieldsTo[sideLeft]!.includes(idx(k)), `yields to ${k}`);
  }
  // main-road left turn yields to the oncoming straight and to the right turn into the same lane
  const mainLeft = idx('EB_1>BS_0:l');
  assert.ok(j.yieldsTo[mainLeft]!.includes(idx('WB_1>BE_1:s')));
  assert.ok(j.yieldsTo[mainLeft]!.includes(idx('WB_0>BS_0:r')));
  // main-road straight movements yield to nobody
  assert.deepEqual(j.yieldsTo[idx('WB_0>BE_0:s')], []);
  // turn speeds
  assert.equal(linksAt(s, 'B')[sideLeft]!.viaSpeed, 8);
  assert.equal(linksAt(s, 'B')[idx('WB_0>BE_0:s')]!.viaSpeed, 13.89);
  checkInvariants(s);
});

test('explicit connections replace the automatic links of their incoming edge', () => {
  const doc = net(
    [
      ['A', 0, 0],
      ['B', 100, 0],
      ['C', 200, 0],
    ],
    [
      ['A', 'B', 'BA', { lanes: 2 }],
      ['B', 'C', 'CB', { lanes: 2 }],
    ],
  );
  (doc.nodes[1] as Record<string, unknown>).connections = [
    { from: 'AB', fromLane: 0, to: 'BC', toLane: 0 },
    { from: 'AB', fromLane: 1, to: 'BC', toLane: 0 },
  ];
  const s = parse(doc);
  const b = linksAt(s, 'B');
  assert.deepEqual(
    b.map((l) => `${l.fromLane}>${l.toLane}`),
    ['CB_0>BA_0', 'CB_1>BA_1', 'AB_0>BC_0', 'AB_1>BC_0'],
  );
  // merging into one lane: foes; at equal rank the lower lane index yields
  assert.deepEqual(junction(s, 'B').foes, [[], [], [3], [2]]);
  assert.deepEqual(junction(s, 'B').yieldsTo, [[], [], [3], []]);
});

const crossDoc = (tl?: object) => ({
  ...net(
    [
      ['C', 0, 0, 'traffic_light'],
      ['N', 0, 100],
      ['E', 100, 0],
      ['S', 0, -100],
      ['W', -100, 0],
    ],
    [
      ['N', 'C', 'CN'],
      ['E', 'C', 'CE'],
      ['S', 'C', 'CS'],
      ['W', 'C', 'CW'],
    ],
  ),
  ...(tl ? { trafficLights: [tl] } : {}),
});

test('traffic light: generated two-phase program', () => {
  const s = parse(crossDoc());
  const tl = s.net.tlLogics[0]!;
  assert.equal(tl.id, 'C');
  assert.equal(tl.programID, '0');
  const links = linksAt(s, 'C');
  assert.equal(links.length, 12);
  assert.deepEqual(links.map((l) => l.dir).join(''), 'rslrslrslrsl');
  // approaches in node order N, E, S, W: N/S are one group, E/W the other; left turns are permissive
  assert.deepEqual(tl.phases, [
    { duration: 31, state: 'GGgrrrGGgrrr' },
    { duration: 3, state: 'yyyrrryyyrrr' },
    { duration: 31, state: 'rrrGGgrrrGGg' },
    { duration: 3, state: 'rrryyyrrryyy' },
  ]);
  assert.deepEqual(links[5]!.tl, { id: 'C', linkIndex: 5 });
  assert.equal(junction(s, 'C').type, 'traffic_light');
  // green/yellow times of the generated program can be set
  const t = parse(crossDoc({ node: 'C', green: 20, yellow: 4, offset: 5 })).net.tlLogics[0]!;
  assert.deepEqual(
    t.phases.map((p) => p.duration),
    [20, 4, 20, 4],
  );
  assert.equal(t.offset, 5);
});

test('traffic light: a given program is used as written', () => {
  const phases = [
    { duration: 40, state: 'GGGrrrGGGrrr' },
    { duration: 40, state: 'rrrGGGrrrGGG' },
  ];
  const s = parse(crossDoc({ node: 'C', programID: 'p', phases }));
  assert.deepEqual(s.net.tlLogics[0]!.phases, phases);
  assert.equal(s.net.tlLogics[0]!.programID, 'p');
});

test('demand: defaults, keywords, trips and inline routes', () => {
  const s = parse({
    ...net(
      [
        ['A', 0, 0],
        ['B', 100, 0],
        ['C', 200, 0],
      ],
      [
        ['A', 'B', 'BA'],
        ['B', 'C', 'CB'],
      ],
    ),
    time: { end: 100 },
    vTypes: [{ id: 'slow', maxSpeed: 10 }],
    routes: [{ id: 'r', edges: ['AB', 'BC'] }],
    vehicles: [
      { id: 'v0', depart: 0, route: 'r' },
      {
        id: 'v1',
        type: 'slow',
        depart: 1,
        route: ['CB', 'BA'],
        departLane: 0,
        departSpeed: 'max',
        departPos: 'free',
        arrivalPos: 50,
      },
      { id: 'v2', depart: 2, from: 'AB', to: 'BA' },
    ],
    flows: [{ id: 'f', from: 'AB', to: 'BC', via: ['BC'], period: 10 }],
  });
  assert.equal(s.seed, 23423);
  assert.equal(s.stepLength, 1);
  assert.equal(s.timeToTeleport, 300);
  assert.deepEqual(
    s.demand.vTypes.map((t) => t.id),
    ['slow', 'DEFAULT_VEHTYPE'],
  );
  assert.deepEqual(s.demand.vTypes[0], { ...DEFAULT_VTYPE, id: 'slow', maxSpeed: 10 });
  const [v0, v1, v2] = s.demand.vehicles;
  assert.deepEqual(v0, {
    id: 'v0',
    type: 'DEFAULT_VEHTYPE',
    depart: 0,
    route: ['AB', 'BC'],
    departLane: { kind: 'first' },
    departSpeed: { kind: 'value', speed: 0 },
    departPos: { kind: 'base' },
    arrivalPos: { kind: 'max' },
  });
  assert.deepEqual(v1!.departLane, { kind: 'index', index: 0 });
  assert.deepEqual(v1!.departSpeed, { kind: 'max' });
  assert.deepEqual(v1!.departPos, { kind: 'free' });
  assert.deepEqual(v1!.arrivalPos, { kind: 'value', pos: 50 });
  assert.equal(v2!.route, undefined);
  assert.equal(v2!.from, 'AB');
  assert.equal(v2!.to, 'BA');
  const f = s.demand.flows[0]!;
  assert.equal(f.begin, 0);
  assert.equal(f.end, 100); // the scenario's end
  assert.equal(f.period, 10);
  assert.deepEqual(f.via, ['BC']);
  assert.equal(f.route, undefined);
});

/** Asserts that `fn` throws an InputError whose message contains every fragment. */
function throwsInput(fn: () => unknown, ...fragments: string[]): InputError {
  let err: unknown;
  try {
    fn();
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof InputError, `expected an InputError, got ${String(err)}`);
  for (const f of fragments) assert.ok(err.message.includes(f), `"${err.message}" should contain "${f}"`);
  return err;
}

test('errors: malformed JSON names file, line and column', () => {
  const e = throwsInput(
    () => parseJsonScenario('{\n  "nodes": [\n    { "id": "A", }\n  ]\n}', 'bad.json'),
    'bad.json:3:18:',
    'trailing comma',
  );
  assert.equal(e.line, 3);
  assert.equal(e.column, 18);
  throwsInput(() => parseJsonScenario('{"nodes": [1 2]}', 'b.json'), 'b.json:1:14:');
  throwsInput(() => parseJsonScenario('{"a": 1', 'c.json'), 'c.json:1:8:', 'end of file');
  throwsInput(() => parseJsonScenario('{"a": 1, "a": 2}', 'd.json'), 'd.json:1:10:', 'duplicate key "a"');
  throwsInput(() => parseJsonScenario('// hi\n{}', 'e.json'), 'e.json:1:1:', 'no comments');
});

test('errors: a missing file', () => {
  const e = throwsInput(() => loadJsonScenario('no/such/file.json'), 'no/such/file.json: file not found');
  assert.equal(e.file, 'no/such/file.json');
});

const small = () => ({
  nodes: [
    { id: 'A', x: 0, y: 0 },
    { id: 'B', x: 100, y: 0 },
    { id: 'C', x: 200, y: 0 },
  ],
  edges: [
    { id: 'AB', from: 'A', to: 'B', reverse: 'BA' },
    { id: 'BC', from: 'B', to: 'C' },
  ],
  vTypes: [{ id: 'car' }],
  routes: [{ id: 'r', edges: ['AB', 'BC'] }],
  vehicles: [{ id: 'v', type: 'car', depart: 0, route: 'r' }],
  flows: [{ id: 'f', from: 'AB', to: 'BC', vehsPerHour: 100 }],
});
type Small = ReturnType<typeof small> & Record<string, unknown>;

/** Applies `edit` to a valid document and expects an InputError naming x.json, the line and `fragments`. */
function rejects(edit: (d: Small) => void, ...fragments: string[]): void {
  const d = small() as Small;
  edit(d);
  const e = throwsInput(() => parse(d), 'x.json:', ...fragments);
  assert.ok(e.line !== undefined && e.column !== undefined, `line and column in "${e.message}"`);
}

test('errors: schema violations name the JSON path', () => {
  parse(small()); // the base document is valid
  rejects((d) => delete (d.edges[1] as Record<string, unknown>).to, 'edges[1]: missing required field "to"');
  rejects((d) => ((d.nodes[0] as Record<string, unknown>).x = '0'), 'nodes[0].x: must be a number, not the string "0"');
  rejects((d) => ((d.edges[0] as Record<string, unknown>).length = -5), 'edges[0].length: must be > 0');
  rejects((d) => ((d.edges[0] as Record<string, unknown>).speed = -1), 'edges[0].speed: must be > 0');
  rejects((d) => ((d.edges[0] as Record<string, unknown>).lanes = 1.5), 'edges[0].lanes: must be an integer');
  rejects((d) => (d.time = { stepLength: -0.5 }), 'time.stepLength: must be > 0');
  rejects((d) => (d.time = { begin: 10, end: 5 }), 'time.end: must be > 10');
  rejects(
    (d) => ((d.nodes[2] as Record<string, unknown>).id = 'A'),
    'nodes[2].id: duplicate node id "A" (first defined at nodes[0].id)',
  );
  rejects(
    (d) => ((d.edges[1] as Record<string, unknown>).id = 'BA'),
    'edges[1].id: duplicate edge id "BA" (first defined at edges[0].reverse)',
  );
  rejects(
    (d) => d.flows.push({ id: 'v', from: 'AB', to: 'BC', vehsPerHour: 1 }),
    'flows[1].id: duplicate vehicle/flow id "v"',
  );
  rejects((d) => ((d.edges[0] as Record<string, unknown>).sped = 3), 'edges[0].sped: unknown field');
  rejects((d) => ((d.nodes[0] as Record<string, unknown>).type = 'roundabout'), 'nodes[0].type: must be one of');
  rejects((d) => ((d.flows[0] as Record<string, unknown>).period = 3), 'flows[0].vehsPerHour: needs exactly one of');
  rejects(
    (d) => ((d.vehicles[0] as Record<string, unknown>).departLane = 'left'),
    'vehicles[0].departLane: must be a number or one of',
  );
  rejects((d) => (d.nodes = []), 'nodes: at least one node');
  rejects((d) => ((d.vTypes[0] as Record<string, unknown>).sigma = 2), 'vTypes[0].sigma: must be <= 1');
});

test('errors: unknown references name the JSON path', () => {
  rejects((d) => ((d.edges[1] as Record<string, unknown>).to = 'Q'), 'edges[1].to: unknown node "Q"');
  rejects((d) => (d.routes[0]!.edges = ['AB', 'XX']), 'routes[0].edges[1]: unknown edge "XX"');
  rejects((d) => ((d.flows[0] as Record<string, unknown>).to = 'XX'), 'flows[0].to: unknown edge "XX"');
  rejects(
    (d) => ((d.vehicles[0] as Record<string, unknown>).route = 'nope'),
    'vehicles[0].route: unknown route "nope"',
  );
  rejects(
    (d) => ((d.vehicles[0] as Record<string, unknown>).route = ['AB', 'ZZ']),
    'vehicles[0].route[1]: unknown edge "ZZ"',
  );
  rejects((d) => ((d.vehicles[0] as Record<string, unknown>).type = 'bus'), 'vehicles[0].type: unknown vType "bus"');
  rejects((d) => (d.trafficLights = [{ node: 'B' }]), 'trafficLights[0].node: node "B" is not of type "traffic_light"');
  const conn = (c: object) => (d: Small) => ((d.nodes[1] as Record<string, unknown>).connections = [c]);
  rejects(
    conn({ from: 'BC', to: 'BA', fromLane: 0, toLane: 0 }),
    'nodes[1].connections[0].from: edge "BC" does not end at node "B"',
  );
  rejects(
    conn({ from: 'AB', to: 'BC', fromLane: 1, toLane: 0 }),
    'nodes[1].connections[0].fromLane: edge "AB" has only 1 lane',
  );
  rejects(conn({ from: 'AB', to: 'BC', fromLane: 0 }), 'nodes[1].connections[0]: missing required field "toLane"');
});

test('errors: routes must be drivable', () => {
  rejects((d) => (d.routes[0]!.edges = ['BC', 'AB']), 'routes[0].edges[1]: no connection from edge "BC" to edge "AB"');
  rejects(
    (d) => Object.assign(d.flows[0]!, { from: 'BC', to: 'AB' }),
    'flows[0].to: edge "AB" cannot be reached from edge "BC"',
  );
  rejects(
    (d) => ((d.vehicles[0] as Record<string, unknown>).departLane = 1),
    'vehicles[0].departLane: edge "AB" has only 1 lane',
  );
});

test('errors: traffic light programs and geometry', () => {
  const withTl = (phases: object[]) => () => parse(crossDoc({ node: 'C', phases }), 'x.json');
  throwsInput(
    withTl([{ duration: 30, state: 'GGG' }]),
    'x.json:',
    'trafficLights[0].phases[0].state: has 3 signals, but node "C" has 12 links',
  );
  throwsInput(withTl([{ duration: 30, state: 'GGGrrrGGGrrX' }]), 'trafficLights[0].phases[0].state: may only contain');
  throwsInput(withTl([{ duration: 0, state: 'GGGrrrGGGrrr' }]), 'trafficLights[0].phases[0].duration: must be > 0');
  throwsInput(
    () =>
      parse({
        nodes: [
          { id: 'A', x: 0, y: 0 },
          { id: 'B', x: 5, y: 0 },
          { id: 'C', x: 5, y: 5 },
        ],
        edges: [
          { id: 'AB', from: 'A', to: 'B' },
          { id: 'BC', from: 'B', to: 'C' },
          { id: 'CA', from: 'C', to: 'A' },
        ],
      }),
    'edges[0]: edge "AB" is 5.0 m long, too short',
  );
});

test('comments: "//" keys and comment-only array elements are ignored', () => {
  const d = small() as Small;
  d['//'] = 'top-level note';
  (d.edges as object[]).unshift({ '//': 'a comment between edges' });
  (d.nodes[0] as Record<string, unknown>)['// why'] = 'explains A';
  const s = parse(d);
  assert.equal(s.net.edges.length, 3);
  // paths keep the element's real index
  const bad = small() as Small;
  (bad.edges as object[]).unshift({ '//': 'c' });
  (bad.edges[2] as Record<string, unknown>).to = 'Q';
  throwsInput(() => parse(bad), 'edges[2].to: unknown node "Q"');
});

test('schema: documents exactly the fields the loader reads', () => {
  const schema = JSON.parse(readFileSync(`${root}schema/scenario.schema.json`, 'utf8')) as {
    properties: Record<string, unknown>;
    $defs: Record<string, { properties?: Record<string, unknown> }>;
  };
  const keys = (o: Record<string, unknown> | undefined): string[] => Object.keys(o ?? {}).sort();
  assert.deepEqual(keys(schema.properties), [...FIELDS.root].sort());
  for (const [name, fields] of Object.entries(FIELDS)) {
    if (name === 'root') continue;
    assert.deepEqual(keys(schema.$defs[name]?.properties), [...fields].sort(), `$defs.${name}`);
  }
});
