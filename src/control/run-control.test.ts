import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RequestError } from '../errors.js';
import { parseCommand } from './run-control.js';
import { simCommandParser } from './sim-commands.js';

const rejects = (body: unknown, pattern: RegExp, sim?: Parameters<typeof parseCommand>[1]) =>
  assert.throws(
    () => parseCommand(body, sim),
    (e: unknown) => e instanceof RequestError && e.status === 400 && pattern.test(e.message),
  );

test("our form and the seeds' envelope give the same run commands", () => {
  assert.deepEqual(parseCommand({ type: 'pause' }), { kind: 'run', command: { type: 'pause' } });
  assert.deepEqual(parseCommand({ type1: 'down', type2: 'resume', timestamp: '1704271329974' }), {
    kind: 'run',
    command: { type: 'resume' },
  });
  assert.deepEqual(parseCommand({ type: 'setRealtimeFactor', factor: 2.5 }), {
    kind: 'run',
    command: { type: 'setRealtimeFactor', factor: 2.5 },
  });
  assert.deepEqual(parseCommand({ type1: 'down', type2: 'setRealtimeFactor', param: [{ factor: '4' }] }), {
    kind: 'run',
    command: { type: 'setRealtimeFactor', factor: 4 },
  });
  assert.deepEqual(parseCommand({ type: 'setRealtimeFactor', factor: 'max' }), {
    kind: 'run',
    command: { type: 'setRealtimeFactor', factor: null },
  });
  assert.deepEqual(parseCommand({ type: 'setRealtimeFactor', factor: 0 }), {
    kind: 'run',
    command: { type: 'setRealtimeFactor', factor: null },
  });
});

test('malformed commands are rejected with a line naming the problem', () => {
  rejects([1, 2], /JSON object/);
  rejects('pause', /JSON object/);
  rejects({}, /needs a "type"/);
  rejects({ type2: 7 }, /"type2"/);
  rejects({ type2: 'pause', param: [3] }, /"param"\[0\]/);
  rejects({ type: 'setRealtimeFactor' }, /needs "factor"/);
  rejects({ type: 'setRealtimeFactor', factor: 'fast' }, /"factor" must be a number, got "fast"/);
  rejects({ type: 'setRealtimeFactor', factor: -1 }, /must be > 0/);
  rejects(
    { type: 'closeLane', lane: 'x' },
    /^type: unknown command "closeLane" \(expected one of pause, resume, stop, setRealtimeFactor, checkpoint\)$/,
  );
});

test("an unknown type names every command the API takes: the run commands and the simulation's", () => {
  const all =
    'pause, resume, stop, setRealtimeFactor, checkpoint, closeLane, openLane, setSpeedLimit, setSignalProgram, setPhase, addVehicle, setFlow, removeVehicle, setRoute, setSignalLogic, setSignalState';
  rejects(
    { type: 'warp' },
    new RegExp(`^type: unknown command "warp" \\(expected one of ${all}\\)$`),
    simCommandParser,
  );
  rejects(
    { type1: 'down', type2: 'global', param: [{}] },
    new RegExp(`^type2: unknown command "global" \\(expected one of ${all}\\)$`),
    simCommandParser,
  );
  // a known simulation command with a bad field is the simulation's verdict, not an unknown type
  rejects({ type: 'closeLane' }, /lane/, simCommandParser);
});

test('other commands go to the simulation parser, flattened; its errors become 400s', () => {
  const seen: unknown[] = [];
  const sim = {
    parse(b: Record<string, unknown>) {
      seen.push(b);
      if (b.lane !== 'in_0') throw new Error(`closeLane: unknown lane "${String(b.lane)}"`);
      return { type: 'closeLane', lane: 'in_0' };
    },
  };
  assert.deepEqual(parseCommand({ type1: 'down', type2: 'closeLane', param: [{ lane: 'in_0' }] }, sim), {
    kind: 'sim',
    command: { type: 'closeLane', lane: 'in_0' },
  });
  assert.deepEqual(seen[0], { type: 'closeLane', lane: 'in_0' });
  rejects({ type: 'closeLane', lane: 'nope' }, /^closeLane: unknown lane "nope"$/, sim);
});
