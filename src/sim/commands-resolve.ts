/**
 * Checking online commands against the network and demand (`resolveSimCommand`), and which parts of a
 * partitioned run must receive them (`commandLanes`). Pure functions of (network, demand, command log).
 */
import { CommandError, CommandStatus, assertNever } from '../errors.js';
import type { Demand } from './demand.js';
import { ArrivalPosCode, DepartLaneCode, DepartPosCode, DepartSpeedCode } from './demand.js';
import type { DemandEntry } from './demand.js';
import type { Network } from './network.js';
import { Router } from './routing.js';
import { Purpose, uniform } from './rng.js';
import {
  ALL_PARTS,
  ONLINE_DURATION,
  ONLINE_PROGRAM,
  PROGRAM_OFF,
  type CommandHead,
  type ResolvedCommand,
  type SignalPhase,
  type SimCommand,
} from './commands.js';

/** Where a command goes in the run's inputs. */
export interface ResolveContext {
  /** the step at whose start it applies; >= the effectiveStep of every command in `prior` */
  effectiveStep: number;
  /** the run's command log so far (already resolved), in log order */
  prior: readonly ResolvedCommand[];
}

/** Upper bound on the vehicles one setFlow may create (a typo in a rate should not exhaust memory). */
export const MAX_FLOW_VEHICLES = 1_000_000;

const notFound = (m: string) => new CommandError(CommandStatus.notFound, m);
const malformed = (m: string) => new CommandError(CommandStatus.malformed, m);
const conflict = (m: string) => new CommandError(CommandStatus.conflict, m);

const routers = new WeakMap<Network, Map<number, Router>>();
const baseIds = new WeakMap<Demand, Set<string>>();
const demandIds = new WeakMap<Demand, Map<string, number>>();

/**
 * Checks every target of `cmd` and returns its index-based form for the wire and the command log.
 * Throws CommandError: 404 for an unknown lane/edge/tls/program/flow/vType, 400 for a route that is
 * not connected or a value out of range, 409 for a vehicle id already used (in the scenario or by an
 * earlier addVehicle in `ctx.prior`).
 *
 * `ctx.prior` is needed because demand indices of added vehicles and the program a setPhase refers
 * to follow from the earlier commands (the demand object itself may not have applied them yet).
 */
