/**
 * The compiled demand: every vehicle that will depart, in departure order (depart time, then input
 * order), with its route as edge indices. Flows are expanded here and trips routed here, so the
 * demand is a pure function of (scenario, seed, step length).
 */
import type {
  ArrivalLane,
  ArrivalPos,
  DemandSpec,
  DepartLane,
  DepartPos,
  DepartSpec,
  DepartSpeed,
  RouteDistributionSpec,
  ScenarioSpec,
  StopSpec,
  VTypeSpec,
} from '../io/spec.js';
import { InputError, ParameterError } from '../errors.js';
import type { IdmParams } from './idm.js';
import type { Network } from './network.js';
import { Router } from './routing.js';
import { Purpose, uniform } from './rng.js';
import { vClassMask } from './vclass.js';
import { routeContinuation, type RouteContinuation } from './bestlanes.js';

/** departLane codes (>= 0: a lane index) */
export const DepartLaneCode = { first: -1, best: -2, free: -3, random: -4, allowed: -5 } as const;
/** departSpeed codes (>= 0: a speed in m/s) */
export const DepartSpeedCode = { max: -1, desired: -2, random: -3, speedLimit: -4, last: -5, avg: -6 } as const;
/** departPos codes (above KEYWORD: a position in m, negative counts from the lane end as in SUMO) */
export const POS_KEYWORD = -1e9;
export const DepartPosCode = {
  base: -1e9,
  free: -1e9 - 1,
  random: -1e9 - 2,
  last: -1e9 - 3,
  random_free: -1e9 - 4,
  stop: -1e9 - 5,
} as const;
/** arrivalPos codes (above POS_KEYWORD: a position in m) */
export const ArrivalPosCode = { max: -1e9, random: -1e9 - 1, middle: -1e9 - 2 } as const;
/** arrivalLane: any lane (>= 0: that lane of the last edge) */
export const ArrivalLaneCode = { current: -1 } as const;
/** arrivalSpeed: whatever speed it has (>= 0: m/s) */
export const ArrivalSpeedCode = { current: -1 } as const;

/** Car-following model codes (VehicleType.model): SUMO's default Krauss (krauss.ts) and the IDM (idm.ts). */
export const CfModel = { KRAUSS: 0, IDM: 1 } as const;
export type CfModelCode = (typeof CfModel)[keyof typeof CfModel];

export interface VehicleType {
  id: string;
  /** the class as a mask (vclass.ts): the lanes, links and routes the type may use */
  vClass: number;
  /** car-following model (CfModel) */
  model: CfModelCode;
  idm: IdmParams;
  length: number;
  minGap: number;
  maxSpeed: number;
  /** mean speed factor; each vehicle's own is `Demand.speedFactor` */
  speedFactor: number;
  /** speed factor distribution: standard deviation and bounds (±Infinity: none) */
  speedDev: number;
  speedFactorMin: number;
  speedFactorMax: number;
  /** m/s² */
  accel: number;
  decel: number;
  emergencyDecel: number;
  /** the deceleration followers assume this vehicle brakes with (SUMO apparentDecel), m/s² */
  apparentDecel: number;
  /** desired time headway, s */
  tau: number;
  /** Krauss driver imperfection σ in [0, 1] */
  sigma: number;
  lcSpeedGain: number;
  lcKeepRight: number;
  lcCooperative: number;
  lcStrategic: number;
  /**
   * (1 + decel/accel)^(1/δ): v divided by this is the desired speed at which the IDM's free-road
   * term brakes by exactly `decel` (see Engine.desiredSpeed)
   */
  decelV0Divisor: number;
}

