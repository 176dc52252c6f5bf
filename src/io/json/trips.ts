/** Reading the demand part: vTypes, routes, and what vehicles and flows share. */
import type { ArrivalPos, DepartLane, DepartPos, DepartSpec, DepartSpeed, VTypeSpec } from '../spec.js';
import { DEFAULT_VTYPE, type EdgeDoc, type FlowDoc, type RouteRef, type TripDoc } from './format.js';
import { childPath } from './json.js';
import { checkId, checkNum, checkStr, type IdSet, type Obj, type Checker } from './validate.js';

export function readVType(o: Obj): VTypeSpec {
  const d = DEFAULT_VTYPE;
  const pos = { gt: 0 };
  const nonNeg = { min: 0 };
  const model = o.optStr('carFollowModel') ?? d.carFollowModel;
  if (model !== 'Krauss' && model !== 'IDM') o.fail('carFollowModel', `must be "Krauss" or "IDM", got "${model}"`);
  const speedFactor = o.optNum('speedFactor', pos) ?? d.speedFactor;
  const speedDev = o.optNum('speedDev', nonNeg) ?? d.speedDev;
  if (speedDev > 0 && !(speedFactor >= d.speedFactorMin! && speedFactor <= d.speedFactorMax!)) {
    o.fail(
      'speedFactor',
      `with a speedDev the mean speed factor must be in [${d.speedFactorMin}, ${d.speedFactorMax}], got ${speedFactor}`,
    );
  }
  return {
    id: o.id('id'),
    vClass: o.optStr('vClass') ?? d.vClass,
    carFollowModel: model,
    accel: o.optNum('accel', pos) ?? d.accel,
    decel: o.optNum('decel', pos) ?? d.decel,
    emergencyDecel: o.optNum('emergencyDecel', pos) ?? d.emergencyDecel,
    tau: o.optNum('tau', nonNeg) ?? d.tau,
    minGap: o.optNum('minGap', nonNeg) ?? d.minGap,
    length: o.optNum('length', pos) ?? d.length,
    maxSpeed: o.optNum('maxSpeed', pos) ?? d.maxSpeed,
    speedFactor,
    speedDev,
    speedFactorMin: d.speedFactorMin!,
    speedFactorMax: d.speedFactorMax!,
    sigma: o.optNum('sigma', { min: 0, max: 1 }) ?? d.sigma,
    delta: o.optNum('delta', pos) ?? d.delta,
    idmStepping: o.optNum('idmStepping', pos) ?? d.idmStepping,
    lcStrategic: o.optNum('lcStrategic', nonNeg) ?? d.lcStrategic,
    lcCooperative: o.optNum('lcCooperative', nonNeg) ?? d.lcCooperative,
    lcSpeedGain: o.optNum('lcSpeedGain', nonNeg) ?? d.lcSpeedGain,
    lcKeepRight: o.optNum('lcKeepRight', nonNeg) ?? d.lcKeepRight,
  };
}

export function readEdgeList(o: Obj, key: string, edges: IdSet<EdgeDoc>): RouteRef {
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

export interface TripContext {
  edges: IdSet<EdgeDoc>;
  routes: IdSet<RouteRef>;
  vTypes: IdSet<VTypeSpec>;
}

/** What vehicles and flows share: id, type, route or from/to/via, depart attributes. */
export function readTrip(o: Obj, ctx: TripContext): TripDoc {
  const type = o.optId('type') ?? DEFAULT_VTYPE.id;
  ctx.vTypes.ref(type, o.at('type'));
  const t: TripDoc = { path: o.path, id: o.id('id'), type, ...readDepart(o) };
  if (o.has('route')) {
    for (const k of ['from', 'to', 'via']) if (o.has(k)) o.fail(k, 'give either "route" or "from"/"to", not both');
    const r = o.get('route');
    if (typeof r !== 'string' && !Array.isArray(r)) o.fail('route', 'must be a route id or a list of edge ids');
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

export function readFlow(o: Obj, ctx: TripContext, scenarioBegin: number, defaultEnd: number): FlowDoc {
  const begin = o.optNum('begin', { min: 0 }) ?? scenarioBegin;
  const f: FlowDoc = {
    ...readTrip(o, ctx),
    begin,
    end: o.optNum('end', { min: begin }) ?? Math.max(defaultEnd, begin),
  };
  const rates = (['period', 'vehsPerHour', 'probability', 'number'] as const).filter((k) => o.has(k));
  if (rates.length !== 1) {
    o.ck.fail(
      rates.length ? o.at(rates[1]!) : o.path,
      'needs exactly one of "period", "vehsPerHour", "probability", "number"',
    );
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
      o.fail(
        key,
        `must be a number or one of ${words.map((w) => JSON.stringify(w)).join(', ')}, not ${JSON.stringify(s)}`,
      );
    }
    return s as T;
  };
  const lane = word('departLane', LANE_WORDS);
  const speed = word('departSpeed', SPEED_WORDS);
  const pos = word('departPos', POS_WORDS);
  const arrival = word('arrivalPos', ARRIVAL_WORDS);
  const departLane: DepartLane =
    typeof lane === 'number'
      ? { kind: 'index', index: checkNum(o.ck, lane, o.at('departLane'), { int: true, min: 0 }) }
      : { kind: lane ?? 'first' };
  const departSpeed: DepartSpeed =
    typeof speed === 'number'
      ? { kind: 'value', speed: checkNum(o.ck, speed, o.at('departSpeed'), { min: 0 }) }
      : speed
        ? { kind: speed }
        : { kind: 'value', speed: 0 };
  const departPos: DepartPos =
    typeof pos === 'number' ? { kind: 'value', pos: checkNum(o.ck, pos, o.at('departPos')) } : { kind: pos ?? 'base' };
  const arrivalPos: ArrivalPos =
    typeof arrival === 'number'
      ? { kind: 'value', pos: checkNum(o.ck, arrival, o.at('arrivalPos')) }
      : { kind: arrival ?? 'max' };
  return { departLane, departSpeed, departPos, arrivalPos };
}