export function resolveSimCommand(net: Network, demand: Demand, cmd: SimCommand, ctx: ResolveContext): ResolvedCommand {
  const { effectiveStep, prior } = ctx;
  if (!Number.isInteger(effectiveStep) || effectiveStep < 0)
    throw malformed(`effectiveStep: must be an integer >= 0, got ${effectiveStep}`);
  const last = prior[prior.length - 1];
  if (last && effectiveStep < last.effectiveStep) {
    throw conflict(
      `effectiveStep: ${effectiveStep} is before step ${last.effectiveStep} of command ${last.seq} in the log`,
    );
  }
  const head: CommandHead = { seq: last ? last.seq + 1 : 0, effectiveStep };
  const laneOf = (id: string, field: string) => {
    const l = net.laneIndex.get(id);
    if (l === undefined) throw notFound(`${cmd.type}.${field}: unknown lane "${id}"`);
    return l;
  };
  const edgeOf = (id: string, field: string) => {
    const e = net.edgeIndex.get(id);
    if (e === undefined) throw notFound(`${cmd.type}.${field}: unknown edge "${id}"`);
    return e;
  };
  const tlOf = (id: string) => {
    const t = net.trafficLights.findIndex((tl) => tl.id === id);
    if (t < 0) throw notFound(`${cmd.type}.tls: unknown traffic light "${id}"`);
    return t;
  };
  switch (cmd.type) {
    case 'closeLane':
    case 'openLane':
      return { ...head, type: cmd.type, lane: laneOf(cmd.lane, 'lane') };
    case 'setSpeedLimit': {
      let lanes: number[];
      if (cmd.edge !== undefined) {
        const e = edgeOf(cmd.edge, 'edge');
        lanes = Array.from({ length: net.edgeLaneCount[e]! }, (_, k) => net.edgeFirstLane[e]! + k);
      } else {
        lanes = [laneOf(cmd.lane!, 'lane')];
      }
      if (!(cmd.speed > 0) || !Number.isFinite(cmd.speed))
        throw malformed(`setSpeedLimit.speed: must be a speed in m/s greater than 0, got ${cmd.speed}`);
      return { ...head, type: 'setSpeedLimit', lanes, speed: cmd.speed };
    }
    case 'setSignalProgram': {
      const tl = tlOf(cmd.tls);
      if (cmd.program === 'off') return { ...head, type: 'setSignalProgram', tl, program: PROGRAM_OFF };
      const light = net.trafficLights[tl]!;
      const program = light.programs.findIndex((p) => p.programID === cmd.program);
      if (program < 0) {
        throw notFound(
          `setSignalProgram.program: traffic light "${cmd.tls}" has no program "${cmd.program}" (it has ${light.programs.map((p) => `"${p.programID}"`).join(', ')}, and "off")`,
        );
      }
      const problem = light.programs[program]!.problem;
      if (problem) throw malformed(`setSignalProgram.program: ${problem}`);
      return { ...head, type: 'setSignalProgram', tl, program };
    }
    case 'setPhase': {
      const tl = tlOf(cmd.tls);
      const program = programInForce(prior, tl);
      if (program === PROGRAM_OFF)
        throw conflict(`setPhase.tls: traffic light "${cmd.tls}" is switched off; switch a program on first`);
      const prog = programOf(net, prior, tl, program);
      if (!Number.isInteger(cmd.phase) || cmd.phase < 0 || cmd.phase >= prog.phases) {
        throw malformed(
          `setPhase.phase: traffic light "${cmd.tls}" program "${prog.programID}" has phases 0..${prog.phases - 1}, got ${cmd.phase}`,
        );
      }
      if (cmd.duration !== undefined && !(cmd.duration > 0 && Number.isFinite(cmd.duration))) {
        throw malformed(`setPhase.duration: must be a duration in s greater than 0, got ${cmd.duration}`);
      }
      return { ...head, type: 'setPhase', tl, program, phase: cmd.phase, duration: cmd.duration ?? null };
    }
    case 'addVehicle':
      return resolveAddVehicle(net, demand, cmd, head, prior);
    case 'setFlow': {
      const flow = demand.flowIndex.get(cmd.flow);
      if (flow === undefined) throw notFound(`setFlow.flow: unknown flow "${cmd.flow}"`);
      // vehsPerHour 0 (no more vehicles) as probability 0: the log stays JSON (no Infinity period)
      const rate =
        cmd.probability !== undefined || cmd.vehsPerHour === 0
          ? { probability: cmd.probability ?? 0 }
          : { period: cmd.period ?? 3600 / cmd.vehsPerHour! };
      const count = flowDepartSteps(demand, flow, rate, effectiveStep).length;
      return { ...head, type: 'setFlow', flow, index: nextDemandIndex(demand, prior), count, rate };
    }
    case 'removeVehicle':
      return { ...head, type: 'removeVehicle', vehicle: vehicleOf(demand, cmd.id, cmd.type, prior) };
    case 'setRoute': {
      const vehicle = vehicleOf(demand, cmd.id, cmd.type, prior);
      const route = cmd.route.map((id) => edgeOf(id, 'route'));
      const cls = demand.types[typeOfVehicle(demand, vehicle, prior)]!.vClass;
      for (let i = 0; i + 1 < route.length; i++) {
        if (!net.edgesConnected(route[i]!, route[i + 1]!, cls))
          throw malformed(`setRoute.route: no connection from edge "${cmd.route[i]}" to "${cmd.route[i + 1]}"`);
      }
      return { ...head, type: 'setRoute', vehicle, route };
    }
    case 'setSignalLogic':
      return resolveSignalLogic(net, head, prior, tlOf(cmd.tls), cmd.tls, cmd.programID, cmd.phases, cmd.phase ?? 0);
    case 'setSignalState':
      return resolveSignalLogic(net, head, prior, tlOf(cmd.tls), cmd.tls, ONLINE_PROGRAM, [
        { duration: ONLINE_DURATION, state: cmd.state },
      ]);
    default:
      return assertNever(cmd, 'command');
  }
}

/**
 * A program given whole: its index (a program an earlier command gave the same programID is
 * replaced; else the next after the network's and the commands' programs of the light), and whether
 * it runs now — the online program of setSignalState always, another when its programID is the
 * one in force (SUMO's setProgramLogic).
 */
