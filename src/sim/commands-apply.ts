/**
 * Applying online commands to an engine, and the state they change as part of the simulation state:
 * snapshot (serialise/restore), dump (per part, owned lanes only, mergeable) and state hash.
 *
 * The state lives in the engine's typed arrays (engine.ts: laneSpeed, laneClosed, tl*), read on the
 * hot path without allocation; this file writes them only when a command applies or a snapshot is
 * restored.
 */
import { assertNever } from '../errors.js';
import type { Demand } from './demand.js';
import type { Engine } from './engine.js';
import { TL_OFF } from './engine.js';
import { commandsDue, type ResolvedCommand, type SignalPhase } from './commands.js';
import type { TlProgram } from './network.js';
import { demandChange } from './commands-resolve.js';
import { startActuated } from './actuated-run.js';
import { applyVehicleCommand, applyVehicleDemand } from './commands-vehicle.js';

/**
 * Applies `c` to `e` at the start of step `c.effectiveStep` (call it when `e.step === c.effectiveStep`,
 * before `doStep()`). Works on a whole-network engine and on a partition engine; lanes the command
 * names that the part does not own are changed too (harmless: nothing of theirs is simulated here).
 */
export function applyCommand(e: Engine, c: ResolvedCommand): void {
  if (e.step !== c.effectiveStep)
    throw new Error(
      `command ${c.seq} (${c.type}) applies at step ${c.effectiveStep}, but the engine is at step ${e.step}`,
    );
  const t = e.time();
  switch (c.type) {
    case 'closeLane':
      setClosed(e, c.lane, 1);
      break;
    case 'openLane':
      setClosed(e, c.lane, 0);
      break;
    case 'setSpeedLimit':
      for (const lane of c.lanes) e.laneSpeed[lane] = c.speed;
      break;
    case 'setSignalProgram': {
      const tl = c.tl;
      e.tlCustom[tl] = 1;
      e.tlProgram[tl] = c.program < 0 ? TL_OFF : c.program;
      if (c.program >= 0) e.tlStates[tl] = e.program(tl, c.program).states;
      // the new program starts its phase 0 now
      e.tlAnchor[tl] = t;
      e.tlHoldPhase[tl] = -1;
      e.tlHoldUntil[tl] = 0;
      // an actuated program starts at its phase 0 too (its events run from now)
      startActuated(e, tl, false);
      break;
    }
    case 'setPhase': {
      const tl = c.tl;
      const prog = e.program(tl, c.program);
      const ends = prog.phaseEnds;
      const duration = c.duration ?? ends[c.phase]! - (c.phase > 0 ? ends[c.phase - 1]! : 0);
      e.tlCustom[tl] = 1;
      e.tlProgram[tl] = c.program;
      e.tlStates[tl] = prog.states;
      e.tlHoldPhase[tl] = c.phase;
      e.tlHoldUntil[tl] = t + duration;
      // after the hold the program goes on with the next phase
      e.tlAnchor[tl] = t + duration - ends[c.phase]!;
      if (prog.act) {
        // actuated: the phase starts now; its next switch event comes after the duration, and with
        // an explicit duration that event switches whatever the loops say (SUMO: myTraCISwitch)
        const now = e.timeMs();
        e.tlAct[tl] = 1;
        e.tlActPhase[tl] = c.phase;
        e.tlLastSwitch[tl] = now;
        e.tlNextSwitch[tl] = now + Math.round(duration * 1000);
        e.tlForce[tl] = c.duration !== null && c.duration !== undefined ? 1 : 0;
      } else {
        e.tlAct[tl] = 0;
      }
      break;
    }
    case 'addVehicle':
    case 'setFlow':
      extendDemand(e, c);
      break;
    case 'removeVehicle':
    case 'setRoute':
      applyVehicleCommand(e, c);
      break;
    case 'setSignalLogic':
      applySignalLogic(e, c);
      break;
    default:
      assertNever(c, 'command');
  }
}

/**
 * A program given whole: stored as program `c.program` of the light (replacing one of the same
 * index), and, when it runs now, started at phase `c.start` (fixed time: a command-given program
 * has no detectors).
 */
function applySignalLogic(e: Engine, c: Extract<ResolvedCommand, { type: 'setSignalLogic' }>): void {
  const tl = c.tl;
  const prog = compileLogic(c.programID, c.phases);
  setExtraProgram(e, tl, c.program, prog);
  if (c.start < 0) return;
  e.tlCustom[tl] = 1;
  e.tlProgram[tl] = c.program;
  e.tlStates[tl] = prog.states;
  // the cycle is anchored so that phase `start` begins now
  e.tlAnchor[tl] = e.time() - (c.start > 0 ? prog.phaseEnds[c.start - 1]! : 0);
  e.tlHoldPhase[tl] = -1;
  e.tlHoldUntil[tl] = 0;
  e.tlAct[tl] = 0;
}

