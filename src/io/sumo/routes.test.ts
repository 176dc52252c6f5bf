import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InputError } from '../../errors.js';
import { parseSumoNet } from './net.js';
import { loadSumoRoutes, parseSumoRoutes, SUMO_PASSENGER_DEFAULTS } from './routes.js';
import type { StopSpec, VehicleSpec } from '../spec.js';
import { SMALL_NET } from './testing.js';

const net = parseSumoNet(SMALL_NET, 'small.net.xml');

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

const routes = (body: string): string => `<?xml version="1.0"?>\n<routes>\n${body}\n</routes>\n`;

test('vTypes: SUMO names, passenger defaults, speedFactor distributions', () => {
  const d = parseSumoRoutes(
    routes(`
    <vType id="car" accel="3" decel="5" emergencyDecel="8" tau="1.2" minGap="2" length="4.5" maxSpeed="30"
           speedFactor="normc(1.1,0.1,0.2,2)" sigma="0" vClass="taxi" delta="3" stepping="0.1"
           lcStrategic="0.5" lcCooperative="0.9" lcSpeedGain="2" lcKeepRight="0" carFollowModel="IDM"/>
    <vType id="plain"/>
    <vType id="krauss" carFollowModel="Krauss" speedFactor="0.9"/>`),
    'types.rou.xml',
    net,
  );
  assert.deepEqual(d.vTypes[0], {
    id: 'car',
    vClass: 'taxi',
    carFollowModel: 'IDM',
    accel: 3,
    decel: 5,
    emergencyDecel: 8,
    tau: 1.2,
    minGap: 2,
    length: 4.5,
    maxSpeed: 30,
    speedFactor: 1.1,
    speedDev: 0.1,
    speedFactorMin: 0.2,
    speedFactorMax: 2,
    sigma: 0,
    delta: 3,
    idmStepping: 0.1,
    lcStrategic: 0.5,
    lcCooperative: 0.9,
    lcSpeedGain: 2,
    lcKeepRight: 0,
  });
  assert.deepEqual(d.vTypes[1], { id: 'plain', ...SUMO_PASSENGER_DEFAULTS });
  // SUMO's DEFAULT_VEHTYPE: passenger, Krauss with sigma 0.5, speed factors normc(1, 0.1, 0.2, 2)
  assert.equal(SUMO_PASSENGER_DEFAULTS.carFollowModel, 'Krauss');
  assert.equal(SUMO_PASSENGER_DEFAULTS.accel, 2.6);
  assert.equal(SUMO_PASSENGER_DEFAULTS.sigma, 0.5);
  assert.equal(SUMO_PASSENGER_DEFAULTS.speedDev, 0.1);
  assert.equal(SUMO_PASSENGER_DEFAULTS.speedFactorMin, 0.2);
  assert.equal(SUMO_PASSENGER_DEFAULTS.speedFactorMax, 2);
  // a plain number sets the mean and keeps the class's deviation (SUMO)
  assert.equal(d.vTypes[2]!.speedFactor, 0.9);
  assert.equal(d.vTypes[2]!.speedDev, 0.1);
  assert.equal(d.vTypes[2]!.carFollowModel, 'Krauss');
  // no vehicle uses the implicit default, so it is not added
  assert.equal(d.vTypes.length, 3);
  assert.deepEqual(d.warnings, []);
});

test('vTypes: vClass defaults as SUMO 1.15 has them, overridden by attributes', () => {
  const d = parseSumoRoutes(
    routes(`
    <vType id="bus" vClass="bus"/>
    <vType id="truck" vClass="truck" decel="8"/>
    <vType id="tram" vClass="tram" length="30"/>
    <vType id="bike" vClass="bicycle" speedDev="0.2"/>`),
    'classes.rou.xml',
    net,
  );
  const [bus, truck, tram, bike] = d.vTypes;
  assert.equal(bus!.length, 12);
  assert.equal(bus!.maxSpeed, 100 / 3.6);
  assert.equal(bus!.accel, 1.2);
  assert.equal(bus!.decel, 4);
  assert.equal(bus!.emergencyDecel, 7);
  assert.equal(bus!.speedDev, 0);
  assert.equal(truck!.length, 7.1);
  assert.equal(truck!.speedDev, 0.05);
  // the default emergency deceleration is never below decel (SUMO getDefaultEmergencyDecel)
  assert.equal(truck!.decel, 8);
  assert.equal(truck!.emergencyDecel, 8);
  assert.equal(tram!.length, 30);
  assert.equal(tram!.sigma, 0);
  assert.equal(bike!.minGap, 0.5);
  assert.equal(bike!.speedDev, 0.2);
});

