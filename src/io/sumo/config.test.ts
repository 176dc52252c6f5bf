import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { InputError } from '../../errors.js';
import { loadSumoConfig, loadSumoScenario } from './config.js';
import { SMALL_NET } from './testing.js';

// dist/src/io/sumo/ → repository root/test/fixtures (the XML fixtures are not copied into dist)
const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures/', import.meta.url));

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

function scenarioDir(cfg: string, files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'tessds-cfg-'));
  mkdirSync(join(dir, 'sub'));
  writeFileSync(join(dir, 'sub', 'net.net.xml'), SMALL_NET);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, 'sub', name), text);
  writeFileSync(join(dir, 'sub', 'run.sumocfg'), cfg);
  return join(dir, 'sub', 'run.sumocfg');
}

test('config: sections, comma-separated route files relative to the config, options', () => {
  const cfg = scenarioDir(`<configuration>
    <input><net-file value="net.net.xml"/><route-files value="a.rou.xml, b.rou.xml"/></input>
    <time><begin value="10"/><end value="500"/><step-length value="0.5"/></time>
    <random_number><seed value="7"/></random_number>
    <processing><time-to-teleport value="-1"/></processing>
  </configuration>`);
  const dir = join(cfg, '..');
  assert.deepEqual(loadSumoConfig(cfg), {
    netFile: join(dir, 'net.net.xml'),
    routeFiles: [join(dir, 'a.rou.xml'), join(dir, 'b.rou.xml')],
    additionalFiles: [],
    routeSteps: 200,
    begin: 10,
    end: 500,
    stepLength: 0.5,
    seed: 7,
    timeToTeleport: -1,
  });
});

test('scenario: additional files load before the route files; route-steps 0 keeps an unsorted route file whole', () => {
  const cfg = scenarioDir(
    `<configuration><net-file value="net.net.xml"/><route-files value="r.rou.xml"/><additional-files value="stops.add.xml types.add.xml"/></configuration>`,
    {
      'stops.add.xml': `<additional>\n<busStop id="bs" lane="CE_0" startPos="20" endPos="-10"/>\n<e1Detector id="d" lane="WC_0" pos="10" freq="60" file="x"/>\n<e1Detector id="d2" lane="WC_0" pos="20" freq="60" file="x"/>\n</additional>`,
      'types.add.xml': `<additional><vType id="bus" vClass="bus"/><route id="r" edges="WC CE"/></additional>`,
      'r.rou.xml': `<routes><vehicle id="v" depart="5" type="bus" route="r"><stop busStop="bs" duration="20"/></vehicle><vehicle id="w" depart="1" route="r"/></routes>`,
    },
  );
  const s = loadSumoScenario(cfg);
  assert.deepEqual(
    s.demand.vehicles.map((v) => v.id),
    ['v'],
  );
  assert.deepEqual(s.demand.vehicles[0]!.stops, [
    {
      lane: 'CE_0',
      startPos: 20,
      endPos: 85,
      duration: 20,
      busStop: 'bs',
      where: s.demand.vehicles[0]!.stops![0]!.where,
    },
  ]);
  assert.equal(s.demand.warnings.filter((w) => /e1Detector/.test(w)).length, 1, 'one warning per kind and file');
  assert.match(
    s.demand.warnings.find((w) => /e1Detector/.test(w))!,
    /stops\.add\.xml:3: <e1Detector> is not modelled; skipped/,
  );
  assert.ok(
    s.demand.warnings.some((w) =>
      /r\.rou\.xml: 1 vehicle\(s\)\/flow\(s\) depart before one earlier in the file and were ignored.*w \(line/.test(w),
    ),
  );
  const whole = scenarioDir(
    `<configuration><net-file value="net.net.xml"/><route-files value="r.rou.xml"/><route-steps value="0"/></configuration>`,
    {
      'r.rou.xml': `<routes><vehicle id="v" depart="5"><route edges="WC CE"/></vehicle><vehicle id="w" depart="1"><route edges="WC CE"/></vehicle></routes>`,
    },
  );
  assert.equal(loadSumoScenario(whole).demand.vehicles.length, 2);
});

test('scenario: defaults and demand loaded against the net', () => {
  const cfg = scenarioDir(
    `<configuration><net-file value="net.net.xml"/><route-files value="r.rou.xml"/></configuration>`,
    {
      'r.rou.xml': `<routes><vehicle id="v" depart="0"><route edges="WC CN"/></vehicle></routes>`,
    },
  );
  const s = loadSumoScenario(cfg);
  assert.equal(s.begin, 0);
  assert.equal(s.end, undefined);
  assert.equal(s.stepLength, 1);
  assert.equal(s.seed, 42);
  assert.equal(s.timeToTeleport, 300);
  assert.equal(s.net.links.length, 3);
  assert.deepEqual(s.demand.vehicles[0]!.route, ['WC', 'CN']);
});

test('config errors name the file and the option', () => {
  inputError(() => loadSumoConfig('/nonexistent/x.sumocfg'), /^\/nonexistent\/x\.sumocfg: file not found$/);
  inputError(
    () => loadSumoConfig(scenarioDir('<configuration><input/></configuration>')),
    /run\.sumocfg: no <net-file value="\.\.\."> given$/,
  );
  inputError(
    () =>
      loadSumoConfig(
        scenarioDir('<configuration>\n<net-file value="n"/>\n<step-length value="half"/>\n</configuration>'),
      ),
    /run\.sumocfg:3: <step-length>: value="half" is not a number$/,
  );
  inputError(
    () => loadSumoConfig(scenarioDir('<configuration><net-file value="n"/><step-length value="0"/></configuration>')),
    /step-length must be > 0/,
  );
  inputError(() => loadSumoConfig(scenarioDir('<net/>')), /expected a SUMO configuration/);
  // a missing net file is reported with its path as the config resolves it
  inputError(
    () => loadSumoScenario(scenarioDir('<configuration><net-file value="missing.net.xml"/></configuration>')),
    /sub\/missing\.net\.xml: file not found$/,
  );
});

for (const name of ['grid4', 'spider4', 'rand4']) {
  test(`fixture ${name}: loads, every vehicle and every route edge accounted for`, () => {
    const dir = join(FIXTURES, name);
    const s = loadSumoScenario(join(dir, 'scenario.sumocfg'));
    const routesXml = readFileSync(join(dir, 'routes.rou.xml'), 'utf8');
    assert.equal(s.demand.vehicles.length, routesXml.match(/<vehicle /g)!.length);
    assert.deepEqual(s.demand.warnings, []);
    assert.equal(s.stepLength, 0.5);
    assert.equal(s.end, 300);
    const edges = new Set(s.net.edges.map((e) => e.id));
    for (const v of s.demand.vehicles) {
      for (const e of v.route ?? []) assert.ok(edges.has(e), `${v.id}: edge ${e}`);
    }
    // every request index fits its junction, and (no joined traffic lights here) equals the tl index
    const junctions = new Map(s.net.junctions.map((j) => [j.id, j]));
    for (const l of s.net.links) {
      const j = junctions.get(l.junction)!;
      assert.ok(l.index >= 0 && l.index < j.yieldsTo.length, `${l.fromLane}>${l.toLane}`);
      if (l.tl) assert.equal(l.tl.linkIndex, l.index);
      assert.ok(l.viaLength > 0 && l.viaShape.length >= 4);
    }
    // SUMO's reference result is committed beside the scenario
    const ref = JSON.parse(readFileSync(join(dir, 'sumo-reference.json'), 'utf8')) as { loaded: number };
    assert.equal(ref.loaded, s.demand.vehicles.length);
  });
}