function setExtraProgram(e: Engine, tl: number, program: number, prog: TlProgram): void {
  const k = program - e.net.trafficLights[tl]!.programs.length;
  const extra = e.tlExtra[tl]!;
  if (k < 0 || k > extra.length)
    throw new Error(`program ${program} of light ${tl} does not follow the ${extra.length} added`);
  extra[k] = prog;
}

/** The phases each command-given program was compiled from (a snapshot stores them as given, exactly) */
const givenPhases = new WeakMap<TlProgram, SignalPhase[]>();

function compileLogic(programID: string, phases: readonly SignalPhase[]): TlProgram {
  const phaseEnds = new Float64Array(phases.length);
  let t = 0;
  phases.forEach((p, i) => (phaseEnds[i] = t += p.duration));
  const prog: TlProgram = {
    programID,
    offset: 0,
    phaseEnds,
    cycle: t,
    states: phases.map((p) => Uint8Array.from(p.state, (ch) => ch.charCodeAt(0))),
  };
  givenPhases.set(
    prog,
    phases.map((p) => ({ ...p })),
  );
  return prog;
}

/** Applies the commands of `log` due at the engine's current step (before `doStep()`); returns how many. */
export function applyDueCommands(e: Engine, log: readonly ResolvedCommand[]): number {
  const due = commandsDue(log, e.step);
  for (const c of due) applyCommand(e, c);
  return due.length;
}

/**
 * Brings a demand that no engine steps (e.g. the one a master uses to write tripinfo and summaries
 * from merged dumps) up to date with the vehicles the commands of `log` added, up to and including
 * step `throughStep`. Idempotent.
 */
export function applyDemandCommands(demand: Demand, log: readonly ResolvedCommand[], throughStep = Infinity): void {
  const ordered = [...log].sort((a, b) => a.effectiveStep - b.effectiveStep || a.seq - b.seq);
  for (const c of ordered) {
    if (c.effectiveStep > throughStep) break;
    if ((c.type === 'addVehicle' || c.type === 'setFlow') && !demand.appliedCommands.has(c.seq)) {
      const { entries, cancel } = demandChange(demand, c);
      demand.extend(c.seq, c.index, entries, cancel, c.type === 'setFlow' ? c.flow : -1);
    } else if (c.type === 'removeVehicle' || c.type === 'setRoute') applyVehicleDemand(demand, c);
  }
}

/** After `laneClosed` changed: its count, and the lane-change cache (continuations computed with the old closures). */
function closuresChanged(e: Engine): void {
  let n = 0;
  for (let lane = 0; lane < e.laneClosed.length; lane++) if (e.laneClosed[lane] !== 0) n++;
  e.closedLaneCount = n;
  e.v.contVid.fill(-1);
}

/**
 * Opens or closes a lane and re-chooses the links of the vehicles (on lanes this engine owns) that
 * could take a link into it: their choice depends on which lanes are open (Engine.computeLink).
 */
function setClosed(e: Engine, lane: number, closed: 0 | 1): void {
  e.laneClosed[lane] = closed;
  closuresChanged(e);
  const net = e.net;
  if (lane >= net.normalLaneCount) return;
  for (let k = net.laneInStart[lane]!, end = net.laneInStart[lane + 1]!; k < end; k++) {
    const from = net.linkFrom[net.laneIn[k]!]!;
    if (!e.ownedLane[from]) continue;
    for (let s = e.laneFront[from]!; s >= 0; s = e.v.behind[s]!) e.v.link[s] = e.computeLink(s, from);
  }
}

/** Adds the command's vehicles to the demand (once per demand object) and queues ours for departure. */
function extendDemand(e: Engine, c: Extract<ResolvedCommand, { type: 'addVehicle' | 'setFlow' }>): void {
  const d = e.demand;
  if (!d.appliedCommands.has(c.seq)) {
    const { entries, cancel } = demandChange(d, c);
    d.extend(c.seq, c.index, entries, cancel, c.type === 'setFlow' ? c.flow : -1);
  }
  if (e.trips.count < d.count) e.trips = e.trips.grownTo(d.count);
  const n = c.type === 'addVehicle' ? 1 : c.count;
  for (let id = c.index; id < c.index + n; id++) {
    const edge = d.routeEdges[d.routeStart[d.route[id]!]!]!;
    if (e.layout && e.layout.edgeOwner[edge] !== e.layout.part) continue;
    queueExtra(e, id);
  }
  e.demandCommands.push(c);
}