test('vTypes: car-following models, distributions and their errors', () => {
  const d = parseSumoRoutes(
    routes(`
    <vType id="w1" carFollowModel="W99"/>
    <vType id="w2" carFollowModel="W99"/>
    <vType id="acc"><carFollowing-ACC accel="1.5"/></vType>
    <vType id="idm"><carFollowing-IDM accel="1.1" delta="3"/></vType>
    <vType id="n1" speedFactor="norm(1.2,0.3)"/>
    <vType id="n2" speedFactor="normc(1.2,0.3,0.5)" speedDev="0.05"/>`),
    'models.rou.xml',
    net,
  );
  const [w1, w2, acc, idm, n1, n2] = d.vTypes;
  assert.equal(w1!.carFollowModel, 'Krauss');
  assert.equal(w2!.carFollowModel, 'Krauss');
  assert.equal(acc!.carFollowModel, 'Krauss');
  assert.equal(acc!.accel, 1.5);
  assert.equal(idm!.carFollowModel, 'IDM');
  assert.equal(idm!.accel, 1.1);
  assert.equal(idm!.delta, 3);
  // once per model name, with file and line
  assert.equal(d.warnings.length, 2);
  assert.match(
    d.warnings[0]!,
    /^models\.rou\.xml:4: vType "w1" \(and maybe others\): carFollowModel "W99" is not supported, Krauss is used$/,
  );
  assert.match(d.warnings[1]!, /^models\.rou\.xml:6: vType "acc" .*"ACC"/);
  assert.deepEqual(
    [n1!.speedFactor, n1!.speedDev, n1!.speedFactorMin, n1!.speedFactorMax],
    [1.2, 0.3, undefined, undefined],
  );
  assert.deepEqual(
    [n2!.speedFactor, n2!.speedDev, n2!.speedFactorMin, n2!.speedFactorMax],
    [1.2, 0.05, 0.5, undefined],
  );

  const f = 'bad.rou.xml';
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" sigma="1.5"/>`), f, net),
    /^bad\.rou\.xml:3: <vType id="car">: sigma must be in \[0, 1\], got 1\.5$/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" speedDev="-0.1"/>`), f, net),
    /^bad\.rou\.xml:3: <vType id="car">: speedDev must be >= 0, got -0\.1$/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" carFollowModel="Foo"/>`), f, net),
    /<vType id="car">: carFollowModel "Foo" is not a SUMO car-following model/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" speedFactor="normc(1,0.1,0.2,x)"/>`), f, net),
    /speedFactor="normc\(1,0\.1,0\.2,x\)" is not a number or a norm/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" speedFactor="normc(1)"/>`), f, net),
    /is not a number or a norm/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" speedFactor="normc(3,0.1,0.2,2)"/>`), f, net),
    /speedFactor: distribution mean 3 is above its upper bound 2/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" speedFactor="2.5"/>`), f, net),
    /distribution mean 2\.5 is above its upper bound 2/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" carFollowModel="IDM"><carFollowing-Krauss/></vType>`), f, net),
    /name different models/,
  );
});