function resolveSignalLogic(
  net: Network,
  head: CommandHead,
  prior: readonly ResolvedCommand[],
  tl: number,
  tls: string,
  programID: string,
  phases: readonly SignalPhase[],
  phase = 0,
): ResolvedCommand {
  const links = net.trafficLights[tl]!.states[0]?.length ?? 0;
  for (const [i, p] of phases.entries()) {
    if (p.state.length !== links)
      throw malformed(
        `setSignalLogic.phases[${i}].state: traffic light "${tls}" has ${links} links, the state "${p.state}" ${p.state.length}`,
      );
  }
  if (phase >= phases.length)
    throw malformed(`setSignalLogic.phase: the program has phases 0..${phases.length - 1}, got ${phase}`);
  const own = net.trafficLights[tl]!.programs.length;
  const added: string[] = [];
  for (const c of prior)
    if (c.type === 'setSignalLogic' && c.tl === tl && !added.includes(c.programID)) added.push(c.programID);
  const known = added.indexOf(programID);
  const program = own + (known >= 0 ? known : added.length);
  const inForce = programOf(net, prior, tl, programInForce(prior, tl)).programID;
  const start = programID === ONLINE_PROGRAM || programID === inForce ? phase : -1;
  return { ...head, type: 'setSignalLogic', tl, program, programID, start, phases: phases.map((p) => ({ ...p })) };
}

/** The id and phase count of program `program` of light `tl` after the commands of `prior`. */
function programOf(net: Network, prior: readonly ResolvedCommand[], tl: number, program: number) {
  const own = net.trafficLights[tl]!.programs;
  if (program < 0) return { programID: 'off', phases: 0 };
  if (program < own.length) return { programID: own[program]!.programID, phases: own[program]!.phaseEnds.length };
  let found: { programID: string; phases: number } | undefined;
  for (const c of prior)
    if (c.type === 'setSignalLogic' && c.tl === tl && c.program === program)
      found = { programID: c.programID, phases: c.phases.length };
  return found ?? { programID: '?', phases: 0 };
}

/** The demand index of vehicle `id`: one of the demand's, or one an earlier addVehicle of `prior` adds. */
function vehicleOf(demand: Demand, id: string, type: string, prior: readonly ResolvedCommand[]): number {
  for (const c of prior) if (c.type === 'addVehicle' && c.id === id) return c.index;
  let index = demandIds.get(demand);
  if (!index || index.size < demand.count) {
    index = new Map(demand.ids.map((x, i) => [x, i]));
    demandIds.set(demand, index);
  }
  const i = index.get(id);
  if (i === undefined) throw notFound(`${type}.id: unknown vehicle "${id}"`);
  return i;
}

function typeOfVehicle(demand: Demand, vehicle: number, prior: readonly ResolvedCommand[]): number {
  for (const c of prior) if (c.type === 'addVehicle' && c.index === vehicle) return c.vType;
  return demand.type[vehicle]!;
}

function resolveAddVehicle(
  net: Network,
  demand: Demand,
  cmd: Extract<SimCommand, { type: 'addVehicle' }>,
  head: CommandHead,
  prior: readonly ResolvedCommand[],
): ResolvedCommand {
  let ids = baseIds.get(demand);
  if (!ids) baseIds.set(demand, (ids = new Set(demand.ids.slice(0, demand.baseCount))));
  if (ids.has(cmd.id) || prior.some((c) => c.type === 'addVehicle' && c.id === cmd.id)) {
    throw conflict(`addVehicle.id: vehicle "${cmd.id}" already exists`);
  }
  const edge = (id: string, field: string) => {
    const e = net.edgeIndex.get(id);
    if (e === undefined) throw notFound(`addVehicle.${field}: unknown edge "${id}"`);
    return e;
  };
  const typeName = cmd.vType ?? 'DEFAULT_VEHTYPE';
  const vType = demand.typeIndex.get(typeName);
  if (vType === undefined) {
    throw notFound(
      `addVehicle.vType: unknown vType "${typeName}"${cmd.vType === undefined ? ' (the default; name one of ' + [...demand.typeIndex.keys()].join(', ') + ')' : ''}`,
    );
  }
  const cls = demand.types[vType]!.vClass;
  let route: number[];
  if (cmd.route) {
    route = cmd.route.map((id) => edge(id, 'route'));
    for (let i = 0; i + 1 < route.length; i++) {
      if (!net.edgesConnected(route[i]!, route[i + 1]!, cls)) {
        throw malformed(
          `addVehicle.route: no connection from edge "${cmd.route[i]}" to "${cmd.route[i + 1]}" for vType "${typeName}"`,
        );
      }
    }
  } else {
    const from = edge(cmd.from!, 'from');
    const to = edge(cmd.to!, 'to');
    let byClass = routers.get(net);
    if (!byClass) routers.set(net, (byClass = new Map()));
    let router = byClass.get(cls);
    if (!router) byClass.set(cls, (router = new Router(net, cls)));
    const found = router.route(from, to);
    if (!found) throw malformed(`addVehicle.to: no route from edge "${cmd.from}" to "${cmd.to}"`);
    route = found.slice();
  }
  let departLane: number;
  const dl = cmd.departLane ?? 'first';
  if (typeof dl === 'number') {
    const lanes = net.edgeLaneCount[route[0]!]!;
    if (dl >= lanes)
      throw malformed(`addVehicle.departLane: edge "${net.edgeIds[route[0]!]}" has lanes 0..${lanes - 1}, got ${dl}`);
    departLane = dl;
  } else {
    departLane = DepartLaneCode[dl];
  }
  const ds = cmd.departSpeed ?? 0;
  const maxSpeed = demand.types[vType]!.maxSpeed;
  if (typeof ds === 'number' && ds > maxSpeed)
    throw malformed(`addVehicle.departSpeed: ${ds} m/s is above the maxSpeed ${maxSpeed} m/s of vType "${typeName}"`);
  const departSpeed = typeof ds === 'number' ? ds : DepartSpeedCode[ds];
  return {
    ...head,
    type: 'addVehicle',
    index: nextDemandIndex(demand, prior),
    id: cmd.id,
    vType,
    route,
    departLane,
    departSpeed,
  };
}

