/**
 * TraCI's get commands (SUMO 1.15 semantics) on a one-process engine between two steps: each
 * getter writes the typed value of one variable of one object. An unknown object or variable is a
 * TraciError (TraCI's error status, SUMO's wording); the connection stays.
 */
import { VCLASSES } from '../../sim/vclass.js';
import * as C from './constants.js';
import { TraciError, type TraciContext } from './context.js';
import type { Reader, Writer } from './wire.js';

/** SUMO's halting threshold (SUMO_const_haltingSpeed), m/s. */
const HALTING_SPEED = 0.1;

type Getter = (ctx: TraciContext, id: string, out: Writer, params: Reader) => void;

const DOMAIN_NAMES: Record<number, string> = {
  [C.CMD_GET_SIM_VARIABLE]: 'Simulation',
  [C.CMD_GET_VEHICLE_VARIABLE]: 'Vehicle',
  [C.CMD_GET_LANE_VARIABLE]: 'Lane',
  [C.CMD_GET_EDGE_VARIABLE]: 'Edge',
  [C.CMD_GET_TL_VARIABLE]: 'Traffic Light',
  [C.CMD_GET_ROUTE_VARIABLE]: 'Route',
  [C.CMD_GET_VEHICLETYPE_VARIABLE]: 'Vehicle Type',
  [C.CMD_GET_JUNCTION_VARIABLE]: 'Junction',
  [C.CMD_GET_INDUCTIONLOOP_VARIABLE]: 'Induction Loop',
};

/** Is `cmd` a get command of a domain this server knows? */
export function isGetDomain(cmd: number): boolean {
  return GETTERS.has(cmd);
}

export function domainName(cmd: number): string {
  return DOMAIN_NAMES[cmd] ?? `domain 0x${cmd.toString(16)}`;
}

/** Writes variable `varId` of object `id` in domain `cmd` (typed), or throws TraciError. */
export function getVariable(ctx: TraciContext, cmd: number, varId: number, id: string, params: Reader, out: Writer) {
  if (varId === C.VAR_PARAMETER && GETTERS.has(cmd)) {
    // generic parameters: TessDS keeps none (SUMO answers "" for a key an object lacks)
    params.typedString('parameter key');
    out.typedString('');
    return;
  }
  const g = GETTERS.get(cmd)?.get(varId);
  if (!g) throw new TraciError(`Get ${domainName(cmd)} Variable: unsupported variable 0x${hex(varId)} specified`);
  g(ctx, id, out, params);
}

function hex(n: number): string {
  return n.toString(16).padStart(2, '0');
}

// ---- simulation ----

const simulation = new Map<number, Getter>([
  [C.VAR_TIME, (c, _, o) => o.typedDouble(c.engine.time())],
  [C.VAR_TIME_STEP, (c, _, o) => o.typedInt(Math.round(c.engine.time() * 1000))],
  [C.VAR_DELTA_T, (c, _, o) => o.typedDouble(c.engine.cfg.stepLength)],
  [C.VAR_DEPARTED_VEHICLES_NUMBER, (c, _, o) => o.typedInt(c.view.departedIds().length)],
  [C.VAR_DEPARTED_VEHICLES_IDS, (c, _, o) => o.typedStringList(c.view.departedIds())],
  [C.VAR_ARRIVED_VEHICLES_NUMBER, (c, _, o) => o.typedInt(c.view.arrivedIds().length)],
  [C.VAR_ARRIVED_VEHICLES_IDS, (c, _, o) => o.typedStringList(c.view.arrivedIds())],
  [C.VAR_MIN_EXPECTED_VEHICLES, (c, _, o) => o.typedInt(minExpected(c))],
  [C.VAR_TELEPORT_STARTING_VEHICLES_NUMBER, (c, _, o) => o.typedInt(0)],
  [C.VAR_TELEPORT_STARTING_VEHICLES_IDS, (c, _, o) => o.typedStringList([])],
  [C.VAR_PENDING_VEHICLES, (c, _, o) => o.typedStringList(pendingIds(c))],
]);

/** Vehicles on the road, waiting to be inserted or still to depart (SUMO's getMinExpectedNumber). */
function minExpected(c: TraciContext): number {
  const e = c.engine;
  let n = e.running + e.pendingCount;
  const d = e.demand;
  for (let k = e.nextDeparture; k < e.departures.length; k++) if (!d.cancelled[e.departures[k]!]) n++;
  for (let k = e.nextExtra; k < e.extraDepartures.length; k++) if (!d.cancelled[e.extraDepartures[k]!]) n++;
  return n;
}

