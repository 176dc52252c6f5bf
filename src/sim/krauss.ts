/**
 * The Krauss car-following kernel as SUMO 1.15 runs it by default (MSCFModel_Krauss on top of
 * MSCFModel_KraussOrig1 and MSCFModel, Euler position update): safe speeds behind a leader and
 * before a stop point, the speed for reaching a lower limit ahead, the step's speed bounds and σ
 * dawdling. Pure functions of numbers, no allocation; the random number for dawdling is passed in
 * (the engine draws it from the counter-based RNG, src/sim/rng.ts).
 *
 * Units: gaps and distances in m, speeds in m/s, accelerations in m/s², times (`dt`, `tau`) in s.
 * `dt` is the step length (SUMO's TS); SUMO's ACCEL2SPEED(a) is `a·dt`, SPEED2DIST(v) is `v·dt`.
 */

/** SUMO's NUMERICAL_EPS. */
const NUMERICAL_EPS = 0.001;
/** SUMO's EMERGENCY_DECEL_AMPLIFIER: an emergency brakes a little harder than the bare minimum. */
const EMERGENCY_DECEL_AMPLIFIER = 1.2;

/**
 * Distance covered while braking from `v` to a stop by `decel` every step of `dt` (Euler), plus
 * `v·headway` of reaction (SUMO brakeGapEuler).
 */
export function brakeGap(v: number, decel: number, dt: number, headway: number): number {
  const b = decel * dt;
  const n = Math.floor(v / b);
  return dt * (n * v - (b * n * (n + 1)) / 2) + v * headway;
}

/**
 * The highest speed from which a vehicle braking by `decel` every step (after a reaction time of
 * `headway`) still stops within `gap` (SUMO maximumSafeStopSpeedEuler). 0 for a gap at or below 0.
 */
export function maximumSafeStopSpeed(gap: number, decel: number, dt: number, headway: number): number {
  const g = gap - NUMERICAL_EPS; // SUMO: slack, so that an exact stop never passes the point by rounding
  if (g < 0) return 0;
  const b = decel * dt;
  const t = headway;
  const s = dt;
  // n: whole steps of braking; h: the distance they cover (with the reaction time)
  const n = Math.floor(0.5 - (t + Math.sqrt(s * s + 4 * (s * ((2 * g) / b - t) + t * t)) * -0.5) / s);
  const h = 0.5 * n * (n - 1) * b * s + n * b * t;
  const r = (g - h) / (n * s + t);
  const x = n * b + r;
  return x > 0 ? x : 0;
}

/**
 * Deceleration needed to stop behind a leader `gap` ahead at `vLead` that brakes by at most
 * `leadDecel` (SUMO calculateEmergencyDeceleration); `emergencyDecel` for a gap at or below 0.
 */
function emergencyDeceleration(
  gap: number,
  v: number,
  vLead: number,
  leadDecel: number,
  emergencyDecel: number,
): number {
  if (gap <= 0) return emergencyDecel;
  const leadBrake = (0.5 * vLead * vLead) / leadDecel;
  const b1 = (0.5 * v * v) / (gap + leadBrake);
  if (b1 <= leadDecel) return b1;
  return (0.5 * (v * v - vLead * vLead)) / gap;
}

/**
 * The highest speed at which the vehicle (at `v`, braking by `decel`, reaction time `tau`) can still
 * stop behind a leader `gap` ahead (bumper to bumper, minGap already subtracted) at `vLead` that
 * brakes by `leadDecel` (SUMO maximumSafeFollowSpeed, Euler). The leader's braking distance counts
 * with at least the follower's own deceleration. When that needs harder braking than `decel`, the
 * result is the emergency deceleration SUMO computes (×1.2), never harder than the bare safe speed.
 * `onInsertion`: the check of a vehicle about to be inserted (no emergency adjustment).
 */
export function maximumSafeFollowSpeed(
  gap: number,
  v: number,
  vLead: number,
  leadDecel: number,
  decel: number,
  emergencyDecel: number,
  tau: number,
  dt: number,
  onInsertion: boolean,
): number {
  let x: number;
  if (gap >= 0) {
    x = maximumSafeStopSpeed(gap + brakeGap(vLead, decel > leadDecel ? decel : leadDecel, dt, 0), decel, dt, tau);
  } else {
    x = v - emergencyDecel * dt;
    if (x < 0) x = 0;
  }
  if (decel !== emergencyDecel && !onInsertion && (v - x) / dt > decel + NUMERICAL_EPS)
    return emergencySpeed(x, gap, v, vLead, leadDecel, decel, emergencyDecel, dt);
  return x;
}

/**
 * maximumSafeFollowSpeed's speed when the safe speed `x` needs braking harder than `decel`: from
 * SUMO's emergency deceleration (×1.2), between `decel` and what `x` needs. A function of its own,
 * as it is rare: the caller stays small enough for V8 to inline it whole into the car-following
 * loop (a call it does not inline boxes every number passed).
 */
