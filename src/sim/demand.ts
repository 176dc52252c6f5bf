/**
 * The compiled demand: every vehicle that will depart, in departure order (depart time, then input
 * order), with its route as edge indices. Flows are expanded here and trips routed here, so the
 * demand is a pure function of (scenario, seed, step length).
 */
import type { ArrivalPos, DemandSpec, DepartLane, DepartPos, DepartSpeed, ScenarioSpec, VTypeSpec } from '../io/spec.js';
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
export const DepartSpeedCode = { max: -1, desired: -2, random: -3, speedLimit: -4 } as const;
/** departPos codes (above KEYWORD: a position in m, negative counts from the lane end as in SUMO) */
export const POS_KEYWORD = -1e9;
export const DepartPosCode = { base: -1e9, free: -1e9 - 1, random: -1e9 - 2, last: -1e9 - 3 } as const;
/** arrivalPos codes (above POS_KEYWORD: a position in m) */
export const ArrivalPosCode = { max: -1e9, random: -1e9 - 1 } as const;

export interface VehicleType {
  id: string;
  /** the class as a mask (vclass.ts): the lanes, links and routes the type may use */
  vClass: number;
  idm: IdmParams;
  length: number;
  minGap: number;
  maxSpeed: number;
  speedFactor: number;
  decel: number;
  emergencyDecel: number;
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
  if (t.emergencyDecel < t.decel) {
    throw new ParameterError(owner, 'emergencyDecel', `(${t.emergencyDecel}) must not be below decel (${t.decel})`);
  }
  const vClass = vClassMask(t.vClass);
  if (vClass === 0) throw new ParameterError(owner, 'vClass', `"${t.vClass}" is not a SUMO vehicle class`);
  return {
    id: t.id,
    vClass,
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
    decel: t.decel,
    emergencyDecel: t.emergencyDecel,
    lcSpeedGain: t.lcSpeedGain,
    lcKeepRight: t.lcKeepRight,
    lcCooperative: t.lcCooperative,
    lcStrategic: t.lcStrategic,
    decelV0Divisor: Math.pow(1 + t.decel / t.accel, 1 / t.delta),
  };
}

/** A `<flow>` as online commands see it: what its vehicles share, and which demand indices it made. */
export interface FlowInfo {
  id: string;
  /** position in the demand spec's flows (the flow's random stream for probability flows) */
  specIndex: number;
  type: number;
  route: number;
  dl: number;
  ds: number;
  dp: number;
  ap: number;
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
}

