/**
 * Actuated traffic lights against SUMO 1.15 (test/fixtures/actuated1, see its README): the phase
 * switches under light demand (gap-out) and heavy demand (max-out) and the trip figures; and the
 * determinism promise on a network with a joined actuated light (test/fixtures/actuated2): equal
 * state hashes for 1, 2 and 3 workers, and a snapshot round trip that continues bit-identically.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { loadSumoScenario } from '../src/io/sumo/config.js';
import { Engine } from '../src/sim/engine.js';
import { summarize } from '../src/sim/summary.js';
import { restore, snapshot, stateHash } from '../src/sim/snapshot.js';
import { assertSnapshotContinues } from './snapshot-check.js';
import { applyDueCommands } from '../src/sim/commands-apply.js';
import type { ResolvedCommand } from '../src/sim/commands.js';
import { resolveSimCommand } from '../src/sim/commands-resolve.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const fixtures = join(root, 'test/fixtures');
const cli = join(root, 'dist/src/cli/main.js');

type Switch = [number, number];

/** Runs `cfg` to its end; returns the summary and the [time, phase] of every phase change of light 0. */
function runWithSwitches(cfg: string): { e: Engine; switches: Switch[] } {
  const e = new Engine(loadSumoScenario(cfg));
  const switches: Switch[] = [];
  let last = -1;
  e.run((x) => {
    const p = x.tlPhase[0]!;
    if (p !== last) switches.push([Math.round(x.time(x.step - 1)), p]);
    last = p;
  });
  return { e, switches };
}

/** Per phase: how many times it ran and its mean duration, s (phases still running at `end` excluded). */
function phaseStats(sw: Switch[]): Map<number, { n: number; mean: number; durations: number[] }> {
  const out = new Map<number, { n: number; mean: number; durations: number[] }>();
  for (let k = 0; k + 1 < sw.length; k++) {
    const [t, p] = sw[k]!;
    let s = out.get(p);
    if (!s) out.set(p, (s = { n: 0, mean: 0, durations: [] }));
    s.durations.push(sw[k + 1]![0] - t);
  }
  for (const s of out.values()) {
    s.n = s.durations.length;
    s.mean = s.durations.reduce((a, b) => a + b, 0) / s.n;
  }
  return out;
}

function near(ours: number, sumo: number, tol: number, what: string): void {
  const rel = Math.abs(ours - sumo) / sumo;
  assert.ok(
    rel <= tol,
    `${what}: TessDS ${ours.toFixed(2)} vs SUMO ${sumo.toFixed(2)} (${(100 * rel).toFixed(1)}% > ${100 * tol}%)`,
  );
}

function sumoSwitches(name: string, until: number): Switch[] {
  const s = (
    JSON.parse(readFileSync(join(fixtures, 'actuated1', `${name}.sumo-switches.json`), 'utf8')) as {
      switches: Switch[];
    }
  ).switches;
  return s.filter(([t]) => t < until);
}

for (const name of ['light', 'heavy']) {
  // open gap since Krauss (2026-12-04): under heavy demand the greens gap out more often than SUMO's
  const todo = name === 'heavy' ? '39 phase switches against SUMO 29 since Krauss car following' : undefined;
  test(`actuated1 ${name}: phase order, green durations and trip figures as SUMO's`, { todo }, () => {
    const { e, switches } = runWithSwitches(join(fixtures, 'actuated1', `${name}.sumocfg`));
    const until = name === 'light' ? 1200 : 600; // while the demand lasts
    const ours = switches.filter(([t]) => t < until);
    const sumo = sumoSwitches(name, until);
    // the phases follow the program in order, from phase 0
    ours.forEach(([, p], k) => assert.equal(p, k % 4, `switch ${k}`));
    // the first cycle (first green: its minDur 5 s, as SUMO's first event comes after minDur)
    assert.deepEqual(ours.slice(0, 5), sumo.slice(0, 5));
    // yellow always its 3 s
    for (const p of [1, 3])
      assert.ok(
        phaseStats(ours)
          .get(p)!
          .durations.every((d) => d === 3),
      );
    // after the first cycle (empty approaches)
    const so = phaseStats(ours.slice(4));
    const ss = phaseStats(sumo.slice(4));
    near(ours.length, sumo.length, 0.15, 'phase switches while the demand lasts');
    near(so.get(0)!.mean, ss.get(0)!.mean, 0.3, 'mean north-south green');
    near(so.get(2)!.mean, ss.get(2)!.mean, name === 'light' ? 0.3 : 0.1, 'mean east-west green');
    if (name === 'heavy') {
      // SUMO maxes the east-west green out every time; so do we, most of the time
      const maxOuts = (d: number[]) => d.filter((x) => x === 50).length;
      assert.equal(maxOuts(ss.get(2)!.durations), ss.get(2)!.n);
      assert.ok(maxOuts(so.get(2)!.durations) >= so.get(2)!.n / 2, `max-outs ${so.get(2)!.durations}`);
    } else {
      // light demand: every green ends by gap-out, well before maxDur
      assert.ok(so.get(2)!.durations.every((d) => d < 50));
    }
    const ref = JSON.parse(readFileSync(join(fixtures, 'actuated1', `${name}.sumo-reference.json`), 'utf8'));
    const s = summarize(e, 0, 0);
    near(s.arrived, ref.arrived, 0.1, 'arrived');
    near(s.meanDuration, ref.meanDuration, 0.1, 'meanDuration');
    near(s.meanTimeLoss, ref.meanTimeLoss, 0.25, 'meanTimeLoss');
  });
}