/** Checks a vType's parameters up front, naming the first one out of range (MovSim style). */
export function compileVType(t: VTypeSpec, stepLength: number): VehicleType {
  const owner = `vType "${t.id}"`;
  const positive = (name: keyof VTypeSpec, v: number) => {
    if (!(v > 0) || !Number.isFinite(v)) throw new ParameterError(owner, name, `must be a positive number, got ${v}`);
  };
  positive('accel', t.accel);
  positive('decel', t.decel);
  positive('length', t.length);
  positive('maxSpeed', t.maxSpeed);
  positive('speedFactor', t.speedFactor);
  positive('tau', t.tau);
  positive('delta', t.delta);
  positive('idmStepping', t.idmStepping);
  if (!(t.minGap >= 0)) throw new ParameterError(owner, 'minGap', `must not be negative, got ${t.minGap}`);
  if (!(t.sigma >= 0 && t.sigma <= 1)) throw new ParameterError(owner, 'sigma', `must be in [0, 1], got ${t.sigma}`);
  if (!(t.speedDev >= 0) || !Number.isFinite(t.speedDev))
    throw new ParameterError(owner, 'speedDev', `must not be negative, got ${t.speedDev}`);
  if (t.apparentDecel !== undefined) positive('apparentDecel', t.apparentDecel);
  if (t.carFollowModel !== 'Krauss' && t.carFollowModel !== 'IDM') {
    throw new ParameterError(owner, 'carFollowModel', `must be "Krauss" or "IDM", got "${String(t.carFollowModel)}"`);
  }
  if (t.emergencyDecel < t.decel) {
    throw new ParameterError(owner, 'emergencyDecel', `(${t.emergencyDecel}) must not be below decel (${t.decel})`);
  }
  const vClass = vClassMask(t.vClass);
  if (vClass === 0) throw new ParameterError(owner, 'vClass', `"${t.vClass}" is not a SUMO vehicle class`);
  return {
    id: t.id,
    vClass,
    model: t.carFollowModel === 'IDM' ? CfModel.IDM : CfModel.KRAUSS,
    idm: {
      accel: t.accel,
      decel: t.decel,
      tau: t.tau,
      minGap: t.minGap,
      delta: t.delta,
      iterations: Math.max(1, Math.floor(stepLength / t.idmStepping + 0.5)),
      twoSqrtAB: 2 * Math.sqrt(t.accel * t.decel),
    },
    length: t.length,
    minGap: t.minGap,
    maxSpeed: t.maxSpeed,
    speedFactor: t.speedFactor,
    speedDev: t.speedDev,
    speedFactorMin: t.speedFactorMin ?? -Infinity,
    speedFactorMax: t.speedFactorMax ?? Infinity,
    accel: t.accel,
    decel: t.decel,
    emergencyDecel: t.emergencyDecel,
    apparentDecel: t.apparentDecel ?? t.decel,
    tau: t.tau,
    sigma: t.sigma,
    lcSpeedGain: t.lcSpeedGain,
    lcKeepRight: t.lcKeepRight,
    lcCooperative: t.lcCooperative,
    lcStrategic: t.lcStrategic,
    decelV0Divisor: Math.pow(1 + t.decel / t.accel, 1 / t.delta),
  };
}

/**
 * The speed factor of the vehicle with demand index `index` and type `t` (SUMO: drawn once when the
 * vehicle is built, MSVehicleType::computeChosenSpeedDeviation): a normal draw (polar method) with the
 * type's mean and deviation, drawn again while outside the type's bounds (SUMO normc), rounded to 4
 * decimals as SUMO does. Every uniform comes from the counter-based RNG keyed by (seed, index,
 * attempt, Purpose.speedFactor), so the factor depends on nothing but the vehicle. A factor must be
 * positive; after 1000 draws outside the bounds the mean is used.
 */
export function drawSpeedFactor(t: VehicleType, seed: number, index: number): number {
  if (!(t.speedDev > 0)) return t.speedFactor;
  const lo = t.speedFactorMin;
  const hi = t.speedFactorMax;
  for (let k = 0; k < 2000; k += 2) {
    const a = 2 * uniform(seed, index, k, Purpose.speedFactor) - 1;
    const b = 2 * uniform(seed, index, k + 1, Purpose.speedFactor) - 1;
    const q = a * a + b * b;
    if (q === 0 || q >= 1) continue;
    const x = t.speedFactor + t.speedDev * a * Math.sqrt((-2 * Math.log(q)) / q);
    if (x < lo || x > hi || !(x > 0)) continue;
    return Math.round(x * 1e4) / 1e4;
  }
  return t.speedFactor;
}

/** A `<flow>` as online commands see it: what its vehicles share, and which demand indices it made. */
export interface FlowInfo {
  id: string;
  /** position in the demand spec's flows (the flow's random stream for probability flows) */
  specIndex: number;
  /** the type and route of its vehicles (the first drawn when it draws them from distributions) */
  type: number;
  route: number;
  dl: number;
  ds: number;
  dp: number;
  ap: number;
  al: number;
  as: number;
  /** its stops in the stop table, [stopFirst, stopLast) (with a route distribution: those of `route`) */
  stopFirst: number;
  stopLast: number;
  begin: number;
  /** s: min(flow end, run end) */
  end: number;
  /** demand indices of the flow's vehicles, in departure order (cancelled ones included) */
  members: number[];
}

/** A vehicle an online command adds to the demand (see `Demand.extend`). */
export interface DemandEntry {
  id: string;
  departStep: number;
  type: number;
  /** edge indices */
  routeEdges: readonly number[];
  dl: number;
  ds: number;
  dp: number;
  ap: number;
  /** arrivalLane / arrivalSpeed codes (absent: current) */
  al?: number;
  as?: number;
  /** its stops in the stop table (absent: none) */
  stops?: readonly [number, number];
}

