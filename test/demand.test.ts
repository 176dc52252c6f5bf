/**
 * Demand semantics as SUMO 1.15 has them, on a net we built with netconvert from our own plain XML
 * (test/fixtures/demand, see make-reference.py there): departures before the begin, stops on lanes
 * and at busStops, probability/exp/number flows with vType and route distributions, every
 * depart/arrival value. SUMO's figures are committed (*.sumo-reference.json, *.sumo-trips.json), so
 * CI needs no SUMO; the rest is counted by hand in the comments. Then the determinism promise with
 * stops and probability flows: the same hash for 1..4 workers, and across a snapshot.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../src/io/sumo/config.js';
import { Engine } from '../src/sim/engine.js';
import { Demand } from '../src/sim/demand.js';
import { Network } from '../src/sim/network.js';
import { summarize } from '../src/sim/summary.js';
import { assertSnapshotContinues } from './snapshot-check.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const dir = join(root, 'test/fixtures/demand');
const cli = join(root, 'dist/src/cli/main.js');
const cfg = (name: string) => join(dir, `${name}.sumocfg`);

interface SumoTrip {
  depart: number;
  departLane: string;
  departPos: number;
  departSpeed: number;
  arrivalLane: string;
  arrivalPos: number;
  arrivalSpeed: number;
  duration: number;
  timeLoss: number;
  waitingTime: number;
  stopTime: number;
  vType: string;
  route?: string;
}
const sumoTrips = (name: string) =>
  JSON.parse(readFileSync(join(dir, `${name}.sumo-trips.json`), 'utf8')) as Record<string, SumoTrip>;
const sumoSummary = (name: string) =>
  JSON.parse(readFileSync(join(dir, `${name}.sumo-reference.json`), 'utf8')) as Record<string, number>;

/** Our trip of vehicle `id` after a run, in SUMO's tripinfo terms. */
function ourTrip(e: Engine, id: string) {
  const i = e.demand.ids.indexOf(id);
  assert.ok(i >= 0, `${id} is not in our demand`);
  const t = e.trips;
  const dt = e.cfg.stepLength;
  return {
    depart: e.time(t.departStep[i]!),
    departLane: e.net.laneIds[t.departLane[i]!],
    departPos: t.departPos[i]!,
    departSpeed: t.departSpeed[i]!,
    arrivalLane: e.net.laneIds[t.arrivalLane[i]!],
    arrivalPos: t.arrivalPos[i]!,
    arrivalSpeed: t.arrivalSpeed[i]!,
    duration: (t.arrivalStep[i]! - t.departStep[i]!) * dt,
    timeLoss: t.timeLoss[i]!,
    waitingTime: t.waitSteps[i]! * dt,
    stopTime: t.stopTime[i]!,
  };
}

/** Binomial count bounds: mean ± 4 standard deviations. */
function binomial(n: number, p: number): [number, number] {
  const sd = Math.sqrt(n * p * (1 - p));
  return [n * p - 4 * sd, n * p + 4 * sd];
}

function within(x: number, [lo, hi]: [number, number], what: string): void {
  assert.ok(x >= lo && x <= hi, `${what}: ${x} not in [${lo.toFixed(1)}, ${hi.toFixed(1)}]`);
}

