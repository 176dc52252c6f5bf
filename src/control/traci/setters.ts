/**
 * TraCI's set commands as commands of the run's command log (src/sim/commands.ts): each setter reads
 * its typed value and returns the SimCommand it means, which the session resolves, applies at the
 * current step boundary and logs — so a replay of the log (`tessds run --commands`) or a recovery
 * repeats it. What lives only in the session (route.add) returns undefined.
 */
import type { SimCommand } from '../../sim/commands.js';
import { Router } from '../../sim/routing.js';
import * as C from './constants.js';
import { TraciError, type TraciContext } from './context.js';
import { domainName } from './getters.js';
import type { Reader } from './wire.js';

type Setter = (ctx: TraciContext, id: string, r: Reader) => SimCommand | undefined;

/** Reads the value of set command `cmd`/`varId` for object `id` and returns its command. */
export function setVariable(
  ctx: TraciContext,
  cmd: number,
  varId: number,
  id: string,
  r: Reader,
): SimCommand | undefined {
  const s = SETTERS.get(cmd)?.get(varId);
  if (!s) {
    const domain = domainName(cmd - (C.CMD_SET_TL_VARIABLE - C.CMD_GET_TL_VARIABLE));
    throw new TraciError(
      `Set ${domain} Variable: unsupported variable 0x${varId.toString(16).padStart(2, '0')} specified`,
    );
  }
  return s(ctx, id, r);
}

// ---- traffic lights ----

const trafficlight = new Map<number, Setter>([
  [
    C.TL_PHASE_INDEX,
    (c, id, r) => {
      const tl = c.tl(id);
      const phase = r.typedInt('phase index');
      const sig = c.signal(tl);
      const phases = sig.program < 0 ? 0 : c.engine.program(tl, sig.program).phaseEnds.length;
      if (phase < 0 || phase >= phases)
        throw new TraciError(`The phase index ${phase} is not in the allowed range [0,${phases - 1}].`);
      return { type: 'setPhase', tls: id, phase };
    },
  ],
  [
    C.TL_PHASE_DURATION,
    (c, id, r) => {
      const tl = c.tl(id);
      const duration = r.typedDouble('phase duration');
      if (!(duration > 0)) throw new TraciError(`phase duration must be > 0 in TessDS, got ${duration}`);
      const sig = c.signal(tl);
      if (sig.phase < 0) throw new TraciError(`Traffic light '${id}' is off`);
      return { type: 'setPhase', tls: id, phase: sig.phase, duration };
    },
  ],
  [
    C.TL_PROGRAM,
    (c, id, r) => {
      c.tl(id);
      return { type: 'setSignalProgram', tls: id, program: r.typedString('program') };
    },
  ],
  [
    C.TL_RED_YELLOW_GREEN_STATE,
    (c, id, r) => (c.tl(id), { type: 'setSignalState', tls: id, state: r.typedString('state') }),
  ],
  [C.TL_COMPLETE_PROGRAM_RYG, setProgramLogic],
]);

/** setProgramLogic: SUMO's Logic compound (programID, type, current phase, phases, parameters). */
function setProgramLogic(c: TraciContext, id: string, r: Reader): SimCommand {
  c.tl(id);
  if (r.compound('logic') !== 5) throw new TraciError('A logic needs 5 values');
  const programID = r.typedString('programID');
  r.typedInt('type');
  const phase = r.typedInt('current phase index');
  const n = r.compound('phases');
  if (n < 1 || n > 10_000) throw new TraciError(`a program needs 1..10000 phases, got ${n}`);
  const phases = [];
  for (let k = 0; k < n; k++) {
    if (r.compound('phase') !== 6) throw new TraciError('A phase needs 6 values');
    const duration = r.typedDouble('duration');
    const state = r.typedString('state');
    r.typedDouble('minDur');
    r.typedDouble('maxDur');
    const next = r.compound('next');
    for (let j = 0; j < next; j++) r.typedInt('next');
    r.typedString('name');
    phases.push({ duration, state });
  }
  return { type: 'setSignalLogic', tls: id, programID, phases, phase: Math.max(0, phase) };
}