/** Inserts demand index `id` into `extraDepartures`, keeping (depart step, index) order. */
function queueExtra(e: Engine, id: number): void {
  const list = e.extraDepartures;
  const ds = e.demand.departStep;
  let at = list.length;
  while (at > e.nextExtra && (ds[list[at - 1]!]! > ds[id]! || (ds[list[at - 1]!] === ds[id] && list[at - 1]! > id)))
    at--;
  list.splice(at, 0, id);
}

// ---- snapshot ----

/** The command state of an engine, as JSON (numbers round-trip exactly). */
interface CommandStateJson {
  /** every lane closed in this engine (owned or not: a part also keeps what its neighbours' lanes need) */
  closed: number[];
  /** [lane, speed] of every lane whose limit differs from the network's */
  speeds: [number, number][];
  /** [tl, program, anchor, holdPhase, holdUntil] of every light a command changed */
  signals: [number, number, number, number, number][];
  /** the commands that changed the demand, in the order applied */
  demand: ResolvedCommand[];
  extra: number[];
  nextExtra: number;
  /** [tl, program, programID, phases] of every program a command gave (absent in older snapshots) */
  programs?: [number, number, string, SignalPhase[]][];
}

/** Serialises the engine's command state (for snapshot.ts). */
export function writeCommandState(e: Engine): Buffer {
  const s: CommandStateJson = {
    closed: [],
    speeds: [],
    signals: [],
    demand: e.demandCommands,
    extra: e.extraDepartures,
    nextExtra: e.nextExtra,
    programs: [],
  };
  e.tlExtra.forEach((list, tl) =>
    list.forEach((p, k) =>
      s.programs!.push([tl, e.net.trafficLights[tl]!.programs.length + k, p.programID, givenPhases.get(p)!]),
    ),
  );
  for (let lane = 0; lane < e.net.laneCount; lane++) {
    if (e.laneClosed[lane]) s.closed.push(lane);
    if (e.laneSpeed[lane] !== e.net.laneSpeed[lane]) s.speeds.push([lane, e.laneSpeed[lane]!]);
  }
  for (let tl = 0; tl < e.tlCustom.length; tl++) {
    if (e.tlCustom[tl]) s.signals.push([tl, e.tlProgram[tl]!, e.tlAnchor[tl]!, e.tlHoldPhase[tl]!, e.tlHoldUntil[tl]!]);
  }
  return Buffer.from(JSON.stringify(s));
}

/** Resets the engine's command state to the network's defaults. */
export function resetCommandState(e: Engine): void {
  e.laneSpeed.set(e.net.laneSpeed);
  e.laneClosed.fill(0);
  closuresChanged(e);
  e.tlCustom.fill(0);
  e.tlProgram.fill(0);
  e.net.trafficLights.forEach((tl, i) => (e.tlStates[i] = tl.states));
  e.tlAnchor.fill(0);
  e.tlHoldPhase.fill(-1);
  e.tlHoldUntil.fill(0);
  e.net.trafficLights.forEach((tl, i) => (e.tlAct[i] = tl.act ? 1 : 0));
  e.extraDepartures = [];
  e.nextExtra = 0;
  e.demandCommands = [];
  for (const list of e.tlExtra) list.length = 0;
}

/**
 * Restores what `writeCommandState` wrote (before the vehicles are restored: their links depend on
 * closed lanes). Re-applies the demand commands to the engine's demand, which skips those it already
 * has (a demand shared with live parts of the run may be ahead).
 */
export function readCommandState(e: Engine, bytes: Buffer): void {
  const s = JSON.parse(bytes.toString()) as CommandStateJson;
  resetCommandState(e);
  for (const [tl, program, programID, phases] of s.programs ?? [])
    setExtraProgram(e, tl, program, compileLogic(programID, phases));
  for (const lane of s.closed) e.laneClosed[lane] = 1;
  closuresChanged(e);
  for (const [lane, speed] of s.speeds) e.laneSpeed[lane] = speed;
  for (const [tl, program, anchor, holdPhase, holdUntil] of s.signals) {
    e.tlCustom[tl] = 1;
    e.tlProgram[tl] = program;
    if (program >= 0) e.tlStates[tl] = e.program(tl, program).states;
    e.tlAnchor[tl] = anchor;
    e.tlHoldPhase[tl] = holdPhase;
    e.tlHoldUntil[tl] = holdUntil;
    e.tlAct[tl] = program >= 0 && e.program(tl, program).act ? 1 : 0;
  }
  const d = e.demand;
  for (const c of s.demand) {
    if (c.type === 'removeVehicle' || c.type === 'setRoute') {
      applyVehicleDemand(d, c);
      continue;
    }
    if (c.type !== 'addVehicle' && c.type !== 'setFlow')
      throw new Error(`command ${c.seq} (${c.type}) listed as a demand command`);
    if (!d.appliedCommands.has(c.seq)) {
      const { entries, cancel } = demandChange(d, c);
      d.extend(c.seq, c.index, entries, cancel, c.type === 'setFlow' ? c.flow : -1);
    }
  }
  if (e.trips.count < d.count) e.trips = e.trips.grownTo(d.count);
  e.demandCommands = s.demand;
  e.extraDepartures = s.extra;
  e.nextExtra = s.nextExtra;
}

