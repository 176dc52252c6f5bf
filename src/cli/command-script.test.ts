import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadCommandScript } from './command-script.js';

function script(commands: unknown[]): string {
  const file = join(mkdtempSync(join(tmpdir(), 'tessds-script-')), 'commands.json');
  writeFileSync(file, JSON.stringify(commands));
  return file;
}

test('a command list: times become steps, same-step commands keep the file order, stop and checkpoint are run commands', () => {
  const file = script([
    { time: 10, type: 'closeLane', lane: 'a_0' },
    { step: 4, type: 'checkpoint' },
    { time: 2, type: 'openLane', lane: 'a_0' },
    { time: 30, type: 'stop' },
  ]);
  const got = loadCommandScript(file, 0, 0.5);
  assert.deepEqual(
    got.map((c) => [c.step, c.command.type === 'sim' ? c.command.command.type : c.command.type]),
    [
      [4, 'checkpoint'],
      [4, 'openLane'],
      [20, 'closeLane'],
      [60, 'stop'],
    ],
  );
});

test('an unknown type names every command a list takes; pause and friends are told apart', () => {
  assert.throws(
    () => loadCommandScript(script([{ time: 1, type: 'warp' }]), 0, 1),
    /command 0: "warp" is not a command \(a command list takes stop, checkpoint, closeLane, openLane, setSpeedLimit, setSignalProgram, setPhase, addVehicle, setFlow, removeVehicle, setRoute, setSignalLogic, setSignalState\)/,
  );
  assert.throws(
    () =>
      loadCommandScript(
        script([
          { time: 1, type: 'closeLane', lane: 'x' },
          { step: 3, type1: 'down', type2: 'pause' },
        ]),
        0,
        1,
      ),
    /command 1: "pause" is for a running simulation \(the HTTP API\), not a command list/,
  );
  assert.throws(
    () => loadCommandScript(script([{ time: 1, step: 2, type: 'stop' }]), 0, 1),
    /command 0: give exactly one of "time" \(s\) or "step"/,
  );
});