test('vehicles with inline routes and route refs, trips, flows, depart attributes, defaults', () => {
  const d = parseSumoRoutes(
    routes(`
    <vType id="car" accel="3"/>
    <route id="r_left" edges="WC CN"/>
    <vehicle id="v0" depart="0.00"><route edges="WC CE"/></vehicle>
    <vehicle id="v1" type="car" depart="1.5" route="r_left" departLane="best" departSpeed="max" departPos="10" arrivalPos="-5"/>
    <trip id="t0" depart="2" from="SC" to="CN" departLane="0" departSpeed="3.5" departPos="free" arrivalPos="random"/>
    <trip id="t1" depart="3" from="WC" to="CN" via="CE"/>
    <flow id="f0" type="car" begin="0" end="100" period="2.5" route="r_left"/>
    <flow id="f1" begin="10" end="20" vehsPerHour="360" from="SC" to="CN" departSpeed="desired"/>
    <flow id="f2" end="50" probability="0.1"><route edges="WC CE"/></flow>
    <flow id="f3" begin="5" number="7" departPos="last"><route edges="SC CN"/></flow>
    <flow id="f4" begin="5" period="2" number="10" route="r_left"/>`),
    'demand.rou.xml',
    net,
  );
  assert.deepEqual(d.warnings, []);
  const dflt = {
    departLane: { kind: 'first' },
    departSpeed: { kind: 'value', speed: 0 },
    departPos: { kind: 'base' },
    arrivalPos: { kind: 'max' },
  };
  assert.deepEqual(d.vehicles, [
    { id: 'v0', type: 'DEFAULT_VEHTYPE', depart: 0, ...dflt, route: ['WC', 'CE'] },
    {
      id: 'v1',
      type: 'car',
      depart: 1.5,
      departLane: { kind: 'best' },
      departSpeed: { kind: 'max' },
      departPos: { kind: 'value', pos: 10 },
      arrivalPos: { kind: 'value', pos: -5 },
      route: ['WC', 'CN'],
    },
    {
      id: 't0',
      type: 'DEFAULT_VEHTYPE',
      depart: 2,
      departLane: { kind: 'index', index: 0 },
      departSpeed: { kind: 'value', speed: 3.5 },
      departPos: { kind: 'free' },
      arrivalPos: { kind: 'random' },
      from: 'SC',
      to: 'CN',
    },
    { id: 't1', type: 'DEFAULT_VEHTYPE', depart: 3, ...dflt, from: 'WC', to: 'CN', via: ['CE'] },
  ]);
  assert.deepEqual(d.flows, [
    { id: 'f0', type: 'car', begin: 0, end: 100, period: 2.5, ...dflt, route: ['WC', 'CN'] },
    {
      id: 'f1',
      type: 'DEFAULT_VEHTYPE',
      begin: 10,
      end: 20,
      vehsPerHour: 360,
      ...dflt,
      departSpeed: { kind: 'desired' },
      from: 'SC',
      to: 'CN',
    },
    { id: 'f2', type: 'DEFAULT_VEHTYPE', begin: 0, end: 50, probability: 0.1, ...dflt, route: ['WC', 'CE'] },
    {
      id: 'f3',
      type: 'DEFAULT_VEHTYPE',
      begin: 5,
      end: 86400,
      number: 7,
      ...dflt,
      departPos: { kind: 'last' },
      route: ['SC', 'CN'],
    },
    // number with a rate and no end: the flow ends after 10 departures
    { id: 'f4', type: 'DEFAULT_VEHTYPE', begin: 5, end: 25, period: 2, ...dflt, route: ['WC', 'CN'] },
  ]);
  // the implicit default type is added because vehicles name no type
  assert.deepEqual(
    d.vTypes.map((t) => t.id),
    ['car', 'DEFAULT_VEHTYPE'],
  );
  assert.deepEqual(d.vTypes[1], { id: 'DEFAULT_VEHTYPE', ...SUMO_PASSENGER_DEFAULTS });
});

test('a file may define DEFAULT_VEHTYPE itself', () => {
  const d = parseSumoRoutes(
    routes(`<vType id="DEFAULT_VEHTYPE" sigma="0"/><vehicle id="a" depart="0"><route edges="WC"/></vehicle>`),
    'r.xml',
    net,
  );
  assert.equal(d.vTypes.length, 1);
  assert.equal(d.vTypes[0]!.sigma, 0);
});