// ---- lanes and edges ----

const lane = new Map<number, Setter>([
  [C.VAR_MAXSPEED, (c, id, r) => (c.lane(id), { type: 'setSpeedLimit', lane: id, speed: positiveSpeed(r) })],
]);

const edge = new Map<number, Setter>([
  [C.VAR_MAXSPEED, (c, id, r) => (c.edge(id), { type: 'setSpeedLimit', edge: id, speed: positiveSpeed(r) })],
]);

function positiveSpeed(r: Reader): number {
  const v = r.typedDouble('speed');
  if (!(v > 0)) throw new TraciError(`TessDS needs a speed limit > 0, got ${v}`);
  return v;
}

// ---- routes ----

const route = new Map<number, Setter>([
  [
    C.ADD,
    (c, id, r) => {
      const edges = r.typedStringList('route edges');
      if (c.routes.has(id)) throw new TraciError(`Could not add route '${id}'.`);
      if (edges.length === 0) throw new TraciError(`Route '${id}' has no edges.`);
      for (const e of edges) c.edge(e);
      c.routes.set(id, edges);
      return undefined;
    },
  ],
]);

// ---- vehicles ----

const vehicle = new Map<number, Setter>([
  [C.ADD_FULL, addVehicle],
  [
    C.REMOVE,
    (c, id, r) => {
      r.expectType(C.TYPE_BYTE, 'remove reason');
      r.byte();
      onRoadOrWaiting(c, id);
      return { type: 'removeVehicle', id };
    },
  ],
  [C.VAR_ROUTE, (c, id, r) => setRoute(c, id, r.typedStringList('route edges'))],
  [
    C.VAR_ROUTE_ID,
    (c, id, r) => {
      const rid = r.typedString('route id');
      const edges = c.routes.get(rid);
      if (!edges) throw new TraciError(`The route '${rid}' is not known.`);
      return setRoute(c, id, edges);
    },
  ],
  [C.CMD_CHANGETARGET, changeTarget],
]);

/** vehicle.add (ADD_FULL): a compound of 14 values; TessDS takes route, type, depart "now", departLane, departSpeed. */
function addVehicle(c: TraciContext, id: string, r: Reader): SimCommand {
  const n = r.compound('vehicle.add');
  if (n !== 14) throw new TraciError(`Adding a vehicle requires 14 values, got ${n}`);
  const [routeId, typeId, depart, departLane, departPos, departSpeed] = [0, 1, 2, 3, 4, 5].map(() => r.typedString());
  for (let k = 6; k < 12; k++) r.typedString();
  r.typedInt();
  r.typedInt();
  if (c.vehicleIndex(id!) !== undefined) throw new TraciError(`The vehicle '${id}' to add already exists.`);
  const now = c.engine.time();
  if (depart !== 'now' && !(Number(depart) <= now + 1e-9))
    throw new TraciError(`TessDS adds vehicles departing "now" only (got depart "${depart}" at time ${now})`);
  if (departPos !== 'base' && departPos !== '0' && departPos !== '')
    throw new TraciError(`TessDS does not support departPos "${departPos}" for vehicle.add (only "base")`);
  const edges = c.routes.get(routeId!);
  if (!edges) throw new TraciError(`Invalid route '${routeId}' for vehicle: '${id}'`);
  const cmd: SimCommand = {
    type: 'addVehicle',
    id,
    ...(edges.length === 2 && !connected(c, edges) ? { from: edges[0]!, to: edges[1]! } : { route: edges }),
    ...(typeId !== 'DEFAULT_VEHTYPE' || c.engine.demand.typeIndex.has('DEFAULT_VEHTYPE') ? { vType: typeId! } : {}),
  };
  const dl = departLane === '' ? 'first' : departLane!;
  if (/^\d+$/.test(dl)) Object.assign(cmd, { departLane: Number(dl) });
  else if (['first', 'best', 'free', 'random', 'allowed'].includes(dl)) Object.assign(cmd, { departLane: dl });
  else throw new TraciError(`Invalid departLane '${dl}' for vehicle '${id}'`);
  const ds = departSpeed === '' ? '0' : departSpeed!;
  if (Number.isFinite(Number(ds))) Object.assign(cmd, { departSpeed: Number(ds) });
  else if (['max', 'desired', 'random', 'speedLimit'].includes(ds)) Object.assign(cmd, { departSpeed: ds });
  else throw new TraciError(`Invalid departSpeed '${ds}' for vehicle '${id}'`);
  return cmd;
}