test('demand: departures before the begin are dropped as SUMO drops them; an unsorted vehicle is ignored as SUMO ignores it', () => {
  const e = new Engine(loadSumoScenario(cfg('begin')));
  e.run();
  const s = summarize(e, 0, 0);
  const sumo = sumoSummary('begin');
  const trips = sumoTrips('begin');
  // by hand, begin 300: a (250) and t (299); f every 20 s from 0: 0..280 (15); g 20 over 100..1100,
  // every 50 s: 100, 150, 200, 250 (4); p draws from 300 on
  assert.equal(s.droppedBeforeBegin, 2 + 15 + 4);
  assert.ok(
    e.demand.warnings.some((w) => /21 vehicle\(s\) depart before the begin \(300 s\) and were dropped/.test(w)),
  );
  assert.ok(
    e.demand.warnings.some((w) =>
      /begin\.rou\.xml: 1 vehicle\(s\)\/flow\(s\) depart before one earlier in the file and were ignored.*unsorted/.test(
        w,
      ),
    ),
  );
  // every vehicle SUMO loaded but the probability flow's, by id (f.0 is the one departing at 300)
  const ours = new Set(e.demand.ids.slice(0, e.demand.count));
  const sumoIds = Object.keys(trips).filter((id) => !id.startsWith('p.'));
  assert.deepEqual([...ours].filter((id) => !id.startsWith('p.')).sort(), sumoIds.sort());
  assert.equal(ourTrip(e, 'f.0').depart, trips['f.0']!.depart);
  assert.equal(ourTrip(e, 'g.0').depart, 300);
  // a flow without begin begins with the scenario: 300, 307, ..., 398
  assert.equal(e.demand.depart[e.demand.ids.indexOf('nob.0')], 300);
  assert.equal(e.demand.depart[e.demand.ids.indexOf('nob.14')], 398);
  assert.equal([...ours].filter((id) => id.startsWith('nob.')).length, 15);
  // p: 300 Bernoulli draws with p = 0.05 (SUMO drew 24, a high but possible count)
  const pCount = [...ours].filter((id) => id.startsWith('p.')).length;
  const bounds = binomial(300, 0.05);
  within(pCount, bounds, 'p (ours)');
  within(Object.keys(trips).filter((id) => id.startsWith('p.')).length, bounds, 'p (SUMO)');
  assert.equal(s.inserted, s.loaded);
  assert.ok(Math.abs(s.loaded - sumo.loaded!) <= Math.abs(pCount - 24), `loaded ${s.loaded} vs SUMO ${sumo.loaded}`);
});

test("demand: stops hold for their duration and until (shifted for a route's and a flow's stops), at lanes and busStops, as SUMO", () => {
  const e = new Engine(loadSumoScenario(cfg('stops')));
  // when each vehicle comes to stand at a stop, and the end time it gets
  const reached: Record<string, [number, number][]> = {};
  const was = new Map<number, number>();
  e.run((e) => {
    for (let s = 0; s < e.v.used; s++) {
      const vid = e.v.vid[s]!;
      if (vid < 0 || e.v.lane[s]! < 0) continue;
      const end = e.v.stopEnd[s]!;
      if (end >= 0 && was.get(vid) !== end) (reached[e.demand.ids[vid]!] ??= []).push([e.time(), end]);
      was.set(vid, end);
    }
  });
  // by hand: a lane stop with duration 30 ends 30 s after the vehicle stands
  const [[t0, end0]] = reached['lanestop']! as [[number, number]];
  assert.equal(end0 - t0, 30);
  // until 150 (absolute, the vehicle's own stop), reached before
  assert.equal(reached['until']![0]![1], 150);
  // duration 10, until 100: whichever is later
  const [tb, endb] = reached['both']![0]!;
  assert.equal(endb, Math.max(tb + 10, 100));
  // the bus line's route: bsME 20 s; bsEF until 120 after each bus's departure (bus.k departs 120·k)
  for (let k = 0; k < 5; k++) {
    const [[tm, em], [tf, ef]] = reached[`bus.${k}`]! as [[number, number], [number, number]];
    assert.equal(em - tm, 20, `bus.${k} at bsME`);
    assert.equal(ef, Math.max(tf, 120 + 120 * k), `bus.${k} at bsEF`);
  }
  // the flow's own stop: until 200 counts from each vehicle's departure relative to the flow's begin 30
  for (let k = 0; k < 4; k++)
    assert.equal(
      reached[`deliver.${k}`]![0]![1],
      Math.max(reached[`deliver.${k}`]![0]![0], 200 + 100 * k),
      `deliver.${k}`,
    );

  // SUMO's tripinfo: vehicles that meet nobody on the way stop, wait and arrive as SUMO's do, to the
  // second; standing at a stop is neither waiting time nor time loss
  const trips = sumoTrips('stops');
  for (const id of ['bus.1', 'bus.2', 'bus.3', 'bus.4', 'deliver.1', 'deliver.2', 'deliver.3', 'until', 'tripstop']) {
    const ours = ourTrip(e, id);
    const ref = trips[id]!;
    assert.equal(ours.duration, ref.duration, `${id}: duration`);
    assert.ok(
      Math.abs(ours.timeLoss - ref.timeLoss) < 0.02,
      `${id}: timeLoss ${ours.timeLoss} vs SUMO ${ref.timeLoss}`,
    );
    assert.equal(ours.waitingTime, ref.waitingTime, `${id}: waitingTime`);
    assert.equal(ours.stopTime, ref.stopTime, `${id}: stopTime`);
  }
  // stop time by hand: 30 s at the lane stop (SUMO counts the step that brings it to a halt)
  assert.equal(ourTrip(e, 'lanestop').stopTime, 30);
  // the run as a whole: within the tolerances of issue 11
  const s = summarize(e, 0, 0);
  const sumo = sumoSummary('stops');
  assert.equal(s.arrived, sumo.arrived);
  assert.ok(
    Math.abs(s.meanDuration / sumo.meanDuration! - 1) <= 0.05,
    `meanDuration ${s.meanDuration} vs SUMO ${sumo.meanDuration}`,
  );
  assert.ok(
    Math.abs(s.meanTimeLoss / sumo.meanTimeLoss! - 1) <= 0.25,
    `meanTimeLoss ${s.meanTimeLoss} vs SUMO ${sumo.meanTimeLoss}`,
  );
  // the detectors of the additional file: one warning, naming the file and line
  assert.equal(e.demand.warnings.filter((w) => /e1Detector/.test(w)).length, 1);
  assert.ok(e.demand.warnings.some((w) => /stops\.add\.xml:4: <e1Detector> is not modelled; skipped/.test(w)));
});

