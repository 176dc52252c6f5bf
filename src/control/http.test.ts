import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { Engine } from '../sim/engine.js';
import { restore } from '../sim/snapshot.js';
import { stateHash } from '../sim/dump.js';
import { loadScenario } from '../io/scenario.js';
import { decodeFrame } from './backend.js';
import { parsePrometheusText } from './prom-text.js';
import { repoRoot, startControlledRun, waitFor } from './testing.js';

async function get(base: string, path: string) {
  const r = await fetch(base + path);
  return { status: r.status, type: r.headers.get('content-type') ?? '', text: await r.text() };
}

async function post(base: string, body: string | object) {
  const r = await fetch(`${base}/api/commands`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: r.status, body: (await r.json()) as Record<string, unknown> };
}

const stepOf = async (base: string) => (JSON.parse((await get(base, '/api/status')).text) as { step: number }).step;

test('pause stops the step count, resume restarts it', async () => {
  const c = await startControlledRun();
  try {
    await waitFor(async () => (await stepOf(c.base)) > 5, 'the run to step');
    const p = await post(c.base, { type: 'pause' });
    assert.equal(p.status, 200);
    assert.equal(p.body.type, 'pause');
    const pausedAt = p.body.effectiveStep as number;
    await new Promise((r) => setTimeout(r, 300));
    const status = JSON.parse((await get(c.base, '/api/status')).text) as {
      step: number;
      paused: boolean;
      events: { type: string }[];
    };
    assert.equal(status.step, pausedAt, 'no step after the pause was answered');
    assert.equal(status.paused, true);
    assert.ok(status.events.some((e) => e.type === 'paused'));
    // the envelope form works too
    const r = await post(c.base, { type1: 'down', type2: 'resume' });
    assert.equal(r.status, 200);
    await waitFor(async () => (await stepOf(c.base)) > pausedAt, 'the run to step again after resume');
    const timeline = JSON.parse((await get(c.base, '/api/timeline')).text) as { type: string }[];
    assert.deepEqual(
      timeline.map((e) => e.type).filter((t) => t === 'paused' || t === 'resumed'),
      ['paused', 'resumed'],
    );
  } finally {
    await c.close();
  }
});