test('actuated1: the induction loops sit where SUMO puts them (min(2 s × speed, (minDur/1.9 + 0.5) × 7.5 m) before the line)', () => {
  const e = new Engine(loadSumoScenario(join(fixtures, 'actuated1', 'light.sumocfg')));
  const d = e.net.detectors;
  assert.equal(d.count, 4);
  for (let k = 0; k < d.count; k++) {
    const lane = d.lane[k]!;
    assert.ok(Math.abs(e.net.laneLength[lane]! - d.pos[k]! - Math.min(2 * 13.89, (5 / 1.9 + 0.5) * 7.5)) < 1e-9);
  }
  // each green phase is controlled by the loops of its two approaches; yellow by none
  const act = e.net.trafficLights[0]!.act!;
  const count = (p: number) => act.phaseDetStart[p + 1]! - act.phaseDetStart[p]!;
  assert.deepEqual([0, 1, 2, 3].map(count), [2, 0, 2, 0]);
});

test('actuated2 (a joined light over two junctions): the same state hash for 1, 2 and 3 workers', () => {
  const cfg = join(fixtures, 'actuated2', 'scenario.sumocfg');
  const hashes = [1, 2, 3].map((w) => {
    const r = spawnSync(
      process.execPath,
      [cli, 'run', cfg, '--workers', String(w), '--summary', '-', '-q', '--no-progress'],
      { encoding: 'utf8', timeout: 120_000 },
    );
    assert.equal(r.status, 0, r.stderr);
    return (JSON.parse(r.stdout) as { stateHash: string }).stateHash;
  });
  assert.equal(hashes[1], hashes[0]);
  assert.equal(hashes[2], hashes[0]);
});

test('actuated2: a snapshot taken mid-run restores and continues bit-identically', () => {
  assertSnapshotContinues(loadSumoScenario(join(fixtures, 'actuated2', 'scenario.sumocfg')), 257);
});

test('online commands on an actuated light: setPhase holds a phase for its duration, setSignalProgram restarts at phase 0', () => {
  const spec = loadSumoScenario(join(fixtures, 'actuated1', 'light.sumocfg'));
  const e = new Engine(spec);
  const log: ResolvedCommand[] = [];
  const add = (step: number, cmd: Parameters<typeof resolveSimCommand>[2]) =>
    log.push(resolveSimCommand(e.net, e.demand, cmd, { effectiveStep: step, prior: log }));
  add(100, { type: 'setPhase', tls: 'C', phase: 2, duration: 20 });
  add(300, { type: 'setSignalProgram', tls: 'C', program: '0' });
  const phases: number[] = [];
  while (e.step < 400) {
    applyDueCommands(e, log);
    e.doStep();
    phases.push(e.tlPhase[0]!);
  }
  // step length 1 s: phases[k] is the phase during step k
  for (let k = 100; k < 120; k++) assert.equal(phases[k], 2, `held, step ${k}`);
  assert.equal(phases[120], 3, 'after the held 20 s the program goes on (yellow)');
  // restarted at phase 0, kept at least its minDur (5 s)
  for (let k = 300; k < 305; k++) assert.equal(phases[k], 0, `restarted, step ${k}`);
  // the state carries over a snapshot
  const again = new Engine(spec);
  restore(again, snapshot(e));
  e.doStep();
  again.doStep();
  assert.equal(stateHash(again), stateHash(e));
});