test("demand: probability, exp(rate) and capped flows count as SUMO's statistics say; vTypes and routes drawn per vehicle in their shares", () => {
  const spec = loadSumoScenario(cfg('flows'));
  const net = new Network(spec.net);
  const seeds = [1, 2, 3, 4, 5];
  const count: Record<string, number> = {};
  let long = 0;
  let toN = 0;
  let pmain = 0;
  for (const seed of seeds) {
    const d = new Demand(spec.demand, net, { stepLength: 1, begin: 0, end: 4000, seed });
    const longType = d.typeIndex.get('long')!;
    for (let i = 0; i < d.count; i++) {
      const flow = d.ids[i]!.split('.')[0]!;
      count[flow] = (count[flow] ?? 0) + 1;
      if (flow !== 'pmain') continue;
      pmain++;
      if (d.type[i] === longType) long++;
      if (net.edgeIds[d.routeOf(d.route[i]!).at(-1)!] === 'MN') toN++;
    }
  }
  const n = seeds.length;
  // pooled over five seeds: 5 · 3600 Bernoulli draws
  within(count['pmain']!, binomial(n * 3600, 0.1), 'pmain');
  within(count['pside']!, binomial(n * 3600, 0.05), 'pside');
  // exponential headways with rate 0.02/s: a Poisson count with mean 72 per hour
  within(count['expo']!, [n * 72 - 4 * Math.sqrt(n * 72), n * 72 + 4 * Math.sqrt(n * 72)], 'expo');
  assert.equal(count['hourly'], n * 60);
  assert.equal(count['capped'], n * 30);
  // vTypeDistribution 3:1, routeDistribution with the routes' own probabilities 2:1
  within(long, binomial(pmain, 0.25), 'long vTypes');
  within(toN, binomial(pmain, 1 / 3), 'routes to N');

  // SUMO's one run lies in the same ranges (per run)
  const trips = sumoTrips('flows');
  const sumoCount = (f: string) => Object.keys(trips).filter((id) => id.startsWith(`${f}.`)).length;
  within(sumoCount('pmain'), binomial(3600, 0.1), 'pmain (SUMO)');
  within(sumoCount('pside'), binomial(3600, 0.05), 'pside (SUMO)');
  within(sumoCount('expo'), [72 - 4 * Math.sqrt(72), 72 + 4 * Math.sqrt(72)], 'expo (SUMO)');
  assert.equal(sumoCount('hourly'), 60);
  assert.equal(sumoCount('capped'), 30);
  const sumoMain = Object.entries(trips).filter(([id]) => id.startsWith('pmain.'));
  within(sumoMain.filter(([, t]) => t.vType === 'long').length, binomial(sumoMain.length, 0.25), 'long vTypes (SUMO)');
  within(
    sumoMain.filter(([, t]) => t.route === 'WM MN').length,
    binomial(sumoMain.length, 1 / 3),
    'routes to N (SUMO)',
  );

  // and the run: everybody arrives, the means within issue 11's tolerances
  const e = new Engine(spec);
  e.run();
  const s = summarize(e, 0, 0);
  const sumo = sumoSummary('flows');
  assert.equal(s.arrived, s.inserted);
  assert.ok(
    Math.abs(s.meanDuration / sumo.meanDuration! - 1) <= 0.1,
    `meanDuration ${s.meanDuration} vs SUMO ${sumo.meanDuration}`,
  );
});