/** A scenario's demand over its network, with the times and seed the scenario gives. */
export function scenarioDemand(spec: ScenarioSpec, net: Network): Demand {
  return new Demand(spec.demand, net, {
    stepLength: spec.stepLength,
    begin: spec.begin,
    end: spec.end,
    seed: spec.seed,
  });
}

/** Cumulative weights of a distribution, for `pick`. */
interface Choice {
  items: number[];
  cum: number[];
}

function choice(items: number[], weights: number[]): Choice {
  const cum: number[] = [];
  let sum = 0;
  for (const w of weights) cum.push((sum += w));
  return { items, cum: cum.map((c) => c / sum) };
}

/** The item whose share of [0, 1) holds `u`. */
function pick(c: Choice, u: number): number {
  for (let i = 0; i < c.cum.length; i++) if (u < c.cum[i]!) return c.items[i]!;
  return c.items[c.items.length - 1]!;
}

export class Demand {
  readonly types: VehicleType[] = [];
  readonly typeIndex = new Map<string, number>();
  /** by demand index (= departure order for the demand read from files; commands append) */
  readonly ids: string[] = [];
  // The per-vehicle arrays grow when online commands add vehicles (`extend`), between steps only.
  depart: Float64Array;
  departStep: Int32Array;
  type: Int32Array;
  route: Int32Array;
  departLane: Int32Array;
  departSpeed: Float64Array;
  departPos: Float64Array;
  arrivalPos: Float64Array;
  /** ArrivalLaneCode.current, or the lane index on the last edge (random and first resolved here) */
  arrivalLane: Int32Array;
  /** ArrivalSpeedCode.current, or m/s */
  arrivalSpeed: Float64Array;
  /** the vehicle's stops in the stop table: [stopFirst, stopLast) (equal: none) */
  stopFirst: Int32Array;
  stopLast: Int32Array;
  /** each vehicle's speed factor, drawn from its type's distribution (`drawSpeedFactor`) */
  speedFactor: Float64Array;
  /** 1 for a vehicle an online command (setFlow) cancelled before it departed */
  cancelled: Uint8Array;
  /** CSR of routes: edges of route r are routeEdges[routeStart[r] .. routeStart[r+1]) */
  routeStart: Int32Array;
  routeEdges: Int32Array;
  /**
   * The stop table (vehicles of a flow share their stops): lane, route index of its edge, the span
   * the vehicle's front must stand in, duration (s), until (s, -1: none; see `stopUntil`), whether
   * until counts from the departure (its base in `stopUntilFrom`), and 1 for a stopping place.
   */
  readonly stops = {
    count: 0,
    lane: [] as number[],
    routeIdx: [] as number[],
    startPos: [] as number[],
    endPos: [] as number[],
    duration: [] as number[],
    until: [] as number[],
    untilFrom: [] as number[],
    place: [] as number[],
  };
  readonly warnings: string[];
  /** vehicles in the demand, including those added by online commands */
  count: number;
  /** vehicles read from the scenario (indices below it are in departure order) */
  readonly baseCount: number;
  readonly flows: FlowInfo[] = [];
  /**
   * Vehicles (and flow departures) of the scenario whose depart time is before its begin: SUMO does
   * not load them (MSRouteHandler skips a vehicle with depart < begin; a flow's departures before
   * begin are skipped and its numbering starts at the first kept one), so neither do we.
   */
  readonly droppedBeforeBegin: number = 0;
  readonly flowIndex = new Map<string, number>();
  readonly opts: Readonly<{ stepLength: number; begin: number; end?: number; seed: number }>;
  /** sequence numbers of the online commands already applied to this demand (`extend` is idempotent) */
  readonly appliedCommands = new Set<number>();
  private readonly routeKey = new Map<string, number>();
  private routeCount = 0;
  private readonly net: Network;
  /** per type, per route: the continuations of its lanes (bestlanes.ts), computed when first asked for */
  private readonly continuations: (RouteContinuation | undefined)[][] = [];

  /** Number of distinct routes. */
  get routes(): number {
    return this.routeCount;
  }

