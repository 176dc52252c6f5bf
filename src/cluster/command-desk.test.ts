/**
 * The command desk's bookkeeping for distributed mode (pure logic: the store and the workers are
 * stand-ins recording what the desk does): grants go out only once their horizon is durable, a
 * desk rebuilt from the store schedules no command before the stored horizon, and a command whose log
 * entry could not be written (deposed leader) is neither sent nor acknowledged.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CommandDesk, type DeskOptions } from './command-desk.js';
import type { LoggedCommand, MasterMessage } from './protocol.js';
import type { ResolvedCommand } from '../sim/commands.js';

function desk(extra: Partial<DeskOptions> = {}): { d: CommandDesk; sent: MasterMessage[] } {
  const sent: MasterMessage[] = [];
  const d = new CommandDesk({
    stepLength: 1,
    canCheckpoint: true,
    resolveSim: (c, effectiveStep, prior) => ({
      resolved: {
        seq: prior.length,
        effectiveStep,
        type: 'closeLane',
        lane: c.type === 'closeLane' ? Number(c.lane.slice(1)) : -1,
      } as ResolvedCommand,
      parts: 'all',
    }),
    broadcast: (m) => sent.push(m),
    ...extra,
  });
  return { d, sent };
}

const tick = () => new Promise((r) => setImmediate(r));

test('with persist, a grant goes out only after its horizon was stored, and carries the stored value', async () => {
  const stored: number[] = [];
  let release!: (ok: boolean) => void;
  const { d, sent } = desk({
    persist: () => {
      stored.push(d.horizon);
      return new Promise<boolean>((r) => (release = r));
    },
  });
  d.markSent(d.horizon); // the first horizon went out with the plans
  d.progress(0, 10); // the fastest part is at the first horizon (10): grant more
  assert.equal(stored.length, 1);
  assert.ok(stored[0]! > 10);
  assert.equal(sent.length, 0, 'nothing sent before the horizon is durable');
  assert.equal(d.sentHorizon, 10);
  release(true);
  await tick();
  assert.deepEqual(sent, [{ type: 'grant', horizon: stored[0] }]);
  assert.equal(d.sentHorizon, stored[0]);
});

test('a grant whose persist failed is not sent, and is retried at the next progress report', async () => {
  let fail = true;
  const { d, sent } = desk({ persist: () => (fail ? Promise.reject(new Error('store down')) : Promise.resolve(true)) });
  d.markSent(d.horizon);
  d.progress(0, 10);
  await tick();
  assert.equal(sent.length, 0);
  fail = false;
  d.progress(0, 10);
  await tick();
  assert.equal(sent.length, 1);
  assert.equal(sent[0]!.type, 'grant');
});

test('a desk rebuilt from the store: commands at or after the stored horizon, the log and resolved commands carried on', async () => {
  const log: LoggedCommand[] = [
    {
      seq: 0,
      step: 40,
      parts: 'all',
      command: { type: 'sim', resolved: { seq: 0, effectiveStep: 40, type: 'closeLane', lane: 3 } },
    },
    { seq: 1, step: 40, parts: 'all', command: { type: 'stop' } },
  ];
  const written: LoggedCommand[] = [];
  const { d, sent } = desk({
    restore: { horizon: 120, paused: false, log },
    writeLog: async (e) => void written.push(e),
    persist: async () => true,
  });
  assert.equal(d.horizon, 120);
  assert.equal(d.simLog.length, 1);
  assert.deepEqual(d.durableLog(), log);
  const a = await d.submit({ type: 'sim', command: { type: 'closeLane', lane: 'l7' } });
  assert.equal(a.status, 202);
  assert.equal(a.body.effectiveStep, 120, 'never before the stored horizon: a part may have reached it');
  assert.equal(a.body.id, 2);
  assert.deepEqual(
    written.map((e) => e.seq),
    [2],
  );
  assert.equal((d.simLog[1] as { seq: number }).seq, 1, 'resolved against the carried-on log');
  const resent: MasterMessage[] = [];
  d.resendGrant((m) => resent.push(m));
  assert.deepEqual(resent, [{ type: 'grant', horizon: 120 }]);
  assert.ok(sent.some((m) => m.type === 'command' && m.entry.seq === 2));
});

test('a command whose log entry cannot be written (deposed) is neither sent nor acknowledged', async () => {
  const { d, sent } = desk({ writeLog: () => Promise.reject(new Error('epoch 3 no longer leads')) });
  const a = await d.submit({ type: 'stop' });
  assert.equal(a.status, 409);
  assert.match(a.body.error!, /leadership/);
  assert.equal(sent.filter((m) => m.type === 'command').length, 0);
  assert.equal(d.durableLog().length, 0);
});

test('pause is stored before it is answered; a failed store answers 503', async () => {
  const states: boolean[] = [];
  let ok = true;
  const { d } = desk({ persist: async () => (states.push(d.paused), ok) });
  assert.equal((await d.submit({ type: 'pause' })).status, 200);
  assert.deepEqual(states, [true]);
  ok = false;
  assert.equal((await d.submit({ type: 'setRealtimeFactor', factor: 2 })).status, 503);
});
