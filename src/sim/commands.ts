/**
 * Online commands (issue 5, MISSION R6): what a user may change in a running simulation, as plain
 * JSON. Every command is part of the run's inputs: the control layer gives it an `effectiveStep`
 * (non-decreasing in log order) and every engine (or partition engine) that needs it applies it at
 * the start of that step, before any phase — so a run with commands is bit-identical for any number
 * of workers and any failure history.
 *
 * The life of a command:
 *   parseSimCommand(body)                        JSON from HTTP (ours or the seeds' envelope) → SimCommand
 *   resolveSimCommand(net, demand, cmd, ctx)     checked against network and demand → ResolvedCommand
 *                                                (index-based, JSON-serialisable: the wire and the log)
 *   commandLanes(net, resolved)                  lanes whose owning parts must receive it, or ALL_PARTS
 *   applyCommand(engine, resolved)               when engine.step === resolved.effectiveStep, before doStep()
 *
 * Recovery: a snapshot taken at step c (engine.step === c, between doStep() calls) holds the effect
 * of every command with effectiveStep < c; re-apply those with effectiveStep >= c (`commandsToReplay`).
 *
 * This file: the types and the parser. Resolution in commands-resolve.ts, application and the
 * command state (snapshot, dump, hash) in commands-apply.ts.
 */
import { CommandError, CommandStatus, assertNever } from '../errors.js';

export type DepartLaneKeyword = 'first' | 'best' | 'free' | 'random' | 'allowed';
export type DepartSpeedKeyword = 'max' | 'desired' | 'random' | 'speedLimit';

/** A command as a user writes it: ids, not indices. */
export type SimCommand =
  /** No vehicle may enter the lane (insertion, lane change, junction); vehicles on it drive on. */
  | { type: 'closeLane'; lane: string }
  | { type: 'openLane'; lane: string }
  /** New speed limit (m/s, > 0) of one lane or of every lane of an edge (exactly one of edge, lane). */
  | { type: 'setSpeedLimit'; edge?: string; lane?: string; speed: number }
  /** Switch a traffic light to another of its tlLogic programs (it starts at its phase 0), or "off". */
  | { type: 'setSignalProgram'; tls: string; program: string }
  /** Jump to phase index `phase` of the program in force, for `duration` s (default: the phase's own). */
  | { type: 'setPhase'; tls: string; phase: number; duration?: number }
  /** A vehicle departing at the effective step, on a route (edge ids) or a trip (from, to). */
  | {
      type: 'addVehicle';
      id: string;
      route?: readonly string[];
      from?: string;
      to?: string;
      vType?: string;
      /** lane index or keyword; default "first" (SUMO) */
      departLane?: number | DepartLaneKeyword;
      /** m/s or keyword; default 0 (SUMO) */
      departSpeed?: number | DepartSpeedKeyword;
    }
  /** New rate of a `<flow>` for its departures at or after the effective step (exactly one rate field). */
  | { type: 'setFlow'; flow: string; vehsPerHour?: number; period?: number; probability?: number }
  /** Takes a vehicle off the road (counted as arrived now, SUMO's vaporized), or cancels its departure. */
  | { type: 'removeVehicle'; id: string }
  /** A vehicle's new route (edge ids); on the road, it must start with the edge the vehicle is on. */
  | { type: 'setRoute'; id: string; route: readonly string[] }
  /**
   * A signal program of a light given whole (TraCI's setProgramLogic): added, or replacing the one a
   * command gave the same programID; it runs from `phase` when its programID is the one in force.
   */
  | { type: 'setSignalLogic'; tls: string; programID: string; phase?: number; phases: readonly SignalPhase[] }
  /** One state for every link of a light from now on (TraCI's setRedYellowGreenState: program "online"). */
  | { type: 'setSignalState'; tls: string; state: string };

/** A phase of a command-given signal program: s, and one of SUMO's state letters per link. */
export interface SignalPhase {
  duration: number;
  state: string;
}

/** programID of the one-phase program setSignalState switches to (SUMO's TraCI "online"). */
export const ONLINE_PROGRAM = 'online';
/** s: the duration of the online program's single phase (it never ends on its own) */
export const ONLINE_DURATION = 1e9;

export type SimCommandType = SimCommand['type'];

/** Fields every resolved command carries: its place in the command log and when it applies. */
export interface CommandHead {
  /** position in the run's command log (0, 1, ...) */
  seq: number;
  /** the step at whose start it applies */
  effectiveStep: number;
}

/** Light state value of `ResolvedCommand` setSignalProgram: the light is switched off. */
export const PROGRAM_OFF = -1;