  constructor(spec: DemandSpec, net: Network, opts: { stepLength: number; begin: number; end?: number; seed: number }) {
    const { stepLength, begin, seed } = opts;
    this.net = net;
    this.opts = { ...opts };
    this.warnings = [...net.warnings, ...spec.warnings];
    const unknownClasses = new Map<string, string>();
    for (const u of net.unknownClasses) if (!unknownClasses.has(u.name)) unknownClasses.set(u.name, u.lane);
    for (const [name, lane] of unknownClasses)
      this.warnings.push(
        `lane "${lane}" (and maybe others) names vehicle class "${name}", which SUMO 1.15 does not know; ignored`,
      );
    const typeIndex = this.typeIndex;
    for (const t of spec.vTypes) {
      typeIndex.set(t.id, this.types.length);
      this.types.push(compileVType(t, stepLength));
    }
    const typeDists = new Map<string, Choice>();
    for (const d of spec.vTypeDistributions ?? []) {
      typeDists.set(
        d.id,
        choice(
          d.vTypes.map((t) => {
            const k = typeIndex.get(t);
            if (k === undefined)
              throw new InputError(spec.source, `vTypeDistribution "${d.id}" names unknown vType "${t}"`);
            return k;
          }),
          d.probabilities,
        ),
      );
    }
    const routeDists = new Map<string, { spec: RouteDistributionSpec; choice: Choice }>();
    for (const d of spec.routeDistributions ?? []) {
      routeDists.set(d.id, {
        spec: d,
        choice: choice(
          d.routes.map((_, i) => i),
          d.routes.map((r) => r.probability),
        ),
      });
    }
    const routers = new Map<number, Router>();
    const routerFor = (cls: number): Router => {
      let r = routers.get(cls);
      if (r === undefined) routers.set(cls, (r = new Router(net, cls)));
      return r;
    };
    const routeKey = this.routeKey;
    const routes: number[][] = [];
    const notes = new Set<string>();
    const noteOnce = (kind: string, text: string) => {
      if (notes.has(kind)) return;
      notes.add(kind);
      this.warnings.push(text);
    };

    interface Entry {
      id: string;
      depart: number;
      order: number;
      type: number;
      route: number;
      dl: number;
      ds: number;
      dp: number;
      ap: number;
      al: number;
      as: number;
      stopFirst: number;
      stopLast: number;
      /** index into `this.flows`, -1 for a vehicle */
      flow: number;
    }
    const entries: Entry[] = [];
    /** the vType of a vehicle: `name` itself, or drawn from the vTypeDistribution `name` by `u` */
    const typeOf = (name: string, who: string, u: () => number): number => {
      const t = typeIndex.get(name);
      if (t !== undefined) return t;
      const d = typeDists.get(name);
      if (d !== undefined) return pick(d, u());
      throw new InputError(spec.source, `${who} names unknown vType "${name}"`);
    };
    const edgeOf = (id: string, who: string): number | undefined => {
      const e = net.edgeIndex.get(id);
      if (e === undefined) this.warnings.push(`${who}: unknown edge "${id}"; skipped`);
      return e;
    };
    const laneOf = (id: string, who: string): number | undefined => {
      const l = net.laneIndex.get(id);
      if (l === undefined) this.warnings.push(`${who}: unknown lane "${id}" for a stop; skipped`);
      return l;
    };
    /**
     * route index for an explicit route or a trip, or -1 (with a warning) when a vehicle of type
     * `type` cannot drive it (SUMO: the class may not use an edge or a connection of it). A trip is
     * routed through the edges of its stops, in order, after its via edges.
     */
    const routeOf = (
      r: { route?: string[]; from?: string; to?: string; via?: string[]; stops?: StopSpec[] },
      type: number,
      who: string,
    ): number => {
      const cls = this.types[type]!.vClass;
      const className = spec.vTypes[type]!.vClass;
      let edges: number[] = [];
      if (r.route) {
        for (const id of r.route) {
          const e = edgeOf(id, who);
          if (e === undefined) return -1;
          if ((net.edgePerm[e]! & cls) === 0) {
            this.warnings.push(`${who}: vClass "${className}" may not use edge "${id}"; skipped`);
            return -1;
          }
          edges.push(e);
        }
        for (let i = 0; i + 1 < edges.length; i++) {
          if (!net.edgesConnected(edges[i]!, edges[i + 1]!, cls)) {
            this.warnings.push(
              `${who}: no connection from edge "${net.edgeIds[edges[i]!]}" to "${net.edgeIds[edges[i + 1]!]}" for vClass "${className}"; skipped`,
            );
            return -1;
          }
        }
      } else {
        const stopEdges: string[] = [];
        for (const s of r.stops ?? []) {
          const l = net.laneIndex.get(s.lane);
          const e = l === undefined ? undefined : net.edgeIds[net.laneEdge[l]!];
          if (e !== undefined && stopEdges[stopEdges.length - 1] !== e) stopEdges.push(e);
        }
        const points = [r.from, ...(r.via ?? []), ...stopEdges, r.to];
        for (let i = 0; i + 1 < points.length; i++) {
          const a = points[i] === undefined ? undefined : edgeOf(points[i]!, who);
          const b = points[i + 1] === undefined ? undefined : edgeOf(points[i + 1]!, who);
          if (a === undefined || b === undefined) {
            if (points[i] === undefined || points[i + 1] === undefined)
              this.warnings.push(`${who}: a trip needs both from and to; skipped`);
            return -1;
          }
          if (a === b && i > 0) continue; // a stop on the via or destination edge
          const part = routerFor(cls).route(a, b);
          if (!part) {
            this.warnings.push(
              `${who}: no route from "${points[i]}" to "${points[i + 1]}" for vClass "${className}"; skipped`,
            );
            return -1;
          }
          edges = edges.length ? edges.concat(part.slice(1)) : part;
        }
      }
      if (edges.length === 0) {
        this.warnings.push(`${who}: empty route; skipped`);
        return -1;
      }
      const key = edges.join(',');
      let idx = routeKey.get(key);
      if (idx === undefined) {
        idx = routes.length;
        routes.push(edges);
        routeKey.set(key, idx);
      }
      return idx;
    };
    const st = this.stops;
    /**
     * Adds `stops` (in order along route `route`) to the stop table: [first, last), or undefined
     * (with a warning) when a stop is not on the route downstream of the one before (SUMO: "is not
     * downstream the current route") or its lane is closed to the vehicle's class.
     */
    const stopsOf = (
      stops: readonly StopSpec[] | undefined,
      route: number,
      type: number,
      who: string,
    ): [number, number] | undefined => {
      const first = st.count;
      if (!stops || stops.length === 0) return [first, first];
      const edges = routes[route]!;
      let ri = 0;
      let lastPos = -Infinity;
      const added: number[] = [];
      for (const s of stops) {
        const lane = laneOf(s.lane, who);
        if (lane === undefined) return undefined;
        const edge = net.laneEdge[lane]!;
        // the first occurrence of its edge at or after the previous stop (further on when the same edge is behind it)
        let k = ri;
        while (k < edges.length && (edges[k] !== edge || (k === ri && s.endPos < lastPos))) k++;
        if (k >= edges.length) {
          this.warnings.push(
            `${s.where ?? who}: ${who} skipped: its stop on lane "${s.lane}" is not downstream on its route (SUMO stops with an error here)`,
          );
          st.count = first;
          return undefined;
        }
        if ((net.lanePerm[lane]! & this.types[type]!.vClass) === 0) {
          this.warnings.push(
            `${s.where ?? who}: ${who} skipped: vClass "${spec.vTypes[type]!.vClass}" may not use the lane "${s.lane}" of its stop`,
          );
          st.count = first;
          return undefined;
        }
        ri = k;
        lastPos = s.endPos;
        added.push(lane, k);
        const i = st.count++;
        st.lane[i] = lane;
        st.routeIdx[i] = k;
        st.startPos[i] = Math.min(s.startPos, s.endPos);
        st.endPos[i] = s.endPos;
        st.duration[i] = s.duration ?? 0;
        st.until[i] = s.until ?? -1;
        st.untilFrom[i] = s.untilFrom ?? NaN;
        st.place[i] = s.busStop !== undefined ? 1 : 0;
      }
      return [first, st.count];
    };
    /** The arrivalLane code of a vehicle on route `route`: current, or a lane index of its last edge (-1 with a warning: none such) */
    const arrivalLaneOf = (
      al: ArrivalLane | undefined,
      route: number,
      type: number,
      who: string,
      u: () => number,
    ): number | undefined => {
      if (al === undefined || al.kind === 'current') return ArrivalLaneCode.current;
      const edges = routes[route]!;
      const last = edges[edges.length - 1]!;
      const first = net.edgeFirstLane[last]!;
      const n = net.edgeLaneCount[last]!;
      const cls = this.types[type]!.vClass;
      const allowed: number[] = [];
      for (let l = 0; l < n; l++) if ((net.lanePerm[first + l]! & cls) !== 0) allowed.push(l);
      if (al.kind === 'first') return allowed[0] ?? 0;
      if (al.kind !== 'index')
        return allowed.length > 0 ? allowed[Math.min(allowed.length - 1, Math.floor(u() * allowed.length))]! : 0;
      if (al.index >= n) {
        this.warnings.push(
          `${who}: arrivalLane ${al.index} does not exist on its last edge "${net.edgeIds[last]}" (${n} lanes); skipped`,
        );
        return undefined;
      }
      return al.index;
    };
    type Placed = { type: number; route: number; stopFirst: number; stopLast: number; al: number };
    type Placeable = {
      type: string;
      route?: string[];
      routeDistribution?: string;
      from?: string;
      to?: string;
      via?: string[];
      stops?: StopSpec[];
      arrivalLane?: ArrivalLane;
    };
    /** type, route, stops and arrival lane of one vehicle; undefined (warned) when it cannot drive */
    const place = (
      v: Placeable,
      who: string,
      draw: (purpose: number) => number,
      memo?: Map<string, Placed | undefined>,
    ): Placed | undefined => {
      const type = typeOf(v.type, who, () => draw(Purpose.vTypeChoice));
      let path: { route?: string[]; from?: string; to?: string; via?: string[]; stops?: StopSpec[] } = v;
      let alt = -1;
      if (v.routeDistribution !== undefined) {
        const d = routeDists.get(v.routeDistribution);
        if (d === undefined)
          throw new InputError(spec.source, `${who} names unknown routeDistribution "${v.routeDistribution}"`);
        alt = pick(d.choice, draw(Purpose.routeChoice));
        const r = d.spec.routes[alt]!;
        path = { route: r.edges, stops: [...(r.stops ?? []), ...(v.stops ?? [])] };
      }
      // a flow's vehicles with the same type and route share route, stops and (unless random) arrival lane
      const key = v.arrivalLane?.kind === 'random' ? undefined : `${type},${alt}`;
      if (memo !== undefined && key !== undefined && memo.has(key)) return memo.get(key);
      let out: Placed | undefined;
      const route = routeOf(path, type, who);
      const stops = route < 0 ? undefined : stopsOf(path.stops, route, type, who);
      const al =
        stops === undefined
          ? undefined
          : arrivalLaneOf(v.arrivalLane, route, type, who, () => draw(Purpose.arrivalLane));
      if (stops !== undefined && al !== undefined) out = { type, route, stopFirst: stops[0], stopLast: stops[1], al };
      if (memo !== undefined && key !== undefined) memo.set(key, out);
      return out;
    };

    let order = 0;
    let dropped = 0;
    spec.vehicles.forEach((v, vi) => {
      if (v.depart < begin) {
        dropped++;
        return;
      }
      const who = `vehicle "${v.id}"`;
      const p = place(v, who, (purpose) => uniform(seed, vi, 0, purpose));
      if (p === undefined) return;
      const c = codes(v);
      entries.push({ id: v.id, depart: v.depart, order: order++, ...p, ...c, flow: -1 });
    });
    spec.flows.forEach((f, specIndex) => {
      const who = `flow "${f.id}"`;
      // the flow's vehicles draw their type and route per vehicle (a distribution), or share them
      const drawsEach = typeDists.has(f.type) || f.routeDistribution !== undefined || f.arrivalLane?.kind === 'random';
      const memo = new Map<string, Placed | undefined>();
      const member = (n: number) => place(f, who, (purpose) => uniform(seed, specIndex, n, purpose + FLOW_DRAW), memo);
      const shared = member(0);
      if (shared === undefined) return;
      const c = codes(f);
      const flowEnd = opts.end !== undefined ? Math.min(f.end, opts.end) : f.end;
      const flow = this.flows.length;
      this.flowIndex.set(f.id, flow);
      this.flows.push({ id: f.id, specIndex, ...shared, ...c, begin: f.begin, end: flowEnd, members: [] });
      let n = 0;
      const add = (t: number) => {
        const p = drawsEach && n > 0 ? member(n) : shared;
        const id = `${f.id}.${n++}`;
        if (p !== undefined) entries.push({ id, depart: t, order: order++, ...p, ...c, flow });
      };
      const limit = f.number ?? Infinity;
      if (f.probability !== undefined) {
        // one Bernoulli draw per step, as SUMO does for probability flows (p is per second), from the
        // later of the flow's and the scenario's begin
        const p = Math.min(1, f.probability * stepLength);
        for (
          let k = Math.max(0, Math.ceil((f.begin - begin) / stepLength - 1e-9));
          begin + k * stepLength < flowEnd && n < limit;
          k++
        ) {
          if (uniform(seed, specIndex, k, Purpose.flowProbability) < p) add(begin + k * stepLength);
        }
      } else if (f.periodExp !== undefined) {
        // SUMO's period="exp(rate)": exponentially distributed headways, the first from the flow's begin
        const rate = f.periodExp;
        let j = 0;
        for (
          let t = f.begin - Math.log(1 - uniform(seed, specIndex, j, Purpose.flowExp)) / rate;
          t < flowEnd - 1e-9 && j < limit;
          t -= Math.log(1 - uniform(seed, specIndex, ++j, Purpose.flowExp)) / rate
        ) {
          if (t < begin - 1e-9) dropped++;
          else add(t);
        }
      } else {
        let period: number;
        if (f.period !== undefined) period = f.period;
        else if (f.vehsPerHour !== undefined) period = 3600 / f.vehsPerHour;
        else if (f.number !== undefined) period = (f.end - f.begin) / Math.max(1, f.number);
        else throw new InputError(spec.source, `${who} has none of period, vehsPerHour, probability, number`);
        if (!(period > 0)) throw new InputError(spec.source, `${who} has a non-positive period`);
        // departures before the scenario's begin are skipped, but count toward `number` (SUMO)
        let j = 0;
        for (let t = f.begin; t < flowEnd - 1e-9 && j < limit; t = f.begin + ++j * period) {
          if (t < begin - 1e-9) dropped++;
          else add(t);
        }
      }
    });
    entries.sort((a, b) => a.depart - b.depart || a.order - b.order);
    this.droppedBeforeBegin = dropped;
    if (dropped > 0)
      this.warnings.push(`${dropped} vehicle(s) depart before the begin (${begin} s) and were dropped, as SUMO does`);

    const n = entries.length;
    this.count = n;
    this.baseCount = n;
    this.cancelled = new Uint8Array(n);
    this.depart = new Float64Array(n);
    this.departStep = new Int32Array(n);
    this.type = new Int32Array(n);
    this.route = new Int32Array(n);
    this.departLane = new Int32Array(n);
    this.departSpeed = new Float64Array(n);
    this.departPos = new Float64Array(n);
    this.arrivalPos = new Float64Array(n);
    this.arrivalLane = new Int32Array(n);
    this.arrivalSpeed = new Float64Array(n);
    this.stopFirst = new Int32Array(n);
    this.stopLast = new Int32Array(n);
    this.speedFactor = new Float64Array(n);
    entries.forEach((e, i) => {
      this.ids.push(e.id);
      this.depart[i] = e.depart;
      // the first step whose time is at or after the depart time (SUMO inserts at t >= depart)
      this.departStep[i] = Math.max(0, Math.ceil((e.depart - begin) / stepLength - 1e-9));
      this.type[i] = e.type;
      this.route[i] = e.route;
      this.departLane[i] = e.dl;
      this.departSpeed[i] = e.ds;
      this.departPos[i] = e.dp;
      this.arrivalPos[i] = e.ap;
      this.arrivalLane[i] = e.al;
      this.arrivalSpeed[i] = e.as;
      this.stopFirst[i] = e.stopFirst;
      this.stopLast[i] = e.stopLast;
      this.speedFactor[i] = drawSpeedFactor(this.types[e.type]!, seed, i);
      if (e.flow >= 0) this.flows[e.flow]!.members.push(i);
      if (e.ds >= 0) {
        // SUMO 1.15 stops with an error ("Departure speed ... is too high for the departure edge")
        const edge = routes[e.route]![0]!;
        const limit = Math.min(
          this.types[e.type]!.maxSpeed,
          net.laneSpeed[net.edgeFirstLane[edge]!]! * this.speedFactor[i]!,
        );
        if (e.ds > limit + 1e-6)
          noteOnce(
            'departSpeed',
            `vehicle "${e.id}" (and maybe others): departSpeed ${e.ds} m/s is above the ${limit.toFixed(2)} m/s it may drive on its first edge "${net.edgeIds[edge]}"; SUMO 1.15 stops with an error there, we insert it at that speed`,
          );
      }
    });
    this.routeStart = new Int32Array(routes.length + 1);
    routes.forEach((r, i) => (this.routeStart[i + 1] = this.routeStart[i]! + r.length));
    this.routeEdges = new Int32Array(this.routeStart[routes.length]!);
    routes.forEach((r, i) => this.routeEdges.set(r, this.routeStart[i]!));
    this.routeCount = routes.length;
  }

