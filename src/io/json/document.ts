/**
 * Reads and checks the JSON document into typed records (defaults filled in, ids unique, references
 * resolved) before any geometry is derived. Each record keeps its JSON path for later messages.
 * Field lists here must match schema/scenario.schema.json (a test compares them).
 */
import type { ArrivalPos, DepartLane, DepartPos, DepartSpec, DepartSpeed, VTypeSpec } from '../spec.js';
import type { Pt } from './geometry.js';
import { childPath } from './json.js';
import { checkId, checkNum, checkStr, IdSet, Obj, readObjects, type Checker } from './validate.js';

export const FIELDS = {
  root: ['$schema', 'name', 'description', 'time', 'seed', 'uturns', 'nodes', 'edges', 'trafficLights', 'vTypes', 'routes', 'vehicles', 'flows'],
  time: ['begin', 'end', 'stepLength', 'timeToTeleport'],
  node: ['id', 'x', 'y', 'type', 'radius', 'uturns', 'connections'],
  connection: ['from', 'to', 'fromLane', 'toLane'],
  edge: ['id', 'from', 'to', 'lanes', 'speed', 'priority', 'width', 'length', 'shape', 'allow', 'disallow', 'reverse'],
  trafficLight: ['node', 'programID', 'offset', 'green', 'yellow', 'phases'],
  phase: ['duration', 'state'],
  vType: ['id', 'vClass', 'accel', 'decel', 'emergencyDecel', 'tau', 'minGap', 'length', 'maxSpeed', 'speedFactor', 'sigma', 'delta', 'idmStepping', 'lcStrategic', 'lcCooperative', 'lcSpeedGain', 'lcKeepRight'],
  route: ['id', 'edges'],
  vehicle: ['id', 'type', 'depart', 'route', 'from', 'to', 'via', 'departLane', 'departSpeed', 'departPos', 'arrivalPos'],
  flow: ['id', 'type', 'begin', 'end', 'period', 'vehsPerHour', 'probability', 'number', 'route', 'from', 'to', 'via', 'departLane', 'departSpeed', 'departPos', 'arrivalPos'],
} as const;

export const NODE_TYPES = ['priority', 'traffic_light', 'dead_end'] as const;
export type NodeType = (typeof NODE_TYPES)[number];

/** SUMO's defaults (1.15, vClass passenger, IDM) for every vType field. */
export const DEFAULT_VTYPE: Readonly<VTypeSpec> = {
  id: 'DEFAULT_VEHTYPE',
  vClass: 'passenger',
  accel: 2.6,
  decel: 4.5,
  emergencyDecel: 9,
  tau: 1,
  minGap: 2.5,
  length: 5,
  maxSpeed: 55.56,
  speedFactor: 1,
  sigma: 0.5,
  delta: 4,
  idmStepping: 0.25,
  lcStrategic: 1,
  lcCooperative: 1,
  lcSpeedGain: 1,
  lcKeepRight: 1,
};

export const DEFAULTS = {
  seed: 23423, // SUMO's default --seed
  stepLength: 1,
  timeToTeleport: 300,
  lanes: 1,
  speed: 13.89,
  priority: 1,
  laneWidth: 3.2,
  green: 31,
  yellow: 3,
  flowEnd: 86400, // SUMO's default flow end when the scenario has no end
};

export interface ConnectionDoc {
  path: string;
  from: string;
  to: string;
  fromLane: number;
  toLane: number;
}

export interface NodeDoc {
  path: string;
  id: string;
  x: number;
  y: number;
  type?: NodeType;
  radius?: number;
  uturns: boolean;
  connections?: ConnectionDoc[];
}

export interface EdgeDoc {
  path: string;
  id: string;
  from: string;
  to: string;
  lanes: number;
  speed: number;
  priority: number;
  width: number;
  length?: number;
  /** full axis polyline, node positions when absent */
  shape?: Pt[];
  allow?: string[];
  disallow?: string[];
}

export interface PhaseDoc {
  path: string;
  duration: number;
  state: string;
}

export interface TrafficLightDoc {
  path: string;
  node: string;
  programID: string;
  offset: number;
  green: number;
  yellow: number;
  phases?: PhaseDoc[];
}

