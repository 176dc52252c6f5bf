/**
 * Junction phase: the front vehicle of each normal lane announces when it will arrive at and leave
 * its next link (SUMO's approach information); then each decides, from those announcements and the
 * state committed before this phase, whether its link is open:
 *   - the signal allows it (red: stop; yellow: stop if it can stop comfortably);
 *   - a minor link (g, m, s) has no announced foe it must yield to in a conflicting time window
 *     (SUMO's foe response matrix, 1 s safety gap, merges need 1 s after the foe left);
 *   - no vehicle is inside the junction on a conflicting path;
 *   - the target lane has room, so the vehicle will not block the junction.
 * A vehicle too close to stop passes anyway (as a real driver would).
 */
import type { Engine } from './engine.js';
import { LinkState } from './network.js';
import { brakeGap, eulerBrakeGap } from './idm.js';

/** Conflict window margin, s (SUMO's junction lookahead time). */
const FOE_GAP = 1.0;

/** Time to cover `d` m from speed `v` accelerating at `a` up to `vmax`, s. */
export function timeToCover(d: number, v: number, a: number, vmax: number): number {
  if (d <= 0) return 0;
  if (v >= vmax) return d / Math.max(v, 0.01);
  const tAcc = (vmax - v) / a;
  const dAcc = v * tAcc + 0.5 * a * tAcc * tAcc;
  if (dAcc >= d) return (-v + Math.sqrt(v * v + 2 * a * d)) / a;
  return tAcc + (d - dAcc) / vmax;
}

export function junctionPhase(e: Engine): void {
  const { net, v, demand } = e;
  v.linkOpen.fill(0, 0, v.used);
  const stamp = e.step + 1;

  // ---- announce ----
  for (let lane = 0; lane < net.normalLaneCount; lane++) {
    const s = e.laneFront[lane]!;
    if (s < 0) continue;
    const link = v.link[s]!;
    if (link < 0) continue;
    const t = demand.types[demand.type[v.vid[s]!]!]!;
    const d = net.laneLength[lane]! - v.pos[s]!;
    const sp = v.speed[s]!;
    if (d > announceRange(sp, t.decel)) continue;
    const via = net.linkLane[link]!;
    const vmax = Math.min(e.maxSpeedOn(s, lane), e.maxSpeedOn(s, via));
    e.apprStamp[link] = stamp;
    e.apprArrive[link] = timeToCover(d, sp, t.idm.accel, vmax);
    e.apprLeave[link] = timeToCover(d + net.laneLength[via]! + t.length, sp, t.idm.accel, vmax);
    e.apprWill[link] = v.willPass[s]!;
  }

  // ---- decide ----
  for (let lane = 0; lane < net.normalLaneCount; lane++) {
    const s = e.laneFront[lane]!;
    if (s < 0) continue;
    const link = v.link[s]!;
    if (link < 0) {
      v.willPass[s] = 0;
      continue;
    }
    v.linkOpen[s] = decide(e, s, lane, link, stamp) ? 1 : 0;
  }
  // ---- commit the intentions for the next step's announcements ----
  for (let lane = 0; lane < net.normalLaneCount; lane++) {
    const s = e.laneFront[lane]!;
    if (s >= 0 && v.link[s]! >= 0) v.willPass[s] = v.linkOpen[s]!;
  }
}

function announceRange(speed: number, decel: number): number {
  return 20 + 5 * speed + brakeGap(speed, decel);
}

function decide(e: Engine, s: number, lane: number, link: number, stamp: number): boolean {
  const { net, v, demand } = e;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const d = net.laneLength[lane]! - v.pos[s]!;
  const sp = v.speed[s]!;
  // committed: cannot stop before the line even with emergency braking
  const dt = e.cfg.stepLength;
  const committed = eulerBrakeGap(sp, t.emergencyDecel, dt) > d + 0.01;
  const state = e.linkState(link);
  let minor = false;
  switch (state) {
    case LinkState.red:
    case LinkState.redYellow:
      return committed;
    case LinkState.yellowMajor:
    case LinkState.yellowMinor:
      if (eulerBrakeGap(sp, t.decel, dt) <= d) return false;
      return true;
    case LinkState.stop:
      // stop sign: come to a halt at the line first
      if (sp > 0.2 || d > 2) return committed;
      minor = true;
      break;
    case LinkState.greenMinor:
    case LinkState.minor:
    case LinkState.offBlinking:
      minor = true;
      break;
    default:
      break;
  }
  if (committed) return true;
  if (d > announceRange(sp, t.decel)) return true; // far away: only the signal matters yet

  // a vehicle inside the junction on a conflicting path
  for (let k = net.linkFoeStart[link]!, end = net.linkFoeStart[link + 1]!; k < end; k++) {
    if (e.laneVehicles[net.linkLane[net.linkFoe[k]!]!]! > 0) return false;
  }

  // room on the target lane
  const to = net.linkTo[link]!;
  const back = e.laneBack[to]!;
  let free = back >= 0 ? v.pos[back]! - demand.types[demand.type[v.vid[back]!]!]!.length : net.laneLength[to]!;
  const via = net.linkLane[link]!;
  for (let x = e.laneFront[via]!; x >= 0; x = v.behind[x]!) {
    const xt = demand.types[demand.type[v.vid[x]!]!]!;
    free -= xt.length + xt.minGap;
  }
  const need = Math.min(t.length + t.minGap, net.laneLength[to]!);
  if (free < need) return false;

  if (!minor || e.apprStamp[link] !== stamp) return true;

  // yield to announced foes with priority
  const arrive = e.apprArrive[link]!;
  const leave = e.apprLeave[link]!;
  for (let k = net.linkYieldStart[link]!, end = net.linkYieldStart[link + 1]!; k < end; k++) {
    const foe = net.linkYield[k]!;
    if (e.apprStamp[foe] !== stamp || e.apprWill[foe] === 0) continue;
    const fs = e.linkState(foe);
    if (fs === LinkState.red || fs === LinkState.redYellow) continue;
    const foeArrive = e.apprArrive[foe]!;
    const foeLeave = e.apprLeave[foe]!;
    if (net.linkTo[foe] === to) {
      // merging into the same lane: keep FOE_GAP on both sides
      if (foeLeave + FOE_GAP > arrive && foeArrive < leave + FOE_GAP) return false;
    } else if (foeLeave >= arrive && foeArrive <= leave + FOE_GAP) {
      return false;
    }
  }
  return true;
}