  /** The time stop `k` of vehicle `vid` lasts at least until, s (-1: none): `until`, shifted for a route's or a flow's stop (SUMO). */
  stopUntil(k: number, vid: number): number {
    const u = this.stops.until[k]!;
    if (u < 0) return -1;
    const from = this.stops.untilFrom[k]!;
    return from === from ? u + this.depart[vid]! - from : u;
  }

  /** How far a vehicle of type `type` on route `r` can drive from each lane without changing lanes (bestlanes.ts). */
  continuation(type: number, r: number): RouteContinuation {
    let byRoute = this.continuations[type];
    if (byRoute === undefined) this.continuations[type] = byRoute = [];
    let c = byRoute[r];
    if (c === undefined) byRoute[r] = c = routeContinuation(this.net, this.routeOf(r), this.types[type]!.vClass);
    return c;
  }

  /** Edge indices of route `r`. */
  routeOf(r: number): Int32Array {
    return this.routeEdges.subarray(this.routeStart[r]!, this.routeStart[r + 1]!);
  }

  /** The route index of an edge list, adding the route when it is new. */
  addRoute(edges: readonly number[]): number {
    const key = edges.join(',');
    const known = this.routeKey.get(key);
    if (known !== undefined) return known;
    const r = this.routeCount++;
    const start = grow(this.routeStart, r + 2, Int32Array);
    const end = start[r]! + edges.length;
    const flat = grow(this.routeEdges, end, Int32Array);
    flat.set(edges, start[r]!);
    start[r + 1] = end;
    this.routeStart = start;
    this.routeEdges = flat;
    this.routeKey.set(key, r);
    return r;
  }

