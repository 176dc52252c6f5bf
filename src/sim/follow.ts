/**
 * Car-following phase: each vehicle chooses its speed for the end of the step from the committed
 * state only (positions and speeds of the previous step, link decisions of this step):
 *   - the IDM behind its leader on the same lane, or, for the front vehicle of a lane, behind the
 *     last vehicle on the lanes ahead along its route: its junction path, and the normal lane beyond
 *     as the step's view shows it (never further: that lane may belong to another partition);
 *   - a stop at the end of its lane when its link is closed or it is on a lane that does not continue;
 *   - slowing down ahead of a lane with a lower speed limit (turns);
 *   - leaving room for a vehicle that asked to change into its lane (cooperation).
 * Writes only `nextSpeed`.
 */
import type { Engine } from './engine.js';
import { idmSpeed, stopSpeed, secureGap } from './idm.js';
import type { IdmParams } from './idm.js';
import { NO_LINK, ROUTE_END } from './vehicles.js';
import { LinkState } from './network.js';

export function followPhase(e: Engine): void {
  const { net, v, demand } = e;
  const dt = e.cfg.stepLength;
  const types = demand.types;
  const vType = demand.type;
  const vid = v.vid;
  const pos = v.pos;
  const speed = v.speed;
  const laneLength = net.laneLength;

  const nActive = e.collectActive(0, net.laneCount);
  for (let i = 0; i < nActive; i++) {
    const lane = e.activeList[i]!;
    let s = e.laneFront[lane]!;
    if (s < 0) continue;
    const internal = lane >= net.normalLaneCount;
    // front vehicle: look ahead along the route, through the junction to the next normal lane
    {
      const t = types[vType[vid[s]!]!]!;
      const p = t.idm;
      const sp = speed[s]!;
      const v0 = e.desiredSpeed(s, lane, sp); // = maxSpeedOn unless a command lowered the limit
      let vNext = idmSpeed(1e6, sp, v0, v0, dt, p, false);
      let seen = laneLength[lane]! - pos[s]!;
      let beyond = -1; // the normal lane after the junction, seen through the step's view
      if (internal) {
        const link = net.laneLink[lane]!;
        const cp = net.linkContPos[link]!;
        if (cp >= 0 && pos[s]! <= cp + 1e-6 && v.linkOpen[s] === 0) {
          // waiting inside the junction for a gap in the oncoming traffic (SUMO internal junction)
          const vs = stopSpeed(cp - pos[s]!, sp, v0, dt, p);
          if (vs < vNext) vNext = vs;
        } else {
          beyond = net.linkTo[link]!;
        }
      } else {
        const link = v.link[s]!;
        if (link === NO_LINK || (link !== ROUTE_END && v.linkOpen[s] === 0)) {
          const vs = stopSpeed(seen, sp, v0, dt, p);
          if (vs < vNext) vNext = vs;
        } else if (link !== ROUTE_END) {
          const via = net.linkLane[link]!;
          vNext = approachLane(e, s, via, seen, sp, v0, dt, p, vNext);
          const back = e.laneBack[via]!;
          if (back >= 0) {
            const gap = seen + pos[back]! - types[vType[vid[back]!]!]!.length - t.minGap;
            const vf = idmSpeed(gap, sp, speed[back]!, v0, dt, p, true);
            if (vf < vNext) vNext = vf;
          } else {
            seen += laneLength[via]!;
            beyond = net.linkTo[link]!;
          }
        }
      }
      if (beyond >= 0 && seen < 20 + 3 * sp * p.tau + (sp * sp) / p.decel) {
        vNext = approachLane(e, s, beyond, seen, sp, v0, dt, p, vNext);
        if (e.viewHas(beyond)) {
          const gap = seen + e.viewPos[beyond]! - e.viewLength[beyond]! - t.minGap;
          const vf = idmSpeed(gap, sp, e.viewSpeed[beyond]!, v0, dt, p, true);
          if (vf < vNext) vNext = vf;
        } else {
          // an empty lane: stop for a red light at its end
          const toEdge = e.routeEdge(s, 2);
          const lk = toEdge < 0 ? -1 : net.linkToward(beyond, toEdge, e.routeEdge(s, 3));
          if (lk >= 0) {
            const st = e.linkState(lk);
            if (st === LinkState.red || st === LinkState.redYellow || st === LinkState.yellowMajor) {
              const vs = stopSpeed(seen + laneLength[beyond]!, sp, v0, dt, p);
              if (vs < vNext) vNext = vs;
            }
          }
        }
      }
      vNext = cooperate(e, s, vNext, sp, v0, dt, t.decel, t.minGap, p);
      v.nextSpeed[s] = vNext;
      s = v.behind[s]!;
    }
    // followers: the IDM behind the vehicle ahead on the lane
    for (; s >= 0; s = v.behind[s]!) {
      const t = types[vType[vid[s]!]!]!;
      const a = v.ahead[s]!;
      const sp = speed[s]!;
      const v0 = e.desiredSpeed(s, lane, sp); // = maxSpeedOn unless a command lowered the limit
      const gap = pos[a]! - types[vType[vid[a]!]!]!.length - pos[s]! - t.minGap;
      let vNext = idmSpeed(gap, sp, speed[a]!, v0, dt, t.idm, true);
      vNext = cooperate(e, s, vNext, sp, v0, dt, t.decel, t.minGap, t.idm);
      v.nextSpeed[s] = vNext;
    }
  }
}

/** Slows vehicle `s` down ahead of lane `next`, `seen` m away, when that lane's limit is lower. */
function approachLane(e: Engine, s: number, next: number, seen: number, sp: number, v0: number, dt: number, p: IdmParams, vNext: number): number {
  const limit = e.maxSpeedOn(s, next);
  if (limit >= sp) return vNext;
  const vl = approachLimit(seen, sp, limit, v0, dt, p);
  return vl < vNext ? vl : vNext;
}

/** SUMO's IDM freeSpeed when the speed limit ahead is lower than the current speed. */
function approachLimit(seen: number, sp: number, limit: number, v0: number, dt: number, p: IdmParams): number {
  const sec = secureGap(limit, 0, p);
  let vs = idmSpeed(seen > sec ? seen : sec, sp, 0, v0, dt, p, false);
  if (seen < sec && vs > limit) vs = limit;
  return vs < limit ? limit : vs;
}

/** Leave room for a vehicle changing into this lane ahead, if that needs no more than comfortable braking. */
function cooperate(e: Engine, s: number, vNext: number, sp: number, v0: number, dt: number, decel: number, minGap: number, p: IdmParams): number {
  const x = e.v.yieldTo[s]!;
  if (x < 0) return vNext;
  const v = e.v;
  const gap = v.pos[x]! - e.demand.types[e.demand.type[v.vid[x]!]!]!.length - v.pos[s]! - minGap;
  // already alongside: waiting would not open a gap, only block both (drive on instead)
  if (gap < 0) return vNext;
  const vy = idmSpeed(gap, sp, v.speed[x]!, v0, dt, p, true);
  if (vy >= sp - decel * dt && vy < vNext) return vy;
  return vNext;
}