function pendingIds(c: TraciContext): string[] {
  const e = c.engine;
  const out: string[] = [];
  for (let k = 0; k < e.pendingCount; k++) out.push(e.demand.ids[e.pending[k]!]!);
  return out;
}

// ---- vehicle ----

const vehicleGetter =
  (f: (c: TraciContext, s: number, vid: number, o: Writer) => void): Getter =>
  (c, id, o) => {
    const s = c.vehicle(id);
    f(c, s, c.engine.v.vid[s]!, o);
  };

/** SUMO's name of a class mask (its lowest class; every class: "ignoring"). */
function vclassName(mask: number): string {
  if (mask === (1 << VCLASSES.length) - 1) return 'ignoring';
  const bit = 31 - Math.clz32(mask & -mask);
  return VCLASSES[bit] ?? 'ignoring';
}

/** The vehicle's type. */
const typeOf = (c: TraciContext, vid: number) => c.engine.demand.types[c.engine.demand.type[vid]!]!;

/** Edge id of a lane; an internal lane is its own road (SUMO: ":J_k"). */
export function roadOf(c: TraciContext, lane: number): string {
  const net = c.engine.net;
  const edge = net.laneEdge[lane]!;
  return edge >= 0 ? net.edgeIds[edge]! : net.laneIds[lane]!;
}

const vehicle = new Map<number, Getter>([
  [C.TRACI_ID_LIST, (c, _, o) => o.typedStringList(c.view.vehicleIds())],
  [C.ID_COUNT, (c, _, o) => o.typedInt(c.view.vehicleIds().length)],
  [C.VAR_SPEED, vehicleGetter((c, s, _, o) => o.typedDouble(c.engine.v.speed[s]!))],
  [
    C.VAR_POSITION,
    vehicleGetter((c, s, _, o) => {
      const [x, y] = c.geometry.at(c.engine.v.lane[s]!, c.engine.v.pos[s]!);
      o.ubyte(C.TYPE_POSITION_2D).double(x).double(y);
    }),
  ],
  [
    C.VAR_ANGLE,
    vehicleGetter((c, s, _, o) => o.typedDouble(c.geometry.at(c.engine.v.lane[s]!, c.engine.v.pos[s]!)[2])),
  ],
  [C.VAR_ROAD_ID, vehicleGetter((c, s, _, o) => o.typedString(roadOf(c, c.engine.v.lane[s]!)))],
  [C.VAR_LANE_ID, vehicleGetter((c, s, _, o) => o.typedString(c.engine.net.laneIds[c.engine.v.lane[s]!]!))],
  [C.VAR_LANE_INDEX, vehicleGetter((c, s, _, o) => o.typedInt(c.engine.net.laneIndexInEdge[c.engine.v.lane[s]!]!))],
  [C.VAR_LANEPOSITION, vehicleGetter((c, s, _, o) => o.typedDouble(c.engine.v.pos[s]!))],
  [C.VAR_ROUTE_ID, vehicleGetter((c, _, vid, o) => o.typedString(`!${c.engine.demand.ids[vid]}`))],
  [
    C.VAR_EDGES,
    vehicleGetter((c, _, vid, o) => {
      const d = c.engine.demand;
      o.typedStringList(Array.from(d.routeOf(d.route[vid]!), (edge) => c.engine.net.edgeIds[edge]!));
    }),
  ],
  [C.VAR_ROUTE_INDEX, vehicleGetter((c, s, _, o) => o.typedInt(c.engine.v.routeIdx[s]!))],
  [
    C.VAR_WAITING_TIME,
    vehicleGetter((c, s, _, o) => o.typedDouble(c.engine.v.waitSteps[s]! * c.engine.cfg.stepLength)),
  ],
  [
    C.VAR_ACCUMULATED_WAITING_TIME,
    vehicleGetter((c, s, _, o) => o.typedDouble(c.engine.v.waitTotal[s]! * c.engine.cfg.stepLength)),
  ],
  [C.VAR_TIMELOSS, vehicleGetter((c, s, _, o) => o.typedDouble(c.engine.v.timeLoss[s]!))],
  [C.VAR_DISTANCE, vehicleGetter((c, s, _, o) => o.typedDouble(c.engine.v.odometer[s]!))],
  [C.VAR_TYPE, vehicleGetter((c, _, vid, o) => o.typedString(typeOf(c, vid).id))],
  [C.VAR_LENGTH, vehicleGetter((c, _, vid, o) => o.typedDouble(typeOf(c, vid).length))],
  [C.VAR_MINGAP, vehicleGetter((c, _, vid, o) => o.typedDouble(typeOf(c, vid).minGap))],
  [C.VAR_MAXSPEED, vehicleGetter((c, _, vid, o) => o.typedDouble(typeOf(c, vid).maxSpeed))],
  [C.VAR_ACCEL, vehicleGetter((c, _, vid, o) => o.typedDouble(typeOf(c, vid).accel))],
  [C.VAR_DECEL, vehicleGetter((c, _, vid, o) => o.typedDouble(typeOf(c, vid).decel))],
  [C.VAR_VEHICLECLASS, vehicleGetter((c, _, vid, o) => o.typedString(vclassName(typeOf(c, vid).vClass)))],
  [C.VAR_SPEED_FACTOR, vehicleGetter((c, _, vid, o) => o.typedDouble(c.engine.demand.speedFactor[vid]!))],
  // the lane's limit as this driver takes it (SUMO: limit × speed factor)
  [
    C.VAR_ALLOWED_SPEED,
    vehicleGetter((c, s, vid, o) =>
      o.typedDouble(c.engine.laneSpeed[c.engine.v.lane[s]!]! * c.engine.demand.speedFactor[vid]!),
    ),
  ],
]);