/** A checked command: indices into the network and demand; JSON-serialisable (wire, command log). */
export type ResolvedCommand = CommandHead &
  (
    | { type: 'closeLane'; lane: number }
    | { type: 'openLane'; lane: number }
    | { type: 'setSpeedLimit'; lanes: number[]; speed: number }
    /** program: index into the light's programs, or PROGRAM_OFF */
    | { type: 'setSignalProgram'; tl: number; program: number }
    /** program: the program in force when the command applies (checked against the log) */
    | { type: 'setPhase'; tl: number; program: number; phase: number; duration: number | null }
    | {
        type: 'addVehicle';
        /** demand index the vehicle gets */
        index: number;
        id: string;
        vType: number;
        /** edge indices */
        route: number[];
        /** demand codes (demand.ts DepartLaneCode / DepartSpeedCode, or a value) */
        departLane: number;
        departSpeed: number;
      }
    | {
        type: 'setFlow';
        /** index into demand.flows */
        flow: number;
        /** demand index of the first new vehicle; `count` new vehicles follow */
        index: number;
        count: number;
        /** s between departures, or a per-second probability (0: no more vehicles) */
        rate: { period: number } | { probability: number };
      }
    /** vehicle: its demand index */
    | { type: 'removeVehicle'; vehicle: number }
    /** vehicle: its demand index; route: edge indices */
    | { type: 'setRoute'; vehicle: number; route: number[] }
    /**
     * program: the index the program gets (after the network's programs of the light: Engine.program);
     * start: the phase it runs from now, or -1 when it is only added (another program is in force)
     */
    | {
        type: 'setSignalLogic';
        tl: number;
        program: number;
        programID: string;
        start: number;
        phases: SignalPhase[];
      }
  );

/** What `commandLanes` returns for a command every part must apply. */
export const ALL_PARTS = 'all' as const;

const DEPART_LANE_KEYWORDS: readonly DepartLaneKeyword[] = ['first', 'best', 'free', 'random', 'allowed'];
const DEPART_SPEED_KEYWORDS: readonly DepartSpeedKeyword[] = ['max', 'desired', 'random', 'speedLimit'];

/** Fields each command accepts (besides `type`). */
const FIELDS: { readonly [K in SimCommandType]: readonly string[] } = {
  closeLane: ['lane'],
  openLane: ['lane'],
  setSpeedLimit: ['edge', 'lane', 'speed'],
  setSignalProgram: ['tls', 'program'],
  setPhase: ['tls', 'phase', 'duration'],
  addVehicle: ['id', 'route', 'from', 'to', 'vType', 'departLane', 'departSpeed'],
  setFlow: ['flow', 'vehsPerHour', 'period', 'probability'],
  removeVehicle: ['id'],
  setRoute: ['id', 'route'],
  setSignalLogic: ['tls', 'programID', 'phase', 'phases'],
  setSignalState: ['tls', 'state'],
};
const COMMAND_TYPES = Object.keys(FIELDS) as SimCommandType[];
/** The command names `parseSimCommand` knows (other seed commands, e.g. "global", are the control layer's). */
export const SIM_COMMAND_TYPES: readonly SimCommandType[] = COMMAND_TYPES;
/** Keys of the seeds' envelope besides `param` (type3 and timestamp appear in seed 001). */
const ENVELOPE_KEYS = ['type1', 'type2', 'type3', 'timestamp', 'param'];

/** SUMO's signal state letters (LinkState in network.ts). */
const SIGNAL_LETTERS = 'ryYgGsuoO';
const SIGNAL_STATE = /^[ryYgGsuoO]+$/;

const malformed = (message: string) => new CommandError(CommandStatus.malformed, message);

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/**
 * Reads a command from a request body: our shape `{"type": "closeLane", "lane": "A0B0_0"}` or the
 * seeds' envelope `{"type1": "down", "type2": "closeLane", "param": [{"lane": "A0B0_0"}]}` (whose
 * numbers may be strings, as in seed 001). Throws CommandError 400 naming the field.
 */