/** A scenario's demand over its network, with the times and seed the scenario gives. */
export function scenarioDemand(spec: ScenarioSpec, net: Network): Demand {
  return new Demand(spec.demand, net, { stepLength: spec.stepLength, begin: spec.begin, end: spec.end, seed: spec.seed });
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
  /** 1 for a vehicle an online command (setFlow) cancelled before it departed */
  cancelled: Uint8Array;
  /** CSR of routes: edges of route r are routeEdges[routeStart[r] .. routeStart[r+1]) */
  routeStart: Int32Array;
  routeEdges: Int32Array;
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
    for (const [name, lane] of unknownClasses) this.warnings.push(`lane "${lane}" (and maybe others) names vehicle class "${name}", which SUMO 1.15 does not know; ignored`);
    const typeIndex = this.typeIndex;
    for (const t of spec.vTypes) {
      typeIndex.set(t.id, this.types.length);
      this.types.push(compileVType(t, stepLength));
    }
    const routers = new Map<number, Router>();
    const routerFor = (cls: number): Router => {
      let r = routers.get(cls);
      if (r === undefined) routers.set(cls, (r = new Router(net, cls)));
      return r;
    };
    const routeKey = this.routeKey;
    const routes: number[][] = [];

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
      /** index into `this.flows`, -1 for a vehicle */
      flow: number;
    }
    const entries: Entry[] = [];
    const typeOf = (name: string, who: string): number => {
      const t = typeIndex.get(name);
      if (t === undefined) throw new InputError(spec.source, `${who} names unknown vType "${name}"`);
      return t;
    };
    const edgeOf = (id: string, who: string): number | undefined => {
      const e = net.edgeIndex.get(id);
      if (e === undefined) this.warnings.push(`${who}: unknown edge "${id}"; skipped`);
      return e;
    };
    /** route index for an explicit route or a trip, or -1 (with a warning) when it cannot be driven */
    /**
     * route index for an explicit route or a trip, or -1 (with a warning) when a vehicle of type
     * `type` cannot drive it (SUMO: the class may not use an edge or a connection of it)
     */
    const routeOf = (r: { route?: string[]; from?: string; to?: string; via?: string[] }, type: number, who: string): number => {
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
            this.warnings.push(`${who}: no connection from edge "${net.edgeIds[edges[i]!]}" to "${net.edgeIds[edges[i + 1]!]}" for vClass "${className}"; skipped`);
            return -1;
          }
        }
      } else {
        const stops = [r.from, ...(r.via ?? []), r.to];
        for (let i = 0; i + 1 < stops.length; i++) {
          const a = stops[i] === undefined ? undefined : edgeOf(stops[i]!, who);
          const b = stops[i + 1] === undefined ? undefined : edgeOf(stops[i + 1]!, who);
          if (a === undefined || b === undefined) {
            if (stops[i] === undefined || stops[i + 1] === undefined) this.warnings.push(`${who}: a trip needs both from and to; skipped`);
            return -1;
          }
          const part = routerFor(cls).route(a, b);
          if (!part) {
            this.warnings.push(`${who}: no route from "${stops[i]}" to "${stops[i + 1]}" for vClass "${className}"; skipped`);
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

    let order = 0;
    let dropped = 0;
    for (const v of spec.vehicles) {
      if (v.depart < begin) {
        dropped++;
        continue;
      }
      const who = `vehicle "${v.id}"`;
      const type = typeOf(v.type, who);
      const route = routeOf(v, type, who);
      if (route < 0) continue;
      entries.push({ id: v.id, depart: v.depart, order: order++, type, route, ...codes(v), flow: -1 });
    }
    for (const f of spec.flows) {
      const who = `flow "${f.id}"`;
      const type = typeOf(f.type, who);
      const route = routeOf(f, type, who);
      if (route < 0) continue;
      const c = codes(f);
      const flowEnd = opts.end !== undefined ? Math.min(f.end, opts.end) : f.end;
      const flow = this.flows.length;
      this.flowIndex.set(f.id, flow);
      this.flows.push({ id: f.id, specIndex: spec.flows.indexOf(f), type, route, ...c, begin: f.begin, end: flowEnd, members: [] });
      let n = 0;
      const add = (t: number) => entries.push({ id: `${f.id}.${n++}`, depart: t, order: order++, type, route, ...c, flow });
      if (f.probability !== undefined) {
        // one Bernoulli draw per step, as SUMO does for probability flows (p is per second), from the
        // later of the flow's and the scenario's begin
        const p = Math.min(1, f.probability * stepLength);
        const flowIndex = spec.flows.indexOf(f);
        for (let k = Math.max(0, Math.ceil((f.begin - begin) / stepLength - 1e-9)); begin + k * stepLength < flowEnd; k++) {
          if (uniform(seed, flowIndex, k, Purpose.flowProbability) < p) add(begin + k * stepLength);
        }
      } else {
        let period: number;
        if (f.period !== undefined) period = f.period;
        else if (f.vehsPerHour !== undefined) period = 3600 / f.vehsPerHour;
        else if (f.number !== undefined) period = (f.end - f.begin) / Math.max(1, f.number);
        else throw new InputError(spec.source, `${who} has none of period, vehsPerHour, probability, number`);
        if (!(period > 0)) throw new InputError(spec.source, `${who} has a non-positive period`);
        const limit = f.number ?? Infinity;
        // departures before the scenario's begin are skipped, but count toward `number` (SUMO)
        let j = 0;
        for (let t = f.begin; t < flowEnd - 1e-9 && j < limit; t = f.begin + ++j * period) {
          if (t < begin - 1e-9) dropped++;
          else add(t);
        }
      }
    }
    entries.sort((a, b) => a.depart - b.depart || a.order - b.order);
    this.droppedBeforeBegin = dropped;
    if (dropped > 0) this.warnings.push(`${dropped} vehicle(s) depart before the begin (${begin} s) and were dropped, as SUMO does`);

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
      if (e.flow >= 0) this.flows[e.flow]!.members.push(i);
    });
    this.routeStart = new Int32Array(routes.length + 1);
    routes.forEach((r, i) => (this.routeStart[i + 1] = this.routeStart[i]! + r.length));
    this.routeEdges = new Int32Array(this.routeStart[routes.length]!);
    routes.forEach((r, i) => this.routeEdges.set(r, this.routeStart[i]!));
    this.routeCount = routes.length;
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
    if (first !== this.count) throw new Error(`demand extension ${seq} starts at ${first}, but the demand has ${this.count} vehicles`);
    const n = first + entries.length;
    this.depart = grow(this.depart, n, Float64Array);
    this.departStep = grow(this.departStep, n, Int32Array);
    this.type = grow(this.type, n, Int32Array);
    this.route = grow(this.route, n, Int32Array);
    this.departLane = grow(this.departLane, n, Int32Array);
    this.departSpeed = grow(this.departSpeed, n, Float64Array);
    this.departPos = grow(this.departPos, n, Float64Array);
    this.arrivalPos = grow(this.arrivalPos, n, Float64Array);
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
      if (flow >= 0) this.flows[flow]!.members.push(i);
    });
    this.count = n;
    this.appliedCommands.add(seq);
    return true;
  }
}

/** `a` itself when it holds `n` elements, else a copy with room for `n` (doubling). */
function grow<T extends Int32Array | Float64Array | Uint8Array>(a: T, n: number, make: new (n: number) => T): T {
  if (a.length >= n) return a;
  const b = new make(Math.max(n, a.length * 2, 16));
  b.set(a);
  return b;
}

function codes(d: { departLane: DepartLane; departSpeed: DepartSpeed; departPos: DepartPos; arrivalPos: ArrivalPos }) {
  return { dl: laneCode(d.departLane), ds: speedCode(d.departSpeed), dp: posCode(d.departPos), ap: arrivalCode(d.arrivalPos) };
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
