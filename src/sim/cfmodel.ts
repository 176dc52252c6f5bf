/**
 * What the rest of the engine asks of a vehicle type's car-following model, dispatched on
 * `VehicleType.model` (Krauss: krauss.ts, IDM: idm.ts). Plain functions of numbers and the type
 * record; nothing is allocated or created per call.
 *
 * Units: m, m/s, m/s², s.
 */
import { CfModel, type VehicleType } from './demand.js';
import * as idm from './idm.js';
import * as krauss from './krauss.js';

/**
 * The gap (after minGap) a follower of type `t` at `v` needs behind a leader at `vLead` that brakes
 * by `leadDecel` (SUMO getSecureGap; the IDM's ignores `leadDecel`).
 */
export function secureGapOf(t: VehicleType, v: number, vLead: number, leadDecel: number, dt: number): number {
  if (t.model === CfModel.KRAUSS) return krauss.secureGap(v, vLead, leadDecel, t.decel, t.tau, dt);
  return idm.secureGap(v, vLead, t.idm);
}

/**
 * The highest speed, at most `speed`, at which a vehicle of type `t` may be inserted `gap` behind a
 * leader at `vLead` braking by `leadDecel` (SUMO insertionFollowSpeed for Krauss; for the IDM, whole
 * m/s below `speed` until its secure gap fits). May be 0.
 */
export function insertionSpeed(
  t: VehicleType,
  speed: number,
  gap: number,
  vLead: number,
  leadDecel: number,
  dt: number,
): number {
  if (t.model === CfModel.KRAUSS) {
    const vs = krauss.maximumSafeFollowSpeed(gap, speed, vLead, leadDecel, t.decel, t.emergencyDecel, t.tau, dt, true);
    return vs < speed ? vs : speed;
  }
  let s = speed;
  while (s > 0 && idm.secureGap(s, vLead, t.idm) > gap) s = s > 1 ? s - 1 : 0;
  return s;
}

/** May a vehicle of type `t` be inserted at `speed`, `gap` behind a leader at `vLead` braking by `leadDecel`? */
export function insertionSafe(
  t: VehicleType,
  speed: number,
  gap: number,
  vLead: number,
  leadDecel: number,
  dt: number,
): boolean {
  if (t.model === CfModel.KRAUSS) {
    return (
      speed <=
      krauss.maximumSafeFollowSpeed(gap, speed, vLead, leadDecel, t.decel, t.emergencyDecel, t.tau, dt, true) + 1e-6
    );
  }
  return idm.secureGap(speed, vLead, t.idm) <= gap;
}