/** A route as a list of edge ids, with the path of that list for messages. */
export interface RouteRef {
  edges: string[];
  path: string;
}

export interface TripDoc extends DepartSpec {
  path: string;
  id: string;
  type: string;
  route?: RouteRef;
  from?: string;
  to?: string;
  via?: string[];
}

export interface VehicleDoc extends TripDoc {
  depart: number;
}

export interface FlowDoc extends TripDoc {
  begin: number;
  end: number;
  period?: number;
  vehsPerHour?: number;
  probability?: number;
  number?: number;
}

export interface ScenarioDoc {
  name?: string;
  begin: number;
  end?: number;
  stepLength: number;
  timeToTeleport: number;
  seed: number;
  nodes: NodeDoc[];
  edges: EdgeDoc[];
  trafficLights: TrafficLightDoc[];
  vTypes: VTypeSpec[];
  routes: (RouteRef & { id: string })[];
  vehicles: VehicleDoc[];
  flows: FlowDoc[];
}

export function readDocument(ck: Checker, value: unknown): ScenarioDoc {
  const root = Obj.read(ck, value, '', FIELDS.root);
  root.optStr('$schema');
  root.optStr('description');
  const time = root.optObj('time', FIELDS.time);
  const begin = time?.optNum('begin', { min: 0 }) ?? 0;
  const end = time?.optNum('end', { gt: begin });
  const uturns = root.optBool('uturns') ?? false;

  const nodes = new IdSet<NodeDoc>(ck, 'node');
  const nodeList = readObjects(root, 'nodes', FIELDS.node, (o) => readNode(o, uturns));
  if (nodeList.length === 0) root.fail('nodes', 'at least one node is needed');
  for (const n of nodeList) nodes.add(n.id, childPath(n.path, 'id'), n);

  const edges = new IdSet<EdgeDoc>(ck, 'edge');
  const edgeList = readObjects(root, 'edges', FIELDS.edge, (o) => readEdge(o, nodes)).flat();
  for (const e of edgeList) edges.add(e.id, e.path.endsWith('.reverse') ? e.path : childPath(e.path, 'id'), e);
  for (const n of nodeList) checkConnections(ck, n, edges);

  const tls = readObjects(root, 'trafficLights', FIELDS.trafficLight, (o) => readTrafficLight(o, nodes));
  const tlNodes = new IdSet<TrafficLightDoc>(ck, 'traffic light for node');
  for (const t of tls) tlNodes.add(t.node, childPath(t.path, 'node'), t);

  const vTypes = new IdSet<VTypeSpec>(ck, 'vType');
  const vTypeList = readObjects(root, 'vTypes', FIELDS.vType, (o) => {
    const t = readVType(o);
    vTypes.add(t.id, o.at('id'), t);
    return t;
  });
  if (!vTypes.get(DEFAULT_VTYPE.id)) vTypes.add(DEFAULT_VTYPE.id, '', DEFAULT_VTYPE);

  const routes = new IdSet<RouteRef>(ck, 'route');
  const routeList = readObjects(root, 'routes', FIELDS.route, (o) => {
    const r = { id: o.id('id'), ...readEdgeList(o, 'edges', edges) };
    routes.add(r.id, o.at('id'), r);
    return r;
  });

  // Vehicles and flows share one id space: flow vehicles are named `${flow}.${n}` among them.
  const vehicleIds = new IdSet<true>(ck, 'vehicle/flow');
  const ctx: TripContext = { edges, routes, vTypes };
  const vehicles = readObjects(root, 'vehicles', FIELDS.vehicle, (o) => {
    const v: VehicleDoc = { ...readTrip(o, ctx), depart: o.num('depart', { min: 0 }) };
    vehicleIds.add(v.id, o.at('id'), true);
    return v;
  });
  const flows = readObjects(root, 'flows', FIELDS.flow, (o) => {
    const f = readFlow(o, ctx, begin, end ?? DEFAULTS.flowEnd);
    vehicleIds.add(f.id, o.at('id'), true);
    return f;
  });

  const doc: ScenarioDoc = {
    begin,
    stepLength: time?.optNum('stepLength', { gt: 0 }) ?? DEFAULTS.stepLength,
    timeToTeleport: time?.optNum('timeToTeleport') ?? DEFAULTS.timeToTeleport,
    seed: root.optNum('seed', { int: true, min: 0 }) ?? DEFAULTS.seed,
    nodes: nodeList,
    edges: edgeList,
    trafficLights: tls,
    vTypes: vTypeList.concat(vTypeList.some((t) => t.id === DEFAULT_VTYPE.id) ? [] : [{ ...DEFAULT_VTYPE }]),
    routes: routeList,
    vehicles,
    flows,
  };
  const name = root.optStr('name');
  if (name !== undefined) doc.name = name;
  if (end !== undefined) doc.end = end;
  return doc;
}