test('bad requests get a 4xx naming the problem; a bad target is refused', async () => {
  const c = await startControlledRun();
  try {
    const cases: [string | object, number, RegExp][] = [
      ['{"type": "pause"', 400, /not valid JSON/],
      ['', 400, /empty/],
      [
        { type: 'warp' },
        400,
        /^type: unknown command "warp" \(expected one of pause, resume, stop, setRealtimeFactor, checkpoint, closeLane, openLane, setSpeedLimit, setSignalProgram, setPhase, addVehicle, setFlow, removeVehicle, setRoute, setSignalLogic, setSignalState\)$/,
      ],
      [
        { type1: 'down', type2: 'warp' },
        400,
        /^type2: unknown command "warp" \(expected one of pause, resume, stop, setRealtimeFactor, checkpoint, closeLane,/,
      ],
      [{ type: 'setRealtimeFactor', factor: -3 }, 400, /"factor" must be > 0/],
      [{ type: 'closeLane', lane: 'no_such_lane' }, 404, /unknown lane "no_such_lane"/],
      [{ type1: 'down', type2: 'closeLane', param: [{ lane: 'no_such_lane' }] }, 404, /unknown lane "no_such_lane"/],
      [{ type: 'setSpeedLimit', edge: 'NC', speed: -1 }, 400, /speed/],
    ];
    for (const [body, status, pattern] of cases) {
      const r = await post(c.base, body);
      assert.equal(r.status, status, JSON.stringify(body));
      assert.match(String(r.body.error), pattern);
      assert.doesNotMatch(String(r.body.error), /\n/);
    }
    assert.equal(c.closed('NC_0'), false, 'nothing refused was applied');
    const nf = await get(c.base, '/api/nothing');
    assert.equal(nf.status, 404);
    assert.match(JSON.parse(nf.text).error, /no route GET \/api\/nothing/);
    const wrong = await fetch(`${c.base}/api/commands`);
    assert.equal(wrong.status, 405);
  } finally {
    await c.close();
  }
});

test('closeLane answers an effectiveStep; from that step on no vehicle enters the lane', async () => {
  const c = await startControlledRun({ factor: 60 });
  try {
    // the northern approach has traffic: vehicles enter it before the closure
    await waitFor(() => c.nc0.entries.length >= 3, 'vehicles entering NC_0');
    await post(c.base, { type: 'pause' });
    const r = await post(c.base, { type: 'closeLane', lane: 'NC_0' });
    assert.equal(r.status, 202);
    const at = r.body.effectiveStep as number;
    assert.equal(c.closed('NC_0'), false, 'not applied while paused');
    await post(c.base, { type: 'resume' });
    await waitFor(() => c.closed('NC_0'), 'the command to be applied');
    await waitFor(() => c.run.engine.step > at + 300, '300 more steps');
    const after = c.nc0.entries.filter((s) => s > at);
    assert.deepEqual(after, [], `vehicles entered NC_0 after it closed at step ${at}`);
    await post(c.base, { type: 'openLane', lane: 'NC_0' });
    await waitFor(() => c.nc0.entries.some((s) => s > at + 300), 'entries again after openLane');
  } finally {
    await c.close();
  }
});

test("/metrics is Prometheus text with the run's figures", async () => {
  const c = await startControlledRun();
  try {
    await waitFor(async () => (await stepOf(c.base)) > 5, 'the run to step');
    const p = await post(c.base, { type: 'pause' });
    const m = await get(c.base, '/metrics');
    assert.equal(m.status, 200);
    assert.match(m.type, /^text\/plain/);
    const fams = parsePrometheusText(m.text);
    for (const name of [
      'tessds_step',
      'tessds_step_seconds',
      'tessds_running_vehicles',
      'tessds_border_messages_total',
      'tessds_border_bytes_total',
      'tessds_checkpoint_seconds',
      'tessds_recoveries_total',
      'tessds_worker_lease_age_seconds',
      'tessds_paused',
    ]) {
      assert.ok(fams.get(name)?.help, `${name} has HELP`);
    }
    assert.equal(fams.get('tessds_step')!.samples[0]!.value, p.body.effectiveStep);
    assert.equal(fams.get('tessds_paused')!.samples[0]!.value, 1);
    const count = fams.get('tessds_step_seconds')!.samples.find((s) => s.name === 'tessds_step_seconds_count')!;
    assert.equal(count.value, p.body.effectiveStep, 'one observation per step');
    assert.equal(fams.get('tessds_commands_total')!.samples.find((s) => s.labels.type === 'pause')!.value, 1);
  } finally {
    await c.close();
  }
});

test('the stream sends binary frames of the vehicles in the viewport', async () => {
  const c = await startControlledRun();
  try {
    await waitFor(() => c.run.engine.running > 3, 'vehicles');
    await post(c.base, { type: 'pause' });
    const ws = new WebSocket(`ws://127.0.0.1:${c.server.port}/api/stream`);
    const messages: { binary: boolean; data: Buffer }[] = [];
    ws.on('message', (data, binary) => messages.push({ binary, data: data as Buffer }));
    await new Promise((r) => ws.once('open', r));
    await waitFor(() => messages.some((m) => m.binary), 'a frame');
    const all = decodeFrame(messages.find((m) => m.binary)!.data);
    assert.equal(all.count, c.run.engine.running);
    assert.equal(all.running, c.run.engine.running);
    assert.equal(all.step, c.run.engine.step);
    // the east arm only (x > 20): fewer vehicles, all of them east
    ws.send(JSON.stringify({ viewport: [20, -50, 400, 50] }));
    ws.send(JSON.stringify({ viewport: 'everything' }));
    await waitFor(() => messages.some((m) => !m.binary), 'an error message');
    assert.match(JSON.parse(String(messages.find((m) => !m.binary)!.data)).error, /"viewport" must be/);
    messages.length = 0;
    ws.send(JSON.stringify({ viewport: [20, -50, 400, 50] }));
    await new Promise((r) => setTimeout(r, 250));
    messages.length = 0;
    await waitFor(() => messages.some((m) => m.binary), 'a frame');
    const east = decodeFrame(messages.find((m) => m.binary)!.data);
    assert.ok(east.count < all.count, `${east.count} < ${all.count}`);
    for (let i = 0; i < east.count; i++) assert.ok(east.x[i]! >= 20);
    ws.close();
  } finally {
    await c.close();
  }
});

test('checkpoint writes a snapshot that restores to the same state; stop ends the run early', async () => {
  const file = join(mkdtempSync(join(tmpdir(), 'tessds-ctl-')), 'state.bin');
  const c = await startControlledRun({ checkpointFile: file });
  try {
    await waitFor(() => c.run.engine.step > 20, 'the run to step');
    await post(c.base, { type: 'pause' });
    const r = await post(c.base, { type: 'checkpoint' });
    assert.equal(r.status, 200);
    const fresh = new Engine(loadScenario(`${repoRoot}examples/crossroads.json`));
    restore(fresh, readFileSync(file));
    assert.equal(fresh.step, r.body.effectiveStep);
    assert.equal(stateHash(fresh), stateHash(c.run.engine));
    assert.equal((await post(c.base, { type: 'stop' })).status, 200);
    await c.done;
    assert.ok(c.run.engine.step < c.run.engine.endStep!);
    assert.equal(JSON.parse((await get(c.base, '/api/status')).text).state, 'finished');
    assert.equal((await post(c.base, { type: 'pause' })).status, 409);
  } finally {
    await c.close();
  }
});

test('checkpoint without a file is refused with 409', async () => {
  const c = await startControlledRun();
  try {
    const r = await post(c.base, { type: 'checkpoint' });
    assert.equal(r.status, 409);
    assert.match(String(r.body.error), /--save-state/);
  } finally {
    await c.close();
  }
});

test('any realtime factor > 0 is honoured: 0.1 and 0.5 simulated s per wall s, set at start or by command', async () => {
  const c = await startControlledRun({ factor: 0.5 });
  try {
    const dt = c.run.engine.cfg.stepLength;
    const t0 = Date.now();
    const s0 = c.run.engine.step;
    await new Promise((r) => setTimeout(r, 2000));
    const simulated = (c.run.engine.step - s0) * dt;
    const wall = (Date.now() - t0) / 1000;
    assert.ok(simulated <= 0.5 * wall + dt + 1e-9, `${simulated} simulated s in ${wall} wall s at 0.5×`);
    await post(c.base, { type: 'setRealtimeFactor', factor: 0.1 });
    const s1 = c.run.engine.step;
    const t1 = Date.now();
    await new Promise((r) => setTimeout(r, 1500));
    const slow = (c.run.engine.step - s1) * dt;
    assert.ok(slow <= 0.1 * ((Date.now() - t1) / 1000) + dt + 1e-9, `${slow} simulated s in 1.5 wall s at 0.1×`);
    await post(c.base, { type: 'setRealtimeFactor', factor: 100 });
    await waitFor(() => c.run.engine.step > s1 + 20, 'a fast factor to take over');
  } finally {
    await c.close();
  }
});