/** The demand index the next added vehicle gets: after the scenario's and every earlier command's. */
function nextDemandIndex(demand: Demand, prior: readonly ResolvedCommand[]): number {
  let n = demand.baseCount;
  for (const c of prior) {
    if (c.type === 'addVehicle') n = c.index + 1;
    else if (c.type === 'setFlow') n = c.index + c.count;
  }
  return n;
}

/** The program of light `tl` after the commands of `prior` (0: the network's first). */
function programInForce(prior: readonly ResolvedCommand[], tl: number): number {
  let program = 0;
  for (const c of prior) {
    if (c.type === 'setSignalProgram' && c.tl === tl) program = c.program;
    else if (c.type === 'setSignalLogic' && c.tl === tl && c.start >= 0) program = c.program;
  }
  return program;
}

/**
 * Depart steps of a flow's vehicles at or after step `fromStep` at the new `rate` (ascending):
 * a period counts from the later of the effective time and the flow's begin; a probability draws per
 * step from the flow's own random stream, as the demand does.
 */
export function flowDepartSteps(
  demand: Demand,
  flow: number,
  rate: { period: number } | { probability: number },
  fromStep: number,
): number[] {
  const f = demand.flows[flow]!;
  const { begin, stepLength, seed } = demand.opts;
  const stepOf = (t: number) => Math.max(0, Math.ceil((t - begin) / stepLength - 1e-9));
  const out: number[] = [];
  if ('probability' in rate) {
    const p = Math.min(1, rate.probability * stepLength);
    const k0 = Math.max(fromStep, Math.ceil((f.begin - begin) / stepLength - 1e-9));
    if (p > 0 && (f.end - (begin + k0 * stepLength)) / stepLength > MAX_FLOW_VEHICLES) {
      throw malformed(`setFlow.probability: flow "${f.id}" would draw for more than ${MAX_FLOW_VEHICLES} steps`);
    }
    if (p > 0)
      for (let k = k0; begin + k * stepLength < f.end; k++)
        if (uniform(seed, f.specIndex, k, Purpose.flowProbability) < p) out.push(k);
    return out;
  }
  const period = rate.period;
  if (!(period > 0) || !Number.isFinite(period))
    throw malformed(`setFlow.period: must be a number of seconds > 0, got ${period}`);
  const start = Math.max(begin + fromStep * stepLength, f.begin);
  if ((f.end - start) / period > MAX_FLOW_VEHICLES)
    throw malformed(`setFlow: flow "${f.id}" would get more than ${MAX_FLOW_VEHICLES} vehicles at this rate`);
  for (let j = 0, t = start; t < f.end - 1e-9; t = start + ++j * period) out.push(stepOf(t));
  return out;
}

/**
 * The demand change of a setFlow or addVehicle as seen from `demand` once the earlier commands are
 * applied: the new vehicles, and (setFlow) the flow's vehicles it cancels.
 */
