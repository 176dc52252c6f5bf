/**
 * Commands that steer the run itself rather than the traffic: pause, resume, stop, the realtime factor
 * and an on-demand checkpoint. Everything else (closing a lane, a speed limit, a signal program, ...) is
 * a simulation command, handed to a pluggable parser (`SimCommandParser`, src/sim/commands.ts).
 *
 * Two spellings are accepted:
 *   ours:             {"type": "setRealtimeFactor", "factor": 2}
 *   the seeds' envelope {"type1": "down", "type2": "setRealtimeFactor", "param": [{"factor": "2"}]}
 * The envelope is flattened to ours: `type2` becomes `type`, the objects of `param` are merged in
 * (`type1`, `type3`, `timestamp` are ignored). Numbers may be strings in the envelope, as in the seeds.
 */
import { CommandError, RequestError } from '../errors.js';

export type RunCommand =
  | { type: 'pause' }
  | { type: 'resume' }
  | { type: 'stop' }
  /** simulated seconds per wall second; null: as fast as possible */
  | { type: 'setRealtimeFactor'; factor: number | null }
  | { type: 'checkpoint' };

export const RUN_COMMAND_TYPES = [
  'pause',
  'resume',
  'stop',
  'setRealtimeFactor',
  'checkpoint',
] as const satisfies readonly RunCommand['type'][];

/** A simulation command after validation; `type` names it (closeLane, setSpeedLimit, ...). */
export interface SimCommand {
  type: string;
}

/**
 * Validates a simulation command (a flattened body `{type, ...}`). Throws an Error whose message is one
 * line naming the problem (unknown type, unknown lane, bad value): the server answers 400 with it.
 */
export interface SimCommandParser<C extends SimCommand = SimCommand> {
  /** the command names `parse` takes: any other is refused before it, naming every command of the API */
  readonly types?: readonly string[];
  parse(body: Record<string, unknown>): C;
}

export type ParsedCommand<C extends SimCommand = SimCommand> =
  { kind: 'run'; command: RunCommand } | { kind: 'sim'; command: C };

/** Our form of a command body: the envelope flattened, or the body itself. Throws RequestError 400. */
export function flattenCommand(body: unknown): Record<string, unknown> & { type: string } {
  if (typeof body !== 'object' || body === null || Array.isArray(body))
    throw new RequestError(400, 'a command must be a JSON object with a "type"');
  const b = body as Record<string, unknown>;
  if (b.type === undefined && b.type2 !== undefined) {
    if (typeof b.type2 !== 'string' || b.type2 === '')
      throw new RequestError(400, 'envelope field "type2" must be a command name');
    const flat: Record<string, unknown> = { type: b.type2 };
    const param = b.param;
    const params = param === undefined ? [] : Array.isArray(param) ? param : [param];
    params.forEach((p, i) => {
      if (typeof p !== 'object' || p === null || Array.isArray(p))
        throw new RequestError(400, `envelope field "param"[${i}] must be an object`);
      Object.assign(flat, p);
    });
    flat.type = b.type2;
    return flat as Record<string, unknown> & { type: string };
  }
  if (typeof b.type !== 'string' || b.type === '')
    throw new RequestError(400, 'a command needs a "type" (or the envelope\'s "type2")');
  return b as Record<string, unknown> & { type: string };
}

/** Reads a number that may be a JSON number or a numeric string (the seeds send strings). */
function numberField(b: Record<string, unknown>, name: string): number | undefined {
  const x = b[name];
  if (x === undefined || x === null) return undefined;
  const n = typeof x === 'number' ? x : typeof x === 'string' && x.trim() !== '' ? Number(x) : NaN;
  if (!Number.isFinite(n)) throw new RequestError(400, `"${name}" must be a number, got ${JSON.stringify(x)}`);
  return n;
}

/**
 * Parses a posted command: a run command here, anything else through `sim`. Throws RequestError
 * (400 malformed; 400 for an unknown type, naming the run commands and `sim.types`; whatever
 * `sim.parse` rejects, with its status).
 */
export function parseCommand<C extends SimCommand>(body: unknown, sim?: SimCommandParser<C>): ParsedCommand<C> {
  const b = flattenCommand(body);
  switch (b.type) {
    case 'pause':
    case 'resume':
    case 'stop':
    case 'checkpoint':
      return { kind: 'run', command: { type: b.type } };
    case 'setRealtimeFactor': {
      const raw = b.factor;
      if (raw === 'max' || raw === null) return { kind: 'run', command: { type: 'setRealtimeFactor', factor: null } };
      const f = numberField(b, 'factor');
      if (f === undefined)
        throw new RequestError(
          400,
          'setRealtimeFactor needs "factor": simulated seconds per wall second (> 0), or 0/null/"max" for as fast as possible',
        );
      if (f < 0) throw new RequestError(400, `"factor" must be > 0 (or 0 for as fast as possible), got ${f}`);
      return { kind: 'run', command: { type: 'setRealtimeFactor', factor: f === 0 ? null : f } };
    }
  }
  if (!sim || (sim.types && !sim.types.includes(b.type))) {
    const field = (body as Record<string, unknown>).type === undefined ? 'type2' : 'type';
    const known = [...RUN_COMMAND_TYPES, ...(sim?.types ?? [])];
    throw new RequestError(
      400,
      `${field}: unknown command ${JSON.stringify(b.type)} (expected one of ${known.join(', ')})`,
    );
  }
  try {
    return { kind: 'sim', command: sim.parse(b) };
  } catch (e) {
    if (e instanceof RequestError) throw e;
    // the simulation's own verdict keeps its status: 404 unknown target, 409 conflict, 400 malformed
    if (e instanceof CommandError) throw new RequestError(e.status, e.message);
    const msg = e instanceof Error ? e.message : String(e);
    throw new RequestError(400, msg.split('\n')[0]!);
  }
}