// ---- lane and edge ----

/** The last-step figures of a set of lanes (one lane, or an edge's). */
interface LaneFigures {
  vehicles: number;
  halting: number;
  speedSum: number;
  lengthSum: number;
  length: number;
  ids: string[];
  waiting: number;
}

function figures(c: TraciContext, lanes: readonly number[], withIds: boolean): LaneFigures {
  const e = c.engine;
  const f: LaneFigures = { vehicles: 0, halting: 0, speedSum: 0, lengthSum: 0, length: 0, ids: [], waiting: 0 };
  for (const lane of lanes) {
    f.length += e.net.laneLength[lane]!;
    for (const s of c.view.onLane(lane)) {
      const vid = e.v.vid[s]!;
      const speed = e.v.speed[s]!;
      f.vehicles++;
      if (speed < HALTING_SPEED) f.halting++;
      f.speedSum += speed;
      // the part of the vehicle on this lane (SUMO: netto occupancy)
      f.lengthSum += Math.min(typeOf(c, vid).length, e.v.pos[s]!);
      f.waiting += e.v.waitSteps[s]! * e.cfg.stepLength;
      if (withIds) f.ids.push(e.demand.ids[vid]!);
    }
  }
  return f;
}

function edgeLanes(c: TraciContext, edge: number): number[] {
  const net = c.engine.net;
  const first = net.edgeFirstLane[edge]!;
  return Array.from({ length: net.edgeLaneCount[edge]! }, (_, k) => first + k);
}

/** Getters shared by lanes and edges, over the lanes `lanesOf` gives. */
function occupancyGetters(
  lanesOf: (c: TraciContext, id: string) => number[],
  maxSpeed: (c: TraciContext, lanes: number[]) => number,
) {
  const g =
    (f: (x: LaneFigures, c: TraciContext, lanes: number[], o: Writer) => void, withIds = false): Getter =>
    (c, id, o) => {
      const lanes = lanesOf(c, id);
      f(figures(c, lanes, withIds), c, lanes, o);
    };
  return [
    [C.LAST_STEP_VEHICLE_NUMBER, g((x, _, __, o) => o.typedInt(x.vehicles))],
    [C.LAST_STEP_VEHICLE_HALTING_NUMBER, g((x, _, __, o) => o.typedInt(x.halting))],
    [
      C.LAST_STEP_MEAN_SPEED,
      g((x, c, lanes, o) => o.typedDouble(x.vehicles > 0 ? x.speedSum / x.vehicles : maxSpeed(c, lanes))),
    ],
    [C.LAST_STEP_OCCUPANCY, g((x, _, __, o) => o.typedDouble(x.length > 0 ? x.lengthSum / x.length : 0))],
    [C.LAST_STEP_LENGTH, g((x, _, __, o) => o.typedDouble(x.vehicles > 0 ? x.lengthSum / x.vehicles : 0))],
    [C.LAST_STEP_VEHICLE_ID_LIST, g((x, _, __, o) => o.typedStringList(x.ids), true)],
    [C.VAR_WAITING_TIME_LANE, g((x, _, __, o) => o.typedDouble(x.waiting))],
  ] as [number, Getter][];
}

