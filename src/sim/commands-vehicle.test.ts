/**
 * The commands TraCI's setters added (removeVehicle, setRoute, setSignalLogic, setSignalState) on
 * the real engine (test/fixtures/traci): each one's effect and errors, and a snapshot taken after
 * them that a fresh engine continues bit-identically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../io/sumo/config.js';
import { CommandError } from '../errors.js';
import { Engine } from './engine.js';
import { restore, snapshot } from './snapshot.js';
import { stateHash } from './dump.js';
import type { ResolvedCommand, SimCommand } from './commands.js';
import { resolveSimCommand } from './commands-resolve.js';
import { applyCommand } from './commands-apply.js';

const cfg = fileURLToPath(new URL('../../../test/fixtures/traci/scenario.sumocfg', import.meta.url));

/** An engine and a log: `at(step)` steps up to `step`, `cmd(c)` resolves and applies `c` there. */
function session() {
  const e = new Engine(loadSumoScenario(cfg));
  const log: ResolvedCommand[] = [];
  return {
    e,
    log,
    at(step: number) {
      while (e.step < step) e.doStep();
    },
    cmd(c: SimCommand) {
      const r = resolveSimCommand(e.net, e.demand, c, { effectiveStep: e.step, prior: log });
      applyCommand(e, r);
      log.push(r);
      return r;
    },
  };
}

/** Demand index and slot of a vehicle on the road whose route ends on `lastEdge`. */
function onRoad(e: Engine, edge: string, lastEdge: string): { vid: number; slot: number } {
  const net = e.net;
  for (let s = 0; s < e.v.used; s++) {
    const vid = e.v.vid[s]!;
    if (vid < 0 || net.laneEdge[e.v.lane[s]!] !== net.edgeIndex.get(edge)) continue;
    const r = e.demand.routeOf(e.demand.route[vid]!);
    if (r[r.length - 1] === net.edgeIndex.get(lastEdge)) return { vid, slot: s };
  }
  throw new Error(`no vehicle on ${edge} bound for ${lastEdge}`);
}

test('setRoute: a vehicle on WC bound east turns north instead and arrives on CN', () => {
  const s = session();
  s.at(60);
  const { vid } = onRoad(s.e, 'WC', 'EE2');
  s.cmd({ type: 'setRoute', id: s.e.demand.ids[vid]!, route: ['WC', 'CN'] });
  s.at(300);
  assert.ok(s.e.trips.arrivalStep[vid]! > 60, 'it arrived');
  assert.equal(s.e.net.laneEdge[s.e.trips.arrivalLane[vid]!], s.e.net.edgeIndex.get('CN'));
});

test('removeVehicle: the vehicle is off the road at once, its trip ends at that step; the counts still add up', () => {
  const s = session();
  s.at(60);
  const { vid } = onRoad(s.e, 'WC', 'EE2');
  const running = s.e.running;
  s.cmd({ type: 'removeVehicle', id: s.e.demand.ids[vid]! });
  assert.equal(s.e.running, running - 1);
  assert.equal(s.e.trips.arrivalStep[vid], 60);
  for (let slot = 0; slot < s.e.v.used; slot++) assert.notEqual(s.e.v.vid[slot], vid);
  s.at(120);
  assert.equal(s.e.inserted, s.e.running + s.e.arrived);
});

test('setSignalState: every link shows its letter from now on; setSignalLogic runs the phases given', () => {
  const s = session();
  s.at(10);
  const state = 'GGgrrrrGGgrrrr';
  s.cmd({ type: 'setSignalState', tls: 'C', state });
  const net = s.e.net;
  const shown = () => {
    const out = Array.from(state, () => '?');
    for (let l = 0; l < net.linkCount; l++)
      if (net.linkTl[l] === 0) out[net.linkTlIndex[l]!] = String.fromCharCode(s.e.linkState(l));
    return out.join('');
  };
  s.at(11);
  assert.equal(shown(), state);
  s.at(400);
  assert.equal(shown(), state, 'the online program never switches by itself');
  s.cmd({
    type: 'setSignalLogic',
    tls: 'C',
    programID: 'online',
    phases: [
      { duration: 20, state: 'rrrGGGgrrrGGGg' },
      { duration: 5, state: 'rrryyyyrrryyyy' },
    ],
  });
  s.at(401);
  assert.equal(shown(), 'rrrGGGgrrrGGGg');
  s.at(421);
  assert.equal(shown(), 'rrryyyyrrryyyy');
  s.at(426);
  assert.equal(shown(), 'rrrGGGgrrrGGGg');
});

test('bad targets: an unknown vehicle (404), a route that is not connected (400), a state of the wrong length (400)', () => {
  const s = session();
  const status = (c: SimCommand) => {
    try {
      s.cmd(c);
    } catch (e) {
      if (e instanceof CommandError) return e.status;
      throw e;
    }
    return 0;
  };
  assert.equal(status({ type: 'removeVehicle', id: 'nobody' }), 404);
  assert.equal(status({ type: 'setRoute', id: 'we.0', route: ['WC', 'CS', 'CN'] }), 400);
  assert.equal(status({ type: 'setSignalState', tls: 'C', state: 'GGg' }), 400);
});

test('a snapshot after every kind of these commands continues bit-identically in a fresh engine', () => {
  const s = session();
  s.at(30);
  s.cmd({
    type: 'setSignalLogic',
    tls: 'C',
    programID: '0',
    phases: [
      { duration: 30.5, state: 'rrrGGGgrrrGGGg' },
      { duration: 3, state: 'rrryyyyrrryyyy' },
      { duration: 25.25, state: 'GGgrrrrGGgrrrr' },
      { duration: 3, state: 'yyyrrrryyyrrrr' },
    ],
  });
  s.at(60);
  s.cmd({ type: 'setRoute', id: s.e.demand.ids[onRoad(s.e, 'WC', 'EE2').vid]!, route: ['WC', 'CN'] });
  s.cmd({ type: 'removeVehicle', id: s.e.demand.ids[onRoad(s.e, 'WC', 'EE2').vid]! });
  s.at(100);
  s.cmd({ type: 'setSignalState', tls: 'C', state: 'GGgrrrrGGgrrrr' });
  s.at(130);
  const copy = new Engine(loadSumoScenario(cfg));
  restore(copy, snapshot(s.e));
  assert.equal(stateHash(copy), stateHash(s.e));
  s.e.run();
  while (copy.step < s.e.step) copy.doStep();
  assert.equal(stateHash(copy), stateHash(s.e));
});

test('setRoute leaves no cached lane choice behind: the run equals a fresh engine restored right after the command', () => {
  // the engine keeps lane continuations and look-ahead links per vehicle and route position; a
  // restored engine starts with none, so any entry left from the old route shows as a difference
  const s = session();
  s.at(60);
  const ids: string[] = [];
  for (;;) {
    let found: { vid: number } | undefined;
    try {
      found = onRoad(s.e, 'WC', 'EE2');
    } catch {
      break;
    }
    ids.push(s.e.demand.ids[found.vid]!);
    s.cmd({ type: 'setRoute', id: ids[ids.length - 1]!, route: ['WC', 'CN'] });
  }
  assert.ok(ids.length >= 2, `vehicles rerouted: ${ids.length}`);
  const copy = new Engine(loadSumoScenario(cfg));
  restore(copy, snapshot(s.e));
  s.at(240);
  while (copy.step < s.e.step) copy.doStep();
  assert.equal(stateHash(copy), stateHash(s.e));
});
