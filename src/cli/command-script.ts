/**
 * `tessds run --commands FILE`: commands scheduled ahead, as part of a run's inputs (the same
 * commands the HTTP API takes, each with the simulation time or step it applies at):
 *
 *   [ {"time": 120, "type": "closeLane", "lane": "A0B0_0"},
 *     {"step": 400, "type": "setSpeedLimit", "edge": "B0C0", "speed": 8},
 *     {"time": 600, "type": "stop"} ]
 *
 * A command at time t applies at the start of the step that begins at t (rounded to a step).
 */
import { CommandError, InputError } from '../errors.js';
import { readJsonList } from '../io/files.js';
import { SIM_COMMAND_TYPES, parseSimCommand } from '../sim/commands.js';
import type { ScriptedCommand } from '../cluster/command-desk.js';

/** what a command list may hold: a stop, a checkpoint and the simulation commands */
const SCRIPT_COMMAND_TYPES: readonly string[] = ['stop', 'checkpoint', ...SIM_COMMAND_TYPES];
/** the API's commands that only make sense while someone watches the run */
const LIVE_ONLY: readonly string[] = ['pause', 'resume', 'setRealtimeFactor'];

export function loadCommandScript(file: string, begin: number, stepLength: number): ScriptedCommand[] {
  const out = readJsonList(file, 'commands').map((item: unknown, i): ScriptedCommand => {
    if (typeof item !== 'object' || item === null || Array.isArray(item))
      throw new InputError(file, `command ${i}: expected an object`);
    const { time, step, ...body } = item as Record<string, unknown>;
    let at: number;
    if (typeof step === 'number' && time === undefined) at = step;
    else if (typeof time === 'number' && step === undefined) at = Math.round((time - begin) / stepLength);
    else throw new InputError(file, `command ${i}: give exactly one of "time" (s) or "step"`);
    if (!Number.isInteger(at) || at < 0)
      throw new InputError(
        file,
        `command ${i}: applies at step ${at}; it must be a whole step at or after the begin time`,
      );
    if (body['type'] === 'stop') return { step: at, command: { type: 'stop' } };
    if (body['type'] === 'checkpoint') return { step: at, command: { type: 'checkpoint' } };
    const name = body['type'] ?? body['type2'];
    if (typeof name === 'string' && !SCRIPT_COMMAND_TYPES.includes(name)) {
      const why = LIVE_ONLY.includes(name)
        ? 'is for a running simulation (the HTTP API), not a command list'
        : 'is not a command';
      throw new InputError(
        file,
        `command ${i}: "${name}" ${why} (a command list takes ${SCRIPT_COMMAND_TYPES.join(', ')})`,
      );
    }
    try {
      return { step: at, command: { type: 'sim', command: parseSimCommand(body) } };
    } catch (e) {
      if (e instanceof CommandError) throw new InputError(file, `command ${i}: ${e.message}`);
      throw e;
    }
  });
  // stable: commands at the same step keep the file's order
  return out
    .map((c, i) => ({ c, i }))
    .sort((a, b) => a.c.step - b.c.step || a.i - b.i)
    .map(({ c }) => c);
}
