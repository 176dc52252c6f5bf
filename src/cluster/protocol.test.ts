/**
 * State dumps cross process boundaries (worker → master) through encodeDump/decodeDump: the decoded
 * dump must hash like the original, including the state online commands changed.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Engine } from '../sim/engine.js';
import { dumpState, hashDump } from '../sim/dump.js';
import { corridor, vehicle } from '../sim/testnets.js';
import type { ResolvedCommand } from '../sim/commands.js';
import { resolveSimCommand } from '../sim/commands-resolve.js';
import { applyDueCommands } from '../sim/commands-apply.js';
import { decodeDump, encodeDump } from './protocol.js';

test('a dump with command state survives encodeDump/decodeDump with its hash', () => {
  const phases = [
    { duration: 10, state: 'G' },
    { duration: 10, state: 'r' },
  ];
  const e = new Engine(corridor({ phases, vehicles: [vehicle('a', 0, ['in', 'out'])], end: 30 }));
  const log: ResolvedCommand[] = [];
  for (const cmd of [
    { type: 'setSpeedLimit', edge: 'in', speed: 7.25 },
    { type: 'setPhase', tls: 'B', phase: 1, duration: 2.5 },
    { type: 'addVehicle', id: 'b', route: ['in', 'out'], vType: 'car' },
  ] as const) {
    log.push(resolveSimCommand(e.net, e.demand, cmd, { effectiveStep: 4, prior: log }));
  }
  while (e.step < 20) {
    applyDueCommands(e, log);
    e.doStep();
  }
  const d = dumpState(e);
  assert.ok(
    d.commands && d.commands.speeds.length === 1 && d.commands.signals.length === 1 && d.commands.demandCommands === 1,
  );
  const back = decodeDump(encodeDump(0, d)).dump;
  assert.deepEqual(back.commands, d.commands);
  assert.equal(hashDump(back), hashDump(d));
});