function emergencySpeed(
  x: number,
  gap: number,
  v: number,
  vLead: number,
  leadDecel: number,
  decel: number,
  emergencyDecel: number,
  dt: number,
): number {
  const origSafeDecel = (v - x) / dt;
  let safeDecel = EMERGENCY_DECEL_AMPLIFIER * emergencyDeceleration(gap, v, vLead, leadDecel, emergencyDecel);
  if (safeDecel < decel) safeDecel = decel;
  if (safeDecel > origSafeDecel) safeDecel = origSafeDecel;
  const y = v - safeDecel * dt;
  return y < 0 ? 0 : y;
}

/**
 * Krauss' speed behind a leader (SUMO MSCFModel_Krauss::followSpeed): the safe speed, at most
 * `vNextMax` (SUMO maxNextSpeed: min(v + accel·dt, the type's maxSpeed)).
 */
export function followSpeed(
  gap: number,
  v: number,
  vLead: number,
  leadDecel: number,
  decel: number,
  emergencyDecel: number,
  tau: number,
  dt: number,
  vNextMax: number,
): number {
  const vs = maximumSafeFollowSpeed(gap, v, vLead, leadDecel, decel, emergencyDecel, tau, dt, false);
  return vs < vNextMax ? vs : vNextMax;
}

/**
 * Krauss' speed for stopping at a point `gap` ahead (SUMO MSCFModel_Krauss::stopSpeed): the safe
 * stop speed with a reaction time of one step (SUMO passes the action step length), at most `vNextMax`.
 */
export function stopSpeed(gap: number, decel: number, dt: number, vNextMax: number): number {
  const vs = maximumSafeStopSpeed(gap, decel, dt, dt);
  return vs < vNextMax ? vs : vNextMax;
}

/**
 * The highest speed from which the vehicle, braking by `decel` each step, is down to `target` after
 * `dist` (SUMO MSCFModel::freeSpeed, Euler, not on insertion): how SUMO approaches a lane with a lower
 * limit. At least `target`.
 */
export function freeSpeed(decel: number, dist: number, target: number, dt: number): number {
  const v = target * dt;
  if (dist < v) return target;
  const b = decel * dt * dt;
  let y = ((Math.sqrt((b + 2 * v) * (b + 2 * v) + 8 * b * dist) - b) * 0.5 - v) / b;
  if (y < 0) y = 0;
  const yFull = Math.floor(y);
  const exactGap = (yFull * yFull + yFull) * 0.5 * b + yFull * v + (y > yFull ? v : 0);
  const rest = dist - exactGap;
  return (rest > 0 ? rest : 0) / (dt * (yFull + 1)) + yFull * decel * dt + target;
}

/**
 * The gap (minGap excluded) a follower at `v` needs behind a leader at `vLead` that brakes by
 * `leadDecel` (SUMO MSCFModel::getSecureGap): its braking distance with reaction time `tau` less the
 * leader's, counted with at least the follower's deceleration. At least 0.
 */
export function secureGap(v: number, vLead: number, leadDecel: number, decel: number, tau: number, dt: number): number {
  const g = brakeGap(v, decel, dt, tau) - brakeGap(vLead, decel > leadDecel ? decel : leadDecel, dt, 0);
  return g > 0 ? g : 0;
}

/**
 * The speed a vehicle at `v` takes for the end of the step (SUMO MSCFModel::finalizeSpeed with
 * MSCFModel_Krauss::patchSpeedBeforeLC), from `vPos`, the lowest of the speeds it may drive (free
 * road, leaders, stops), already at most `v + accel·dt` and the type's maxSpeed:
 *   vMin = min(v − decel·dt, max(vPos, v − emergencyDecel·dt)), both at least 0: braking harder than
 *          comfortable only where vPos asks for it, never harder than the emergency deceleration;
 *   vMax = max(vMin, min(vPos, laneMax));
 *   the result: max(vMin, dawdle(vMax)) with dawdle (SUMO dawdle2) lowering the speed by
 *   σ·accel·dt·r, or σ·speed·dt·r below a speed of `accel` (a SUMO quirk comparing m/s with m/s²:
 *   a starting vehicle is slowed in proportion to its speed), r uniform in [0, 1).
 */
export function finalizeSpeed(
  v: number,
  vPos: number,
  laneMax: number,
  accel: number,
  decel: number,
  emergencyDecel: number,
  sigma: number,
  dt: number,
  r: number,
): number {
  let vMinComfort = v - decel * dt;
  if (vMinComfort < 0) vMinComfort = 0;
  let vMinEmergency = v - emergencyDecel * dt;
  if (vMinEmergency < 0) vMinEmergency = 0;
  const vEmergency = vPos > vMinEmergency ? vPos : vMinEmergency;
  const vMin = vMinComfort < vEmergency ? vMinComfort : vEmergency;
  let vMax = vPos < laneMax ? vPos : laneMax;
  if (vMax < vMin) vMax = vMin;
  let vd = vMax - (vMax < accel ? sigma * vMax : sigma * accel) * dt * r;
  if (vd < 0) vd = 0;
  return vd > vMin ? vd : vMin;
}