test('routes through unknown or unconnected edges: vehicle skipped with a warning', () => {
  const d = parseSumoRoutes(
    routes(`
    <route id="bad" edges="WC nowhere"/>
    <vehicle id="ok" depart="0"><route edges="WC CE"/></vehicle>
    <vehicle id="ghost" depart="1"><route edges="WC XY CE"/></vehicle>
    <vehicle id="jump" depart="2"><route edges="SC CE"/></vehicle>
    <flow id="fl" begin="0" end="10" period="1" route="bad"/>
    <trip id="tr" depart="3" from="WC" to="QQ"/>
    <vehicle id="ok2" depart="4"><route edges="SC CN"/></vehicle>`),
    'skip.rou.xml',
    net,
  );
  assert.deepEqual(
    d.vehicles.map((v) => v.id),
    ['ok', 'ok2'],
  );
  assert.equal(d.flows.length, 0);
  assert.equal(d.warnings.length, 4);
  assert.match(d.warnings[0]!, /^skip\.rou\.xml:\d+: vehicle "ghost" skipped: edge "XY" is not in the net$/);
  assert.match(d.warnings[1]!, /vehicle "jump" skipped: edges "SC" and "CE" are not connected/);
  assert.match(d.warnings[2]!, /flow "fl" skipped: edge "nowhere" is not in the net/);
  assert.match(d.warnings[3]!, /trip "tr" skipped: edge "QQ" is not in the net/);
});

test('several route files: definitions are shared, vehicles keep file order', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-rou-'));
  const a = join(dir, 'a.rou.xml');
  const b = join(dir, 'b.rou.xml');
  writeFileSync(a, routes(`<vType id="car"/><route id="r" edges="WC CE"/><vehicle id="a1" depart="5" route="r"/>`));
  writeFileSync(
    b,
    routes(
      `<vehicle id="b1" type="car" depart="1" route="r"/><vehicle id="b2" depart="2"><route edges="SC CN"/></vehicle>`,
    ),
  );
  const d = loadSumoRoutes([a, b], net);
  assert.deepEqual(
    d.vehicles.map((v) => v.id),
    ['a1', 'b1', 'b2'],
  );
  assert.equal(d.source, `${a},${b}`);
  inputError(() => loadSumoRoutes([a, a], net), /a\.rou\.xml:\d+: <vType id="car">: duplicate vType id/);
});

test('bad demand input is an error naming file, line, element and attribute', () => {
  const f = 'bad.rou.xml';
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" accel="abc"/>`), f, net),
    /^bad\.rou\.xml:3: <vType id="car">: attribute accel="abc" is not a number$/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vType id="car" speedFactor="uniform(1,2)"/>`), f, net),
    /<vType id="car">: attribute speedFactor="uniform\(1,2\)" is not a number or a norm/,
  );
  inputError(() => parseSumoRoutes(routes(`<vType id="car" decel="0"/>`), f, net), /decel must be > 0/);
  inputError(
    () => parseSumoRoutes(routes(`<vehicle id="v" depart="soon"><route edges="WC"/></vehicle>`), f, net),
    /<vehicle id="v">: depart="soon" is not a time in seconds/,
  );
  const trig = parseSumoRoutes(
    routes(
      `<vehicle id="v" depart="triggered"><route edges="WC"/></vehicle><vehicle id="w" depart="triggered"><route edges="WC"/></vehicle>`,
    ),
    f,
    net,
  );
  assert.equal(trig.vehicles.length, 0);
  assert.equal(trig.warnings.length, 1);
  assert.match(
    trig.warnings[0]!,
    /^bad\.rou\.xml:3: depart="triggered" .* is not modelled; such vehicles are left out/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vehicle id="v"><route edges="WC"/></vehicle>`), f, net),
    /<vehicle id="v">: missing attribute depart/,
  );
  inputError(
    () =>
      parseSumoRoutes(routes(`<vehicle id="v" depart="0" departSpeed="fast"><route edges="WC"/></vehicle>`), f, net),
    /departSpeed="fast" is not a number or one of max, desired, random, speedLimit/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vehicle id="v" depart="0" departLane="1.5"><route edges="WC"/></vehicle>`), f, net),
    /departLane must be a lane index/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<trip id="v" depart="0" from="SC" to="CN" departLane="1"/>`), f, net),
    /<trip id="v">: departLane 1 does not exist on edge "SC" \(1 lanes\)/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vehicle id="v" depart="0" type="bus"><route edges="WC"/></vehicle>`), f, net),
    /unknown vType "bus"/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vehicle id="v" depart="0" route="nope"/>`), f, net),
    /<vehicle id="v">: unknown route "nope"/,
  );
  inputError(() => parseSumoRoutes(routes(`<vehicle id="v" depart="0"/>`), f, net), /needs a route/);
  inputError(
    () =>
      parseSumoRoutes(
        routes(`<trip id="v" depart="0" from="WC" to="CE"/><trip id="v" depart="1" from="WC" to="CE"/>`),
        f,
        net,
      ),
    /duplicate trip id/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<flow id="f" begin="0" end="9"><route edges="WC"/></flow>`), f, net),
    /needs one of period, vehsPerHour, probability, number/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<flow id="f" period="1" vehsPerHour="3"><route edges="WC"/></flow>`), f, net),
    /only one of period, vehsPerHour, probability/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<flow id="f" begin="9" end="1" period="1"><route edges="WC"/></flow>`), f, net),
    /end \(1\) is before begin \(9\)/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<flow id="f" probability="1.5"><route edges="WC"/></flow>`), f, net),
    /probability must be in \(0, 1\]/,
  );
  inputError(() => parseSumoRoutes('<net/>', f, net), /^bad\.rou\.xml:1: expected SUMO routes/);
  inputError(
    () => parseSumoRoutes('<routes>\n<vehicle id="v" depart="0">\n<route edges="WC"/>\n', f, net),
    /^bad\.rou\.xml:\d+: unexpected end of file/,
  );
  inputError(() => loadSumoRoutes(['/nonexistent/x.rou.xml'], net), /^\/nonexistent\/x\.rou\.xml: file not found$/);
});

