/**
 * The compiled demand: every vehicle that will depart, in departure order (depart time, then input
 * order), with its route as edge indices. Flows are expanded here and trips routed here, so the
 * demand is a pure function of (scenario, seed, step length).
 */
import type { ArrivalPos, DemandSpec, DepartLane, DepartPos, DepartSpeed, VTypeSpec } from '../io/spec.js';
import { InputError, ParameterError } from '../errors.js';
import type { IdmParams } from './idm.js';
import type { Network } from './network.js';
import { Router } from './routing.js';
import { Purpose, uniform } from './rng.js';

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
  return {
    id: t.id,
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
  };
}

export class Demand {
  readonly types: VehicleType[] = [];
  /** by demand index (= departure order) */
  readonly ids: string[] = [];
  readonly depart: Float64Array;
  readonly departStep: Int32Array;
  readonly type: Int32Array;
  readonly route: Int32Array;
  readonly departLane: Int32Array;
  readonly departSpeed: Float64Array;
  readonly departPos: Float64Array;
  readonly arrivalPos: Float64Array;
  /** CSR of routes: edges of route r are routeEdges[routeStart[r] .. routeStart[r+1]) */
  readonly routeStart: Int32Array;
  readonly routeEdges: Int32Array;
  readonly warnings: string[];
  readonly count: number;

  constructor(spec: DemandSpec, net: Network, opts: { stepLength: number; begin: number; end?: number; seed: number }) {
    const { stepLength, begin, seed } = opts;
    this.warnings = [...spec.warnings];
    const typeIndex = new Map<string, number>();
    for (const t of spec.vTypes) {
      typeIndex.set(t.id, this.types.length);
      this.types.push(compileVType(t, stepLength));
    }
    const router = new Router(net);
    const routeKey = new Map<string, number>();
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
    const routeOf = (r: { route?: string[]; from?: string; to?: string; via?: string[] }, who: string): number => {
      let edges: number[] = [];
      if (r.route) {
        for (const id of r.route) {
          const e = edgeOf(id, who);
          if (e === undefined) return -1;
          edges.push(e);
        }
        for (let i = 0; i + 1 < edges.length; i++) {
          if (!net.edgesConnected(edges[i]!, edges[i + 1]!)) {
            this.warnings.push(`${who}: no connection from edge "${net.edgeIds[edges[i]!]}" to "${net.edgeIds[edges[i + 1]!]}"; skipped`);
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
          const part = router.route(a, b);
          if (!part) {
            this.warnings.push(`${who}: no route from "${stops[i]}" to "${stops[i + 1]}"; skipped`);
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
    for (const v of spec.vehicles) {
      const who = `vehicle "${v.id}"`;
      const route = routeOf(v, who);
      if (route < 0) continue;
      entries.push({ id: v.id, depart: v.depart, order: order++, type: typeOf(v.type, who), route, ...codes(v) });
    }
    for (const f of spec.flows) {
      const who = `flow "${f.id}"`;
      const route = routeOf(f, who);
      if (route < 0) continue;
      const type = typeOf(f.type, who);
      const c = codes(f);
      const flowEnd = opts.end !== undefined ? Math.min(f.end, opts.end) : f.end;
      let n = 0;
      const add = (t: number) => entries.push({ id: `${f.id}.${n++}`, depart: t, order: order++, type, route, ...c });
      if (f.probability !== undefined) {
        // one Bernoulli draw per step, as SUMO does for probability flows (p is per second)
        const p = Math.min(1, f.probability * stepLength);
        const flowIndex = spec.flows.indexOf(f);
        for (let k = Math.ceil((f.begin - begin) / stepLength - 1e-9); begin + k * stepLength < flowEnd; k++) {
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
        for (let t = f.begin; t < flowEnd - 1e-9 && n < limit; t = f.begin + n * period) add(t);
      }
    }
    entries.sort((a, b) => a.depart - b.depart || a.order - b.order);

    const n = entries.length;
    this.count = n;
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
    });
    this.routeStart = new Int32Array(routes.length + 1);
    routes.forEach((r, i) => (this.routeStart[i + 1] = this.routeStart[i]! + r.length));
    this.routeEdges = new Int32Array(this.routeStart[routes.length]!);
    routes.forEach((r, i) => this.routeEdges.set(r, this.routeStart[i]!));
  }
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