const lane = new Map<number, Getter>([
  [C.TRACI_ID_LIST, (c, _, o) => o.typedStringList(c.engine.net.laneIds)],
  [C.ID_COUNT, (c, _, o) => o.typedInt(c.engine.net.laneCount)],
  [C.VAR_LENGTH, (c, id, o) => o.typedDouble(c.engine.net.laneLength[c.lane(id)]!)],
  [C.VAR_MAXSPEED, (c, id, o) => o.typedDouble(c.engine.laneSpeed[c.lane(id)]!)],
  [C.LANE_EDGE_ID, (c, id, o) => o.typedString(roadOf(c, c.lane(id)))],
  ...occupancyGetters(
    (c, id) => [c.lane(id)],
    (c, lanes) => c.engine.laneSpeed[lanes[0]!]!,
  ),
]);

const edge = new Map<number, Getter>([
  [C.TRACI_ID_LIST, (c, _, o) => o.typedStringList(c.engine.net.edgeIds)],
  [C.ID_COUNT, (c, _, o) => o.typedInt(c.engine.net.edgeCount)],
  [C.VAR_LANE_INDEX /* edge.getLaneNumber */, (c, id, o) => o.typedInt(c.engine.net.edgeLaneCount[c.edge(id)]!)],
  ...occupancyGetters(
    (c, id) => edgeLanes(c, c.edge(id)),
    (c, lanes) => Math.max(...lanes.map((l) => c.engine.laneSpeed[l]!)),
  ),
]);

// ---- traffic lights ----

const charState = (states: Uint8Array) => String.fromCharCode(...states);

const trafficlight = new Map<number, Getter>([
  [C.TRACI_ID_LIST, (c, _, o) => o.typedStringList(c.engine.net.trafficLights.map((t) => t.id))],
  [C.ID_COUNT, (c, _, o) => o.typedInt(c.engine.net.trafficLights.length)],
  [
    C.TL_RED_YELLOW_GREEN_STATE,
    (c, id, o) => {
      const tl = c.tl(id);
      const s = c.signal(tl);
      const light = c.engine.net.trafficLights[tl]!;
      // a light switched off shows "O" for every link (SUMO's off program)
      o.typedString(s.phase < 0 ? 'O'.repeat(light.states[0]!.length) : charState(c.engine.tlStates[tl]![s.phase]!));
    },
  ],
  [C.TL_CURRENT_PHASE, (c, id, o) => o.typedInt(c.signal(c.tl(id)).phase)],
  [C.TL_CURRENT_PROGRAM, (c, id, o) => o.typedString(programName(c, c.tl(id)))],
  [C.TL_PHASE_DURATION, (c, id, o) => o.typedDouble(c.signal(c.tl(id)).duration)],
  [C.TL_NEXT_SWITCH, (c, id, o) => o.typedDouble(c.signal(c.tl(id)).nextSwitch)],
  [
    C.TL_CONTROLLED_LANES,
    (c, id, o) => {
      const net = c.engine.net;
      o.typedStringList(c.linksOf(c.tl(id)).flatMap((links) => links.map((l) => net.laneIds[net.linkFrom[l]!]!)));
    },
  ],
  [C.TL_CONTROLLED_LINKS, (c, id, o) => writeControlledLinks(c, c.tl(id), o)],
  [C.TL_COMPLETE_DEFINITION_RYG, (c, id, o) => writeLogics(c, c.tl(id), o)],
  [
    C.TL_CONTROLLED_JUNCTIONS,
    (c, id, o) => {
      const net = c.engine.net;
      const js = new Set<string>();
      for (const links of c.linksOf(c.tl(id))) for (const l of links) js.add(net.junctionIds[net.linkJunction[l]!]!);
      o.typedStringList([...js].sort());
    },
  ],
]);

function programName(c: TraciContext, tl: number): string {
  const p = c.signal(tl).program;
  return p < 0 ? 'off' : c.engine.program(tl, p).programID;
}