test('every depart and arrival value SUMO 1.15 accepts', () => {
  const d = parseSumoRoutes(
    routes(`
    <vehicle id="a" depart="0" departPos="random_free" departSpeed="last" arrivalLane="1" arrivalSpeed="4.5"><route edges="WC CE"/></vehicle>
    <vehicle id="b" depart="1" departPos="stop" departSpeed="avg" arrivalLane="current" arrivalSpeed="current" arrivalPos="middle"><route edges="WC CE"/></vehicle>
    <vehicle id="c" depart="2" departPos="-20" departLane="allowed" arrivalLane="random"><route edges="WC CE"/></vehicle>`),
    'd.rou.xml',
    net,
  );
  const [a, b, c] = d.vehicles as [VehicleSpec, VehicleSpec, VehicleSpec];
  assert.deepEqual(
    [a.departPos, a.departSpeed, a.arrivalLane, a.arrivalSpeed],
    [{ kind: 'random_free' }, { kind: 'last' }, { kind: 'index', index: 1 }, { kind: 'value', speed: 4.5 }],
  );
  assert.deepEqual(
    [b.departPos, b.departSpeed, b.arrivalLane, b.arrivalSpeed, b.arrivalPos],
    [{ kind: 'stop' }, { kind: 'avg' }, { kind: 'current' }, { kind: 'current' }, { kind: 'middle' }],
  );
  assert.deepEqual(
    [c.departPos, c.departLane, c.arrivalLane],
    [{ kind: 'value', pos: -20 }, { kind: 'allowed' }, { kind: 'random' }],
  );
  const f = 'bad.rou.xml';
  inputError(
    () => parseSumoRoutes(routes(`<vehicle id="v" depart="0" arrivalLane="-1"><route edges="WC"/></vehicle>`), f, net),
    /^bad\.rou\.xml:3: <vehicle id="v">: arrivalLane must be a lane index >= 0, got -1$/,
  );
  inputError(
    () =>
      parseSumoRoutes(routes(`<vehicle id="v" depart="0" arrivalSpeed="fast"><route edges="WC"/></vehicle>`), f, net),
    /arrivalSpeed="fast" is not a number or one of current/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vehicle id="v" depart="0" departPos="front"><route edges="WC"/></vehicle>`), f, net),
    /departPos="front" is not a number or one of base, free, random, random_free, last, stop/,
  );
});

test('flows: exp(rate) periods, perHour, probability with a count; vType and route distributions', () => {
  const d = parseSumoRoutes(
    routes(`
    <vType id="a" probability="2"/><vType id="b"/>
    <vTypeDistribution id="ab" vTypes="a b"/>
    <vTypeDistribution id="nested"><vType id="n1" probability="0.3" length="4"/><vType id="n2" probability="0.7"/></vTypeDistribution>
    <route id="r1" edges="WC CE"/><route id="r2" edges="WC CN"><stop lane="CN_0" endPos="50" until="30"/></route>
    <routeDistribution id="rd" routes="r1 r2" probabilities="1 3"/>
    <routeDistribution id="rd2"><route refId="r1"/><route edges="SC CN" probability="2"/></routeDistribution>
    <flow id="e" begin="10" end="100" period="exp(0.5)" type="ab" route="rd"/>
    <flow id="h" perHour="120" type="nested" route="rd2"/>
    <flow id="p" begin="5" probability="0.25" number="8" route="r2"/>`),
    'f.rou.xml',
    net,
  );
  assert.deepEqual(d.vTypeDistributions, [
    { id: 'ab', vTypes: ['a', 'b'], probabilities: [2, 1] },
    { id: 'nested', vTypes: ['n1', 'n2'], probabilities: [0.3, 0.7] },
  ]);
  const stop = { lane: 'CN_0', startPos: 49.8, endPos: 50, until: 30, untilFrom: 0 };
  const rd = d.routeDistributions!;
  assert.deepEqual(
    rd.map((r) => r.routes.map((x) => [x.edges.join(' '), x.probability])),
    [
      [
        ['WC CE', 1],
        ['WC CN', 3],
      ],
      [
        ['WC CE', 1],
        ['SC CN', 2],
      ],
    ],
  );
  assert.deepEqual({ ...rd[0]!.routes[1]!.stops![0]!, where: undefined }, { ...stop, where: undefined });
  const [e, h, p] = d.flows;
  assert.deepEqual([e!.periodExp, e!.routeDistribution, e!.type, e!.begin, e!.end], [0.5, 'rd', 'ab', 10, 100]);
  assert.deepEqual([h!.vehsPerHour, h!.routeDistribution], [120, 'rd2']);
  // a named route's stop until counts from each vehicle's departure (untilFrom 0)
  assert.deepEqual(
    [p!.probability, p!.number, p!.end, p!.stops!.map((s) => ({ ...s, where: undefined }))],
    [0.25, 8, 86400, [{ ...stop, where: undefined }]],
  );
  const f = 'bad.rou.xml';
  inputError(
    () => parseSumoRoutes(routes(`<flow id="f" period="exp(0)"><route edges="WC"/></flow>`), f, net),
    /period="exp\(0\)": the rate of exp\(rate\) must be a number > 0/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<flow id="f" period="1" number="3" end="9"><route edges="WC"/></flow>`), f, net),
    /with a rate, give at most one of end and number/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<vTypeDistribution id="d" vTypes="x"/>`), f, net),
    /<vTypeDistribution id="d">: unknown vType "x"/,
  );
  inputError(
    () => parseSumoRoutes(routes(`<routeDistribution id="d" routes="x"/>`), f, net),
    /<routeDistribution id="d">: unknown route "x"/,
  );
  inputError(
    () =>
      parseSumoRoutes(
        routes(`<route id="r" edges="WC"/><routeDistribution id="d" routes="r" probabilities="1 2"/>`),
        f,
        net,
      ),
    /2 probabilities for 1 routes/,
  );
});

test('stops: lanes, edges, busStops from an additional file, positions from the lane end; what is not modelled warns once', () => {
  const add = `<additional>\n<busStop id="bs" lane="CE_0" startPos="10" endPos="-5"/>\n<e2Detector id="x" lane="WC_0"/>\n<e2Detector id="y" lane="WC_0"/>\n</additional>`;
  const d = parseSumoRoutes(
    routes(`
    <vehicle id="a" depart="0"><route edges="WC CE"/><stop busStop="bs" duration="20"/><stop lane="CE_0" endPos="-1" until="60"/></vehicle>
    <vehicle id="b" depart="1"><route edges="WC CE"/><stop edge="WC" endPos="40" duration="5" parking="true"/></vehicle>
    <vehicle id="c" depart="2"><route edges="WC CE"/><stop lane="CE_0" endPos="30" speed="5"/><stop lane="CE_0" endPos="40"/></vehicle>
    <flow id="f" begin="100" end="200" period="10"><route edges="WC CE"/><stop lane="CE_0" endPos="60" until="150"/></flow>
    <vehicle id="gone" depart="3"><route edges="WC CE"/><stop lane="XX_0" duration="1"/></vehicle>`),
    'stops.rou.xml',
    net,
    [{ text: add, file: 'stops.add.xml' }],
  );
  const strip = (s: StopSpec[] | undefined) => s?.map(({ where: _w, ...rest }) => rest);
  assert.deepEqual(strip(d.vehicles[0]!.stops), [
    { lane: 'CE_0', startPos: 10, endPos: 90, duration: 20, busStop: 'bs' },
    { lane: 'CE_0', startPos: 93.8, endPos: 94, until: 60 },
  ]);
  assert.match(d.vehicles[0]!.stops![0]!.where!, /^stops\.rou\.xml:4$/);
  assert.deepEqual(strip(d.vehicles[1]!.stops), [{ lane: 'WC_0', startPos: 39.8, endPos: 40, duration: 5 }]);
  // a waypoint and a stop without duration or until (SUMO waits for a person there) are left out
  assert.equal(d.vehicles[2]!.stops, undefined);
  // a flow's stop: until counts from each vehicle's departure relative to the flow's begin
  assert.deepEqual(strip(d.flows[0]!.stops), [
    { lane: 'CE_0', startPos: 59.8, endPos: 60, until: 150, untilFrom: 100 },
  ]);
  assert.deepEqual(
    d.vehicles.map((v) => v.id),
    ['a', 'b', 'c'],
  );
  const w = d.warnings.join('\n');
  assert.match(w, /stops\.rou\.xml:\d+: vehicle "gone" skipped: stop on lane "XX_0", which is not in the net/);
  assert.match(w, /stops\.add\.xml:3: <e2Detector> is not modelled; skipped \(every one in stops\.add\.xml\)/);
  assert.equal(d.warnings.filter((x) => /e2Detector/.test(x)).length, 1);
  assert.match(w, /parking stops/);
  assert.match(w, /waypoints/);
  assert.match(w, /stops without duration or until/);
  const f = 'bad.rou.xml';
  inputError(
    () =>
      parseSumoRoutes(
        routes(`<vehicle id="v" depart="0"><route edges="WC CE"/><stop busStop="nope" duration="1"/></vehicle>`),
        f,
        net,
      ),
    /^bad\.rou\.xml:3: <stop>: unknown busStop "nope"$/,
  );
  inputError(
    () =>
      parseSumoRoutes(
        routes(
          `<vehicle id="v" depart="0"><route edges="WC CE"/><stop lane="CE_0" endPos="500" duration="1"/></vehicle>`,
        ),
        f,
        net,
      ),
    /<stop>: endPos 500 is outside the lane \(length 95 m\)/,
  );
  inputError(
    () =>
      parseSumoRoutes(
        routes(`<vehicle id="v" depart="0"><route edges="WC CE"/><stop lane="CE_0" duration="-1"/></vehicle>`),
        f,
        net,
      ),
    /<stop>: duration must be >= 0, got -1/,
  );
  inputError(
    () =>
      parseSumoRoutes(
        routes(`<vehicle id="v" depart="0"><route edges="WC CE"/><stop duration="1"/></vehicle>`),
        f,
        net,
      ),
    /<stop>: needs a lane, an edge or a stopping place/,
  );
  inputError(
    () => parseSumoRoutes(routes('<busStop id="b" lane="QQ_0"/>'), f, net),
    /<busStop id="b">: lane "QQ_0" is not in the net/,
  );
});