export function demandChange(
  demand: Demand,
  c: Extract<ResolvedCommand, { type: 'addVehicle' | 'setFlow' }>,
): { entries: DemandEntry[]; cancel: number[] } {
  if (c.type === 'addVehicle') {
    return {
      entries: [
        {
          id: c.id,
          departStep: c.effectiveStep,
          type: c.vType,
          routeEdges: c.route,
          dl: c.departLane,
          ds: c.departSpeed,
          dp: DepartPosCode.base,
          ap: ArrivalPosCode.max,
        },
      ],
      cancel: [],
    };
  }
  const f = demand.flows[c.flow]!;
  const cancel: number[] = [];
  let kept = 0;
  for (const id of f.members) {
    if (demand.cancelled[id]) continue;
    if (demand.departStep[id]! >= c.effectiveStep) cancel.push(id);
    else kept++;
  }
  const steps = flowDepartSteps(demand, c.flow, c.rate, c.effectiveStep);
  if (steps.length !== c.count)
    throw new Error(`setFlow ${c.seq}: ${steps.length} departures, but the log says ${c.count}`);
  const route = Array.from(demand.routeOf(f.route));
  // the flow's vehicles share its type, route and stops (a flow drawing from distributions: its first vehicle's)
  const entries = steps.map((k, j) => ({
    id: `${f.id}.${kept + j}`,
    departStep: k,
    type: f.type,
    routeEdges: route,
    dl: f.dl,
    ds: f.ds,
    dp: f.dp,
    ap: f.ap,
    al: f.al,
    as: f.as,
    stops: [f.stopFirst, f.stopLast] as const,
  }));
  return { entries, cancel };
}

/**
 * The lanes whose owning parts must apply `c` (ascending, no repeats), or ALL_PARTS.
 *
 * - Lane commands (close, open, speed limit): the lanes themselves (insertion and lane changes on
 *   them) and every lane with a link into them: that lane's part (the junction it drives into)
 *   chooses the links into the closed lane and looks ahead at the speed limit beyond its junction.
 * - Signal commands: the junction paths the light controls and the lanes leading to them (the
 *   junction's part), and the lanes with links into those (vehicles there look through the next
 *   junction at the light's state, follow.ts).
 * - addVehicle, setFlow: ALL_PARTS. Every part must extend its demand identically — a vehicle that
 *   crosses a border travels as its demand index, the receiver reads its type and route from its own
 *   demand, and trip records and the state hash count the demand's size.
 * - removeVehicle, setRoute: ALL_PARTS, for the same reason (the route or the cancellation is the
 *   demand's); the part that holds the vehicle changes it.
 */
export function commandLanes(net: Network, c: ResolvedCommand): number[] | typeof ALL_PARTS {
  const lanes = new Set<number>();
  const withFeeders = (lane: number) => {
    lanes.add(lane);
    if (lane >= net.normalLaneCount) return;
    for (let k = net.laneInStart[lane]!, end = net.laneInStart[lane + 1]!; k < end; k++)
      lanes.add(net.linkFrom[net.laneIn[k]!]!);
  };
  switch (c.type) {
    case 'closeLane':
    case 'openLane':
      withFeeders(c.lane);
      break;
    case 'setSpeedLimit':
      for (const l of c.lanes) withFeeders(l);
      break;
    case 'setSignalProgram':
    case 'setPhase':
    case 'setSignalLogic':
      for (let lk = 0; lk < net.linkCount; lk++) {
        if (net.linkTl[lk] !== c.tl) continue;
        lanes.add(net.linkLane[lk]!);
        withFeeders(net.linkFrom[lk]!);
      }
      break;
    case 'addVehicle':
    case 'setFlow':
    case 'removeVehicle':
    case 'setRoute':
      return ALL_PARTS;
    default:
      return assertNever(c, 'command');
  }
  return [...lanes].sort((a, b) => a - b);
}

/**
 * The parts that must apply `c`, from the lane owners of a partitioned run (partition.ts
 * `laneOwnersFromJunctions`): ascending, or ALL_PARTS.
 */
export function commandParts(net: Network, c: ResolvedCommand, laneOwner: Int32Array): number[] | typeof ALL_PARTS {
  const lanes = commandLanes(net, c);
  if (lanes === ALL_PARTS) return ALL_PARTS;
  return [...new Set(lanes.map((l) => laneOwner[l]!))].sort((a, b) => a - b);
}