/** TL_CONTROLLED_LINKS: per link index, the (from lane, to lane, via lane) of each of its links. */
function writeControlledLinks(c: TraciContext, tl: number, o: Writer): void {
  const net = c.engine.net;
  const byIndex = c.linksOf(tl);
  // SUMO's layout: a compound of (items), then a typed int count the client reads past with its readLength
  const items = byIndex.length + byIndex.reduce((n, links) => n + links.length, 0);
  o.ubyte(C.TYPE_COMPOUND).int(items).ubyte(C.TYPE_INTEGER).int(byIndex.length);
  for (const links of byIndex) {
    o.ubyte(C.TYPE_INTEGER).int(links.length);
    for (const l of links)
      o.ubyte(C.TYPE_STRINGLIST).stringList([
        net.laneIds[net.linkFrom[l]!]!,
        net.laneIds[net.linkTo[l]!]!,
        net.laneIds[net.linkLane[l]!]!,
      ]);
  }
}

/** TL_COMPLETE_DEFINITION_RYG: every program of the light as SUMO's Logic compounds. */
function writeLogics(c: TraciContext, tl: number, o: Writer): void {
  const programs = c.programs(tl);
  const current = c.signal(tl);
  o.compound(programs.length);
  programs.forEach(([k, p]) => {
    o.compound(5);
    o.typedString(p.programID);
    o.typedInt(p.act ? 3 : 0); // TRAFFICLIGHT_TYPE_STATIC 0, ACTUATED 3
    o.typedInt(k === current.program ? Math.max(0, current.phase) : 0);
    o.compound(p.states.length);
    p.states.forEach((states, i) => {
      const d = p.phaseEnds[i]! - (i > 0 ? p.phaseEnds[i - 1]! : 0);
      o.compound(6);
      o.typedDouble(d);
      o.typedString(charState(states));
      o.typedDouble(p.act?.minDur[i] ?? d);
      o.typedDouble(p.act?.maxDur[i] ?? d);
      o.compound(0);
      o.typedString('');
    });
    o.compound(0);
  });
}

// ---- vehicle types and routes ----

const vehicletype = new Map<number, Getter>([
  [C.TRACI_ID_LIST, (c, _, o) => o.typedStringList(c.engine.demand.types.map((t) => t.id))],
  [C.ID_COUNT, (c, _, o) => o.typedInt(c.engine.demand.types.length)],
]);

const route = new Map<number, Getter>([
  [C.TRACI_ID_LIST, (c, _, o) => o.typedStringList([...c.routes.keys()])],
  [C.ID_COUNT, (c, _, o) => o.typedInt(c.routes.size)],
  [
    C.VAR_EDGES,
    (c, id, o) => {
      const r = c.routes.get(id);
      if (!r) throw new TraciError(`Route '${id}' is not known`);
      o.typedStringList(r);
    },
  ],
]);

const junction = new Map<number, Getter>([
  [C.TRACI_ID_LIST, (c, _, o) => o.typedStringList(c.engine.net.junctionIds)],
  [C.ID_COUNT, (c, _, o) => o.typedInt(c.engine.net.junctionIds.length)],
  [
    C.VAR_POSITION,
    (c, id, o) => {
      const [x, y] = c.junctionPosition(id);
      o.ubyte(C.TYPE_POSITION_2D).double(x).double(y);
    },
  ],
]);

const inductionloop = new Map<number, Getter>([
  [C.TRACI_ID_LIST, (_, __, o) => o.typedStringList([])],
  [C.ID_COUNT, (_, __, o) => o.typedInt(0)],
]);

const GETTERS = new Map<number, Map<number, Getter>>([
  [C.CMD_GET_SIM_VARIABLE, simulation],
  [C.CMD_GET_VEHICLE_VARIABLE, vehicle],
  [C.CMD_GET_LANE_VARIABLE, lane],
  [C.CMD_GET_EDGE_VARIABLE, edge],
  [C.CMD_GET_TL_VARIABLE, trafficlight],
  [C.CMD_GET_VEHICLETYPE_VARIABLE, vehicletype],
  [C.CMD_GET_ROUTE_VARIABLE, route],
  [C.CMD_GET_JUNCTION_VARIABLE, junction],
  [C.CMD_GET_INDUCTIONLOOP_VARIABLE, inductionloop],
]);

export { edgeLanes };