function connected(c: TraciContext, edges: readonly string[]): boolean {
  const net = c.engine.net;
  return net.edgesConnected(c.edge(edges[0]!), c.edge(edges[1]!));
}

/** A vehicle on the road, or waiting for its insertion; else TraCI's "not known". */
function onRoadOrWaiting(c: TraciContext, id: string): number {
  const vid = c.vehicleIndex(id);
  const e = c.engine;
  if (vid !== undefined && c.view.slot(vid) >= 0) return vid;
  if (vid !== undefined && e.pending.subarray(0, e.pendingCount).includes(vid)) return vid;
  throw new TraciError(`Vehicle '${id}' is not known.`);
}

/** The edge a vehicle's new route must start with: the one it is on, or on a junction the one it came from. */
function routeStart(c: TraciContext, s: number): { here: number; next: number } {
  const net = c.engine.net;
  const lane = c.engine.v.lane[s]!;
  const edge = net.laneEdge[lane]!;
  if (edge >= 0) return { here: edge, next: edge };
  const link = net.laneLink[lane]!;
  return { here: net.laneEdge[net.linkFrom[link]!]!, next: net.linkToEdge[link]! };
}

function setRoute(c: TraciContext, id: string, edges: readonly string[]): SimCommand {
  const s = c.vehicle(id);
  const e = c.engine;
  if (e.v.stopNext[s]! >= 0) throw new TraciError(`TessDS cannot reroute vehicle '${id}' with stops ahead`);
  const { here, next } = routeStart(c, s);
  const first = c.edge(edges[0]!);
  let route = [...edges];
  // on a junction the new route may start with the edge the vehicle enters (SUMO's getRoadID is internal there)
  if (here !== next && first === next) route = [e.net.edgeIds[here]!, ...edges];
  else if (first !== here)
    throw new TraciError(
      `Route replacement failed for vehicle '${id}': the route must start with edge '${e.net.edgeIds[here]}'`,
    );
  return { type: 'setRoute', id, route };
}

/** changeTarget: the fastest route (our router: shortest by free-flow time) from where the vehicle is to the edge. */
function changeTarget(c: TraciContext, id: string, r: Reader): SimCommand {
  const target = c.edge(r.typedString('target edge'));
  const s = c.vehicle(id);
  const e = c.engine;
  const { here, next } = routeStart(c, s);
  const cls = e.demand.types[e.demand.type[e.v.vid[s]!]!]!.vClass;
  const found = router(c, cls).route(next, target);
  if (!found)
    throw new TraciError(`Route replacement failed for vehicle '${id}': no route to edge '${e.net.edgeIds[target]}'`);
  const edges = [...(here !== next ? [here] : []), ...found].map((k) => e.net.edgeIds[k]!);
  return setRoute(c, id, here !== next ? edges.slice(1) : edges);
}

const routers = new WeakMap<TraciContext, Map<number, Router>>();
function router(c: TraciContext, cls: number): Router {
  let m = routers.get(c);
  if (!m) routers.set(c, (m = new Map()));
  let rt = m.get(cls);
  if (!rt) m.set(cls, (rt = new Router(c.engine.net, cls)));
  return rt;
}

const SETTERS = new Map<number, Map<number, Setter>>([
  [C.CMD_SET_TL_VARIABLE, trafficlight],
  [C.CMD_SET_LANE_VARIABLE, lane],
  [C.CMD_SET_EDGE_VARIABLE, edge],
  [C.CMD_SET_ROUTE_VARIABLE, route],
  [C.CMD_SET_VEHICLE_VARIABLE, vehicle],
]);

export function isSetDomain(cmd: number): boolean {
  return SETTERS.has(cmd);
}