// ---- dump and hash ----

/** The command state in a dump: what this engine owns of it (the merge of the parts equals the whole). */
export interface CommandDump {
  /** closed lanes owned here, ascending */
  closed: number[];
  /** [lane, speed] for owned lanes whose limit differs from the network's, by lane */
  speeds: [number, number][];
  /** [tl, program, anchor, holdPhase, holdUntil] for changed lights owned here (the part of their first link), by tl */
  signals: [number, number, number, number, number][];
  /** number of demand commands applied (every part applies them all) */
  demandCommands: number;
}

/** This engine's share of the command state, or undefined when no command changed anything here. */
export function dumpCommandState(e: Engine): CommandDump | undefined {
  const d: CommandDump = { closed: [], speeds: [], signals: [], demandCommands: e.demandCommands.length };
  const net = e.net;
  for (let lane = 0; lane < net.laneCount; lane++) {
    if (!e.ownedLane[lane]) continue;
    if (e.laneClosed[lane]) d.closed.push(lane);
    if (e.laneSpeed[lane] !== net.laneSpeed[lane]) d.speeds.push([lane, e.laneSpeed[lane]!]);
  }
  for (let tl = 0; tl < e.tlCustom.length; tl++) {
    const first = net.tlFirstLink[tl]!;
    if (!e.tlCustom[tl] || first < 0 || !e.ownedLane[net.linkLane[first]!]) continue;
    d.signals.push([tl, e.tlProgram[tl]!, e.tlAnchor[tl]!, e.tlHoldPhase[tl]!, e.tlHoldUntil[tl]!]);
  }
  return isEmpty(d) ? undefined : d;
}

function isEmpty(d: CommandDump): boolean {
  return d.closed.length === 0 && d.speeds.length === 0 && d.signals.length === 0 && d.demandCommands === 0;
}

/** Merges the parts' command dumps (each lane and light is owned by one part). */
export function mergeCommandDumps(dumps: readonly (CommandDump | undefined)[]): CommandDump | undefined {
  const closed = new Set<number>();
  const speeds = new Map<number, [number, number]>();
  const signals = new Map<number, [number, number, number, number, number]>();
  let demandCommands = 0;
  for (const d of dumps) {
    if (!d) continue;
    for (const l of d.closed) closed.add(l);
    for (const s of d.speeds) speeds.set(s[0], s);
    for (const s of d.signals) signals.set(s[0], s);
    demandCommands = Math.max(demandCommands, d.demandCommands);
  }
  const merged: CommandDump = {
    closed: [...closed].sort((a, b) => a - b),
    speeds: [...speeds.values()].sort((a, b) => a[0] - b[0]),
    signals: [...signals.values()].sort((a, b) => a[0] - b[0]),
    demandCommands,
  };
  return isEmpty(merged) ? undefined : merged;
}

/** The bytes of a command dump that the state hash covers. */
export function commandDumpBytes(d: CommandDump): Buffer {
  const b = Buffer.alloc(16 + d.closed.length * 4 + d.speeds.length * 12 + d.signals.length * 32);
  let off = 0;
  off = b.writeInt32LE(d.closed.length, off);
  off = b.writeInt32LE(d.speeds.length, off);
  off = b.writeInt32LE(d.signals.length, off);
  off = b.writeInt32LE(d.demandCommands, off);
  for (const l of d.closed) off = b.writeInt32LE(l, off);
  for (const [lane, speed] of d.speeds) {
    off = b.writeInt32LE(lane, off);
    off = b.writeDoubleLE(speed, off);
  }
  for (const [tl, program, anchor, holdPhase, holdUntil] of d.signals) {
    off = b.writeInt32LE(tl, off);
    off = b.writeInt32LE(program, off);
    off = b.writeDoubleLE(anchor, off);
    off = b.writeInt32LE(holdPhase, off);
    off = b.writeInt32LE(0, off);
    off = b.writeDoubleLE(holdUntil, off);
  }
  return b;
}