test('demand: departLane/departPos/departSpeed and arrivalLane/arrivalPos/arrivalSpeed as SUMO 1.15 inserts and ends the vehicles', () => {
  const e = new Engine(loadSumoScenario(cfg('depart')));
  e.run();
  const trips = sumoTrips('depart');
  assert.equal(e.arrived, Object.keys(trips).length);
  for (const [id, ref] of Object.entries(trips)) {
    const ours = ourTrip(e, id);
    assert.equal(ours.depart, ref.depart, `${id}: depart`);
    assert.equal(ours.departLane, ref.departLane, `${id}: departLane`);
    assert.ok(
      Math.abs(ours.departPos - ref.departPos) < 0.01,
      `${id}: departPos ${ours.departPos} vs SUMO ${ref.departPos}`,
    );
    assert.ok(
      Math.abs(ours.departSpeed - ref.departSpeed) < 0.01,
      `${id}: departSpeed ${ours.departSpeed} vs SUMO ${ref.departSpeed}`,
    );
    assert.equal(ours.arrivalLane, ref.arrivalLane, `${id}: arrivalLane`);
    assert.ok(
      Math.abs(ours.arrivalPos - ref.arrivalPos) < 0.01,
      `${id}: arrivalPos ${ours.arrivalPos} vs SUMO ${ref.arrivalPos}`,
    );
    assert.ok(
      Math.abs(ours.arrivalSpeed - ref.arrivalSpeed) < 0.01,
      `${id}: arrivalSpeed ${ours.arrivalSpeed} vs SUMO ${ref.arrivalSpeed}`,
    );
    assert.ok(Math.abs(ours.duration - ref.duration) <= 1, `${id}: duration ${ours.duration} vs SUMO ${ref.duration}`);
  }
});

function hashOf(name: string, workers: number): string {
  const r = spawnSync(
    process.execPath,
    [cli, 'run', cfg(name), '--workers', String(workers), '--summary', '-', '-q', '--no-progress'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  return (JSON.parse(r.stdout) as { stateHash: string }).stateHash;
}

for (const name of ['stops', 'flows']) {
  test(`demand: ${name} — the same state hash for 1..4 workers, and across a snapshot mid-run`, () => {
    const one = hashOf(name, 1);
    for (const w of [2, 3, 4]) assert.equal(hashOf(name, w), one, `${w} workers`);
    const first = assertSnapshotContinues(loadSumoScenario(cfg(name)), 95); // stops and flows in every state
    assert.equal(summarize(first, 0, 0).stateHash, one);
  });
}