function readNode(o: Obj, uturns: boolean): NodeDoc {
  const n: NodeDoc = { path: o.path, id: o.id('id'), x: o.num('x'), y: o.num('y'), uturns: o.optBool('uturns') ?? uturns };
  const type = o.optEnum('type', NODE_TYPES);
  if (type) n.type = type;
  const radius = o.optNum('radius', { min: 0 });
  if (radius !== undefined) n.radius = radius;
  if (o.has('connections')) {
    n.connections = readObjects(o, 'connections', FIELDS.connection, (c) => ({
      path: c.path,
      from: c.id('from'),
      to: c.id('to'),
      fromLane: c.num('fromLane', { int: true, min: 0 }),
      toLane: c.num('toLane', { int: true, min: 0 }),
    }));
  }
  return n;
}

/** One edge, or two when `reverse` names an opposite edge with the same attributes. */
function readEdge(o: Obj, nodes: IdSet<NodeDoc>): EdgeDoc[] {
  const e: EdgeDoc = {
    path: o.path,
    id: o.id('id'),
    from: o.id('from'),
    to: o.id('to'),
    lanes: o.optNum('lanes', { int: true, min: 1 }) ?? DEFAULTS.lanes,
    speed: o.optNum('speed', { gt: 0 }) ?? DEFAULTS.speed,
    priority: o.optNum('priority') ?? DEFAULTS.priority,
    width: o.optNum('width', { gt: 0 }) ?? DEFAULTS.laneWidth,
  };
  nodes.ref(e.from, o.at('from'));
  nodes.ref(e.to, o.at('to'));
  if (e.from === e.to) o.fail('to', `an edge cannot start and end at the same node "${e.to}"`);
  const length = o.optNum('length', { gt: 0 });
  if (length !== undefined) e.length = length;
  const shape = o.optList('shape');
  if (shape) {
    if (shape.length < 2) o.fail('shape', 'needs at least 2 points');
    e.shape = shape.map((p, i) => {
      const path = childPath(o.at('shape'), i);
      const xy = Array.isArray(p) && p.length === 2 ? p : o.ck.fail(path, 'must be a point [x, y]');
      return { x: checkNum(o.ck, xy[0], childPath(path, 0)), y: checkNum(o.ck, xy[1], childPath(path, 1)) };
    });
  }
  const allow = o.optIds('allow');
  if (allow) e.allow = allow;
  const disallow = o.optIds('disallow');
  if (disallow) e.disallow = disallow;
  const reverse = o.optId('reverse');
  if (reverse === undefined) return [e];
  const back: EdgeDoc = { ...e, path: o.at('reverse'), id: reverse, from: e.to, to: e.from };
  if (e.shape) back.shape = [...e.shape].reverse();
  return [e, back];
}

function checkConnections(ck: Checker, n: NodeDoc, edges: IdSet<EdgeDoc>): void {
  if (n.connections && n.type === 'dead_end') ck.fail(childPath(n.path, 'connections'), 'a dead_end node has no connections');
  const seen = new Set<string>();
  for (const c of n.connections ?? []) {
    const from = edges.ref(c.from, childPath(c.path, 'from'));
    const to = edges.ref(c.to, childPath(c.path, 'to'));
    if (from.to !== n.id) ck.fail(childPath(c.path, 'from'), `edge "${c.from}" does not end at node "${n.id}"`);
    if (to.from !== n.id) ck.fail(childPath(c.path, 'to'), `edge "${c.to}" does not start at node "${n.id}"`);
    if (c.fromLane >= from.lanes) ck.fail(childPath(c.path, 'fromLane'), `edge "${c.from}" has only ${from.lanes} lane(s)`);
    if (c.toLane >= to.lanes) ck.fail(childPath(c.path, 'toLane'), `edge "${c.to}" has only ${to.lanes} lane(s)`);
    const key = `${c.from}_${c.fromLane}>${c.to}_${c.toLane}`;
    if (seen.has(key)) ck.fail(c.path, 'duplicate connection');
    seen.add(key);
  }
}

