/**
 * The car-following kernel: the Intelligent Driver Model as SUMO implements it (MSCFModel_IDM), so
 * that our figures can be compared with SUMO's. Pure functions, no allocation.
 *
 * Units: gaps in m, speeds in m/s, accelerations in m/s², times in s.
 */

/** The per-vehicle-type constants the kernel needs, precomputed once. */
export interface IdmParams {
  /** maximum acceleration a, m/s² */
  accel: number;
  /** comfortable deceleration b, m/s² */
  decel: number;
  /** desired time headway T, s */
  tau: number;
  /** standstill gap s0, m */
  minGap: number;
  /** acceleration exponent δ (SUMO default 4) */
  delta: number;
  /** internal integration steps per simulation step (SUMO: round(dt / stepping)) */
  iterations: number;
  /** 2·sqrt(a·b), m/s² */
  twoSqrtAB: number;
}

const EPS = 1e-6;

/**
 * IDM acceleration `acc(s, v, vLead)` of a vehicle with gap `s` (bumper to bumper, m) to a leader
 * at speed `vLead`, desired speed `v0`: a·(1 − (v/v0)^δ − (s★/s)²), s★ = s0 + max(0, vT + vΔv/(2√(ab))).
 */
export function acc(s: number, v: number, vLead: number, v0: number, p: IdmParams, respectMinGap = true): number {
  const dv = v - vLead;
  let sStar = v * p.tau + (v * dv) / p.twoSqrtAB;
  if (sStar < 0) sStar = 0;
  if (respectMinGap) sStar += p.minGap;
  const gap = s > EPS ? s : EPS;
  const r = v / (v0 > EPS ? v0 : EPS);
  const free = p.delta === 4 ? r * r * r * r : Math.pow(r, p.delta);
  return p.accel * (1 - free - (sStar * sStar) / (gap * gap));
}

/**
 * Speed after one step of length `dt` (SUMO's `_v`): the IDM integrated in `iterations` sub-steps,
 * with the leader assumed to keep its speed. `gap` is the gap *after* subtracting minGap when
 * `respectMinGap` (as SUMO passes it), the raw distance to a stop point otherwise.
 */
export function idmSpeed(
  gap: number,
  v: number,
  vLead: number,
  v0: number,
  dt: number,
  p: IdmParams,
  respectMinGap: boolean,
): number {
  let s = respectMinGap ? gap + p.minGap : gap;
  let vNew = v;
  const n = p.iterations;
  const v0s = v0 > EPS ? v0 : EPS;
  for (let i = 0; i < n; i++) {
    const dv = vNew - vLead;
    let sStar = vNew * p.tau + (vNew * dv) / p.twoSqrtAB;
    if (sStar < 0) sStar = 0;
    if (respectMinGap) sStar += p.minGap;
    if (s < EPS) s = EPS;
    const r = vNew / v0s;
    const free = p.delta === 4 ? r * r * r * r : Math.pow(r, p.delta);
    const a = p.accel * (1 - free - (sStar * sStar) / (s * s));
    vNew = vNew + (a * dt) / n;
    if (vNew < 0) vNew = 0;
    const closing = ((vNew - vLead) * dt) / n;
    if (closing > 0) s -= closing;
  }
  return vNew > 0 ? vNew : 0;
}

/** Speed on a free road with desired speed `v0` (SUMO freeSpeed, accelerating branch). */
export function freeSpeed(v: number, v0: number, dt: number, p: IdmParams): number {
  return idmSpeed(1e6, v, v0, v0, dt, p, false);
}

/**
 * SUMO's `maximumSafeStopSpeedEuler`: the highest speed from which the vehicle can still stop
 * within `gap` braking with `decel` every step, with a reaction headway of one step. Used when the
 * IDM alone would never creep up to a stop line (v ≈ 0, gap > 0).
 */
export function maximumSafeStopSpeed(gap: number, decel: number, dt: number): number {
  const g = gap - EPS;
  if (g < 0) return 0;
  const b = decel * dt;
  const t = dt;
  const s = dt;
  const n = Math.floor(0.5 - (t + Math.sqrt(s * s + 4 * (s * ((2 * g) / b - t) + t * t)) * -0.5) / s);
  const h = 0.5 * n * (n - 1) * b * s;
  const r = (g - h) / (n * s + t);
  const x = n * b + r;
  return x > 0 ? x : 0;
}

/** Speed to come to a stop at a point `gap` m ahead (SUMO stopSpeed for the IDM). */
export function stopSpeed(gap: number, v: number, v0: number, dt: number, p: IdmParams): number {
  if (gap < 0.01) return 0;
  const r = idmSpeed(gap, v, 0, v0, dt, p, false);
  if (v < EPS && r < EPS) {
    // SUMO caps every speed at v + a·dt (maxNextSpeed); the IDM itself never exceeds it
    // unary +: V8 then knows the result is a number, even where it does not inline the call, and
    // keeps the speeds this function returns unboxed (else every return allocates)
    const creep = +maximumSafeStopSpeed(gap, p.decel, dt);
    const cap = v + p.accel * dt;
    return creep < cap ? creep : cap;
  }
  return r;
}

/** The gap (after minGap) a follower at `v` needs behind a leader at `vLead` (SUMO getSecureGap). */
export function secureGap(v: number, vLead: number, p: IdmParams): number {
  const g = v * p.tau + (v * (v - vLead)) / p.twoSqrtAB;
  return g > 0 ? g : 0;
}

/** Braking distance from `v` at constant deceleration `decel` (continuous time). */
export function brakeGap(v: number, decel: number): number {
  return (v * v) / (2 * decel);
}

/**
 * Distance needed to stop from `v` under the Euler update (x += v' dt) braking by `decel` each step:
 * dt · Σ_k max(0, v − k·decel·dt). A vehicle at speed ≤ decel·dt can stop where it is.
 */
export function eulerBrakeGap(v: number, decel: number, dt: number): number {
  const b = decel * dt;
  const n = Math.floor(v / b);
  return dt * (n * v - (b * n * (n + 1)) / 2);
}