export function parseSimCommand(body: unknown): SimCommand {
  if (!isRecord(body)) throw malformed('command: must be a JSON object');
  let name: unknown;
  let fields: Record<string, unknown>;
  let where: string;
  if (body['type'] !== undefined) {
    name = body['type'];
    fields = body;
    where = '';
    if (typeof name !== 'string') throw malformed('type: must be a string naming the command');
  } else if (body['type2'] !== undefined) {
    name = body['type2'];
    if (typeof name !== 'string') throw malformed('type2: must be a string naming the command');
    if (body['type1'] !== undefined && body['type1'] !== 'down')
      throw malformed(`type1: must be "down" for a command, got ${JSON.stringify(body['type1'])}`);
    for (const k of Object.keys(body))
      if (!ENVELOPE_KEYS.includes(k))
        throw malformed(`${k}: unknown envelope field (expected ${ENVELOPE_KEYS.join(', ')})`);
    const param = body['param'];
    if (param === undefined) fields = {};
    else if (Array.isArray(param) && param.length === 1 && isRecord(param[0])) fields = param[0];
    else if (isRecord(param)) fields = param;
    else throw malformed('param: must be a list holding one object of command fields');
    where = 'param[0].';
  } else {
    throw malformed('type: missing (or type2 in the {"type1": "down", "type2": ..., "param": [...]} envelope)');
  }
  if (!(COMMAND_TYPES as string[]).includes(name as string)) {
    throw malformed(
      `${where ? 'type2' : 'type'}: unknown command ${JSON.stringify(name)} (expected one of ${COMMAND_TYPES.join(', ')})`,
    );
  }
  const type = name as SimCommandType;
  const allowed = FIELDS[type];
  for (const k of Object.keys(fields)) {
    if (k === 'type' && !where) continue;
    if (!allowed.includes(k))
      throw malformed(`${where}${k}: unknown field of ${type} (expected ${allowed.join(', ')})`);
  }
  const f = new FieldReader(fields, `${where}`, type);
  switch (type) {
    case 'closeLane':
    case 'openLane':
      return { type, lane: f.id('lane') };
    case 'setSpeedLimit': {
      const edge = f.optionalId('edge');
      const lane = f.optionalId('lane');
      if ((edge === undefined) === (lane === undefined))
        throw malformed(`${where}edge: ${type} needs exactly one of edge and lane`);
      const speed = f.number('speed', (x) => x > 0, 'a speed in m/s greater than 0');
      return edge !== undefined ? { type, edge, speed } : { type, lane: lane!, speed };
    }
    case 'setSignalProgram':
      return { type, tls: f.id('tls'), program: f.id('program') };
    case 'setPhase': {
      const cmd: SimCommand = {
        type,
        tls: f.id('tls'),
        phase: f.number('phase', (x) => Number.isInteger(x) && x >= 0, 'a phase index (integer >= 0)'),
      };
      const duration = f.optionalNumber('duration', (x) => x > 0, 'a duration in s greater than 0');
      return duration === undefined ? cmd : { ...cmd, duration };
    }
    case 'addVehicle': {
      const id = f.id('id');
      const route = f.optionalRoute('route');
      const from = f.optionalId('from');
      const to = f.optionalId('to');
      if (route !== undefined && (from !== undefined || to !== undefined))
        throw malformed(`${where}route: give either route or from/to, not both`);
      if (route === undefined && (from === undefined || to === undefined))
        throw malformed(`${where}route: addVehicle needs a route (edge ids) or both from and to`);
      const cmd: SimCommand = { type, id, ...(route !== undefined ? { route } : { from: from!, to: to! }) };
      const vType = f.optionalId('vType');
      const departLane = f.optionalNumberOrKeyword(
        'departLane',
        DEPART_LANE_KEYWORDS,
        (x) => Number.isInteger(x) && x >= 0,
        'a lane index (integer >= 0)',
      );
      const departSpeed = f.optionalNumberOrKeyword(
        'departSpeed',
        DEPART_SPEED_KEYWORDS,
        (x) => x >= 0,
        'a speed in m/s (>= 0)',
      );
      return {
        ...cmd,
        ...(vType !== undefined ? { vType } : {}),
        ...(departLane !== undefined ? { departLane: departLane as number | DepartLaneKeyword } : {}),
        ...(departSpeed !== undefined ? { departSpeed: departSpeed as number | DepartSpeedKeyword } : {}),
      };
    }
    case 'setFlow': {
      const flow = f.id('flow');
      const vehsPerHour = f.optionalNumber('vehsPerHour', (x) => x >= 0, 'vehicles per hour (>= 0)');
      const period = f.optionalNumber('period', (x) => x > 0, 'seconds between departures (> 0)');
      const probability = f.optionalNumber(
        'probability',
        (x) => x >= 0 && x <= 1,
        'a probability per second in [0, 1]',
      );
      const given = [vehsPerHour, period, probability].filter((x) => x !== undefined).length;
      if (given !== 1)
        throw malformed(`${where}vehsPerHour: setFlow needs exactly one of vehsPerHour, period, probability`);
      if (vehsPerHour !== undefined) return { type, flow, vehsPerHour };
      if (period !== undefined) return { type, flow, period };
      return { type, flow, probability: probability! };
    }
    case 'removeVehicle':
      return { type, id: f.id('id') };
    case 'setRoute': {
      const id = f.id('id');
      const route = f.optionalRoute('route');
      if (route === undefined) throw malformed(`${where}route: setRoute needs a non-empty list of edge ids`);
      return { type, id, route };
    }
    case 'setSignalLogic': {
      const phases = f.signalPhases('phases');
      const phase = f.optionalNumber('phase', (x) => Number.isInteger(x) && x >= 0, 'a phase index (integer >= 0)');
      return {
        type,
        tls: f.id('tls'),
        programID: f.id('programID'),
        phases,
        ...(phase !== undefined ? { phase } : {}),
      };
    }
    case 'setSignalState':
      return { type, tls: f.id('tls'), state: f.signalState('state') };
    default:
      return assertNever(type, 'command type');
  }
}