function readTrafficLight(o: Obj, nodes: IdSet<NodeDoc>): TrafficLightDoc {
  const t: TrafficLightDoc = {
    path: o.path,
    node: o.id('node'),
    programID: o.optStr('programID') ?? '0',
    offset: o.optNum('offset') ?? 0,
    green: o.optNum('green', { gt: 0 }) ?? DEFAULTS.green,
    yellow: o.optNum('yellow', { min: 0 }) ?? DEFAULTS.yellow,
  };
  const node = nodes.ref(t.node, o.at('node'));
  if (node.type !== 'traffic_light') o.fail('node', `node "${t.node}" is not of type "traffic_light"`);
  if (o.has('phases')) {
    if (o.has('green') || o.has('yellow')) o.fail(o.has('green') ? 'green' : 'yellow', 'only used to generate a program; not allowed with "phases"');
    t.phases = readObjects(o, 'phases', FIELDS.phase, (p) => {
      const state = p.str('state');
      if (!/^[GgyrsuoO]*$/.test(state)) p.fail('state', `may only contain the signals G g y r s u o O, not ${JSON.stringify(state)}`);
      return { path: p.path, duration: p.num('duration', { gt: 0 }), state };
    });
    if (t.phases.length === 0) o.fail('phases', 'at least one phase is needed');
  }
  return t;
}

function readVType(o: Obj): VTypeSpec {
  const d = DEFAULT_VTYPE;
  const pos = { gt: 0 };
  const nonNeg = { min: 0 };
  return {
    id: o.id('id'),
    vClass: o.optStr('vClass') ?? d.vClass,
    accel: o.optNum('accel', pos) ?? d.accel,
    decel: o.optNum('decel', pos) ?? d.decel,
    emergencyDecel: o.optNum('emergencyDecel', pos) ?? d.emergencyDecel,
    tau: o.optNum('tau', nonNeg) ?? d.tau,
    minGap: o.optNum('minGap', nonNeg) ?? d.minGap,
    length: o.optNum('length', pos) ?? d.length,
    maxSpeed: o.optNum('maxSpeed', pos) ?? d.maxSpeed,
    speedFactor: o.optNum('speedFactor', pos) ?? d.speedFactor,
    sigma: o.optNum('sigma', { min: 0, max: 1 }) ?? d.sigma,
    delta: o.optNum('delta', pos) ?? d.delta,
    idmStepping: o.optNum('idmStepping', pos) ?? d.idmStepping,
    lcStrategic: o.optNum('lcStrategic', nonNeg) ?? d.lcStrategic,
    lcCooperative: o.optNum('lcCooperative', nonNeg) ?? d.lcCooperative,
    lcSpeedGain: o.optNum('lcSpeedGain', nonNeg) ?? d.lcSpeedGain,
    lcKeepRight: o.optNum('lcKeepRight', nonNeg) ?? d.lcKeepRight,
  };
}

function readEdgeList(o: Obj, key: string, edges: IdSet<EdgeDoc>): RouteRef {
  const path = o.at(key);
  const list = o.list(key);
  if (list.length === 0) o.fail(key, 'a route needs at least one edge');
  return { path, edges: list.map((v, i) => checkEdgeRef(o.ck, v, childPath(path, i), edges)) };
}

function checkEdgeRef(ck: Checker, v: unknown, path: string, edges: IdSet<EdgeDoc>): string {
  const id = checkId(ck, v, path);
  edges.ref(id, path);
  return id;
}

interface TripContext {
  edges: IdSet<EdgeDoc>;
  routes: IdSet<RouteRef>;
  vTypes: IdSet<VTypeSpec>;
}