  /**
   * Applies online command `seq`: appends `entries` as demand indices `first`, `first + 1`, ... and
   * cancels the not yet departed vehicles `cancel`. Idempotent: a demand shared by several engines
   * (the parts of a run in one process) is changed by the first engine that applies the command.
   * Returns false when the command had already been applied.
   */
  extend(seq: number, first: number, entries: readonly DemandEntry[], cancel: readonly number[], flow = -1): boolean {
    if (this.appliedCommands.has(seq)) return false;
    if (first !== this.count)
      throw new Error(`demand extension ${seq} starts at ${first}, but the demand has ${this.count} vehicles`);
    const n = first + entries.length;
    this.depart = grow(this.depart, n, Float64Array);
    this.departStep = grow(this.departStep, n, Int32Array);
    this.type = grow(this.type, n, Int32Array);
    this.route = grow(this.route, n, Int32Array);
    this.departLane = grow(this.departLane, n, Int32Array);
    this.departSpeed = grow(this.departSpeed, n, Float64Array);
    this.departPos = grow(this.departPos, n, Float64Array);
    this.arrivalPos = grow(this.arrivalPos, n, Float64Array);
    this.arrivalLane = grow(this.arrivalLane, n, Int32Array);
    this.arrivalSpeed = grow(this.arrivalSpeed, n, Float64Array);
    this.stopFirst = grow(this.stopFirst, n, Int32Array);
    this.stopLast = grow(this.stopLast, n, Int32Array);
    this.speedFactor = grow(this.speedFactor, n, Float64Array);
    this.cancelled = grow(this.cancelled, n, Uint8Array);
    for (const id of cancel) this.cancelled[id] = 1;
    entries.forEach((e, k) => {
      const i = first + k;
      this.ids[i] = e.id;
      this.departStep[i] = e.departStep;
      this.depart[i] = this.opts.begin + e.departStep * this.opts.stepLength;
      this.type[i] = e.type;
      this.route[i] = this.addRoute(e.routeEdges);
      this.departLane[i] = e.dl;
      this.departSpeed[i] = e.ds;
      this.departPos[i] = e.dp;
      this.arrivalPos[i] = e.ap;
      this.arrivalLane[i] = e.al ?? ArrivalLaneCode.current;
      this.arrivalSpeed[i] = e.as ?? ArrivalSpeedCode.current;
      this.stopFirst[i] = e.stops?.[0] ?? 0;
      this.stopLast[i] = e.stops?.[1] ?? 0;
      this.speedFactor[i] = drawSpeedFactor(this.types[e.type]!, this.opts.seed, i);
      if (flow >= 0) this.flows[flow]!.members.push(i);
    });
    this.count = n;
    this.appliedCommands.add(seq);
    return true;
  }
}