/** Reads typed fields of one command, naming `where` + field in every error. */
class FieldReader {
  constructor(
    private readonly o: Record<string, unknown>,
    private readonly where: string,
    private readonly type: string,
  ) {}

  private fail(k: string, what: string): never {
    throw malformed(`${this.where}${k}: ${this.type} needs ${what}, got ${JSON.stringify(this.o[k]) ?? 'nothing'}`);
  }

  id(k: string): string {
    const x = this.optionalId(k);
    if (x === undefined) this.fail(k, 'a non-empty string');
    return x;
  }

  optionalId(k: string): string | undefined {
    const x = this.o[k];
    if (x === undefined) return undefined;
    if (typeof x !== 'string' || x === '') this.fail(k, 'a non-empty string');
    return x;
  }

  /** A number, or (seed envelope style) a string holding one. */
  private toNumber(x: unknown): number | undefined {
    if (typeof x === 'number') return Number.isFinite(x) ? x : undefined;
    if (typeof x === 'string' && x.trim() !== '') {
      const n = Number(x);
      return Number.isFinite(n) ? n : undefined;
    }
    return undefined;
  }

  number(k: string, ok: (x: number) => boolean, what: string): number {
    const x = this.optionalNumber(k, ok, what);
    if (x === undefined) this.fail(k, what);
    return x;
  }

  optionalNumber(k: string, ok: (x: number) => boolean, what: string): number | undefined {
    if (this.o[k] === undefined) return undefined;
    const n = this.toNumber(this.o[k]);
    if (n === undefined || !ok(n)) this.fail(k, what);
    return n;
  }

  optionalNumberOrKeyword(
    k: string,
    keywords: readonly string[],
    ok: (x: number) => boolean,
    what: string,
  ): number | string | undefined {
    const x = this.o[k];
    if (x === undefined) return undefined;
    if (typeof x === 'string' && keywords.includes(x)) return x;
    const n = this.toNumber(x);
    if (n === undefined || !ok(n)) this.fail(k, `${what} or one of ${keywords.join(', ')}`);
    return n;
  }

  /** A state string of SUMO's signal letters. */
  signalState(k: string): string {
    const x = this.o[k];
    if (typeof x !== 'string' || !SIGNAL_STATE.test(x))
      this.fail(k, `a state of SUMO's signal letters (${SIGNAL_LETTERS})`);
    return x;
  }

  /** A non-empty list of phases {duration: s > 0, state}. */
  signalPhases(k: string): SignalPhase[] {
    const x = this.o[k];
    const ok = (p: unknown): p is SignalPhase =>
      typeof p === 'object' &&
      p !== null &&
      typeof (p as SignalPhase).duration === 'number' &&
      (p as SignalPhase).duration > 0 &&
      Number.isFinite((p as SignalPhase).duration) &&
      typeof (p as SignalPhase).state === 'string' &&
      SIGNAL_STATE.test((p as SignalPhase).state);
    if (!Array.isArray(x) || x.length === 0 || !x.every(ok))
      this.fail(k, `a non-empty list of {"duration": s > 0, "state": SUMO's signal letters (${SIGNAL_LETTERS})}`);
    return x.map((p: SignalPhase) => ({ duration: p.duration, state: p.state }));
  }

  /** A list of edge ids, or a string of them separated by spaces (SUMO's `edges` attribute). */
  optionalRoute(k: string): string[] | undefined {
    const x = this.o[k];
    if (x === undefined) return undefined;
    const list = typeof x === 'string' ? x.trim().split(/\s+/) : x;
    if (!Array.isArray(list) || list.length === 0 || !list.every((e) => typeof e === 'string' && e !== '')) {
      this.fail(k, 'a non-empty list of edge ids');
    }
    return list as string[];
  }
}

/** The commands of `log` that apply at the start of `step`, in log order. */
export function commandsDue(log: readonly ResolvedCommand[], step: number): ResolvedCommand[] {
  return log.filter((c) => c.effectiveStep === step).sort((a, b) => a.seq - b.seq);
}

/**
 * The commands a part restored from a checkpoint taken at step `checkpointStep` must apply again while
 * it re-runs: those with effectiveStep >= checkpointStep (a snapshot at step c is taken before the
 * commands of step c are applied).
 */
export function commandsToReplay(log: readonly ResolvedCommand[], checkpointStep: number): ResolvedCommand[] {
  return log
    .filter((c) => c.effectiveStep >= checkpointStep)
    .sort((a, b) => a.effectiveStep - b.effectiveStep || a.seq - b.seq);
}