/** What vehicles and flows share: id, type, route or from/to/via, depart attributes. */
function readTrip(o: Obj, ctx: TripContext): TripDoc {
  const type = o.optId('type') ?? DEFAULT_VTYPE.id;
  ctx.vTypes.ref(type, o.at('type'));
  const t: TripDoc = { path: o.path, id: o.id('id'), type, ...readDepart(o) };
  if (o.has('route')) {
    for (const k of ['from', 'to', 'via']) if (o.has(k)) o.fail(k, 'give either "route" or "from"/"to", not both');
    const r = o.get('route');
    t.route = typeof r === 'string' ? ctx.routes.ref(r, o.at('route')) : readEdgeList(o, 'route', ctx.edges);
  } else {
    if (!o.has('from') || !o.has('to')) o.ck.fail(o.path, 'needs a "route" or both "from" and "to"');
    t.from = checkEdgeRef(o.ck, o.get('from'), o.at('from'), ctx.edges);
    t.to = checkEdgeRef(o.ck, o.get('to'), o.at('to'), ctx.edges);
    const via = o.optList('via');
    if (via) t.via = via.map((v, i) => checkEdgeRef(o.ck, v, childPath(o.at('via'), i), ctx.edges));
  }
  return t;
}

function readFlow(o: Obj, ctx: TripContext, scenarioBegin: number, defaultEnd: number): FlowDoc {
  const begin = o.optNum('begin', { min: 0 }) ?? scenarioBegin;
  const f: FlowDoc = { ...readTrip(o, ctx), begin, end: o.optNum('end', { min: begin }) ?? Math.max(defaultEnd, begin) };
  const rates = (['period', 'vehsPerHour', 'probability', 'number'] as const).filter((k) => o.has(k));
  if (rates.length !== 1) {
    o.ck.fail(rates.length ? o.at(rates[1]!) : o.path, 'needs exactly one of "period", "vehsPerHour", "probability", "number"');
  }
  const period = o.optNum('period', { gt: 0 });
  if (period !== undefined) f.period = period;
  const vph = o.optNum('vehsPerHour', { gt: 0 });
  if (vph !== undefined) f.vehsPerHour = vph;
  const prob = o.optNum('probability', { gt: 0, max: 1 });
  if (prob !== undefined) f.probability = prob;
  const number = o.optNum('number', { int: true, min: 0 });
  if (number !== undefined) f.number = number;
  return f;
}

const LANE_WORDS = ['first', 'best', 'free', 'random', 'allowed'] as const;
const SPEED_WORDS = ['max', 'desired', 'random', 'speedLimit'] as const;
const POS_WORDS = ['base', 'free', 'random', 'last'] as const;
const ARRIVAL_WORDS = ['max', 'random'] as const;

/** departLane/departSpeed/departPos/arrivalPos: a number or one of SUMO's keywords; SUMO's defaults. */
function readDepart(o: Obj): DepartSpec {
  const word = <T extends string>(key: string, words: readonly T[]): T | number | undefined => {
    const v = o.get(key);
    if (v === undefined || typeof v === 'number') return v;
    const s = checkStr(o.ck, v, o.at(key));
    if (!(words as readonly string[]).includes(s)) {
      o.fail(key, `must be a number or one of ${words.map((w) => JSON.stringify(w)).join(', ')}, not ${JSON.stringify(s)}`);
    }
    return s as T;
  };
  const lane = word('departLane', LANE_WORDS);
  const speed = word('departSpeed', SPEED_WORDS);
  const pos = word('departPos', POS_WORDS);
  const arrival = word('arrivalPos', ARRIVAL_WORDS);
  const departLane: DepartLane =
    typeof lane === 'number' ? { kind: 'index', index: checkNum(o.ck, lane, o.at('departLane'), { int: true, min: 0 }) } : { kind: lane ?? 'first' };
  const departSpeed: DepartSpeed =
    typeof speed === 'number' ? { kind: 'value', speed: checkNum(o.ck, speed, o.at('departSpeed'), { min: 0 }) } : speed ? { kind: speed } : { kind: 'value', speed: 0 };
  const departPos: DepartPos = typeof pos === 'number' ? { kind: 'value', pos: checkNum(o.ck, pos, o.at('departPos')) } : { kind: pos ?? 'base' };
  const arrivalPos: ArrivalPos = typeof arrival === 'number' ? { kind: 'value', pos: checkNum(o.ck, arrival, o.at('arrivalPos')) } : { kind: arrival ?? 'max' };
  return { departLane, departSpeed, departPos, arrivalPos };
}