/** Added to a Purpose for the draws of a flow's vehicles (keyed by flow and vehicle number), so they never meet a vehicle's (keyed by vehicle). */
const FLOW_DRAW = 1000;

/** `a` itself when it holds `n` elements, else a copy with room for `n` (doubling). */
function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, n: number, make: new (n: number) => T): T {
  if (a.length >= n) return a;
  const b = new make(Math.max(n, a.length * 2, 16));
  b.set(a);
  return b;
}

function codes(d: DepartSpec) {
  return {
    dl: laneCode(d.departLane),
    ds: speedCode(d.departSpeed),
    dp: posCode(d.departPos),
    ap: arrivalCode(d.arrivalPos),
    as: d.arrivalSpeed?.kind === 'value' ? d.arrivalSpeed.speed : ArrivalSpeedCode.current,
  };
}
function laneCode(d: DepartLane): number {
  return d.kind === 'index' ? d.index : DepartLaneCode[d.kind];
}
function speedCode(d: DepartSpeed): number {
  return d.kind === 'value' ? d.speed : DepartSpeedCode[d.kind];
}
function posCode(d: DepartPos): number {
  return d.kind === 'value' ? d.pos : DepartPosCode[d.kind];
}
function arrivalCode(d: ArrivalPos): number {
  return d.kind === 'value' ? d.pos : ArrivalPosCode[d.kind];
}
