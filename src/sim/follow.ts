/**
 * Car-following phase: each vehicle chooses its speed for the end of the step from the committed
 * state only (positions and speeds of the previous step, link decisions of this step), with its
 * type's model (Krauss, SUMO's default, krauss.ts; or the IDM, idm.ts):
 *   - the model behind its leader on the same lane, or, for the front vehicle of a lane, behind the
 *     last vehicle on the lanes ahead along its route: its junction path, and the normal lane beyond
 *     as the step's view shows it (never further: that lane may belong to another partition);
 *   - a stop at the end of its lane when its link is closed or it is on a lane that does not continue;
 *   - slowing down ahead of a lane with a lower speed limit (turns);
 *   - leaving room for a vehicle that asked to change into its lane (cooperation).
 * A Krauss vehicle then takes SUMO's finalizeSpeed of the lowest of these: bounded by its comfortable
 * and emergency deceleration, and dawdling by σ with a uniform draw keyed by (seed, demand index,
 * step, Purpose.dawdle), so that the speed depends on nothing but the committed state.
 * Writes only `nextSpeed`.
 */
import type { Engine } from './engine.js';
import { idmSpeed, stopSpeed, secureGap } from './idm.js';
import type { IdmParams } from './idm.js';
import * as krauss from './krauss.js';
import { CfModel } from './demand.js';
import { Purpose, uniformFrom } from './rng.js';
import { NO_LINK, ROUTE_END, WAIT_INSIDE } from './vehicles.js';
import { LinkState } from './network.js';

/** SUMO's jmStoplineGap default: a vehicle stops this far before the line of a red or yellow light, m. */
const STOPLINE_GAP = 1;

export function followPhase(e: Engine): void {
  const v = e.v;
  const nActive = e.collectActive(0, e.net.laneCount);
  // every vehicle's dawdling draw of this step first, in a loop of its own: the draws depend on
  // nothing but (seed, vehicle, step), and the hash kept out of the helpers below leaves V8 room to
  // inline the car-following kernel into them
  const keys = e.dawdleKeys;
  const step = e.step;
  for (let i = 0; i < nActive; i++)
    for (let s = e.laneFront[e.activeList[i]!]!; s >= 0; s = v.behind[s]!)
      v.dawdle[s] = uniformFrom(keys[v.vid[s]!]!, step, Purpose.dawdle);
  for (let i = 0; i < nActive; i++) {
    const lane = e.activeList[i]!;
    const front = e.laneFront[lane]!;
    if (front < 0) continue;
    followFront(e, front, lane);
    for (let s = v.behind[front]!; s >= 0; s = v.behind[s]!) followLeader(e, s, lane);
  }
  // then Krauss' finalizeSpeed of each (not of a vehicle standing at a stop: it keeps its 0), in a
  // loop of its own too, so that it does not share V8's inlining room with the bounds before it
  // (nothing above reads another vehicle's nextSpeed, so the order of the vehicles does not matter)
  for (let i = 0; i < nActive; i++) {
    const lane = e.activeList[i]!;
    for (let s = e.laneFront[lane]!; s >= 0; s = v.behind[s]!)
      if (e.demand.types[e.demand.type[v.vid[s]!]!]!.model === CfModel.KRAUSS && !(v.stopEnd[s]! >= 0 && e.holding(s)))
        finalize(e, s, lane);
  }
}

// The helpers below take integers only (vehicle, lanes, link) and lower `nextSpeed[s]`, each from
// what it reads itself (the speed, the desired speed, the distance seen): a number passed to or
// returned from a function V8 does not inline is boxed, one heap allocation per call, and V8
// inlines the IDM only a few times into one function. The front vehicle's candidate speeds are
// combined in the order they always were (free road, then along the route, then cooperation).

/** A vehicle behind another on its lane: its model behind the vehicle ahead. */
function followLeader(e: Engine, s: number, lane: number): void {
  const { v, demand } = e;
  if (v.stopEnd[s]! >= 0 && e.holding(s)) {
    v.nextSpeed[s] = 0; // standing at a stop
    return;
  }
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  if (t.model === CfModel.KRAUSS) {
    krausBehind(e, s, lane);
    if (v.yieldTo[s]! >= 0) cooperate(e, s, lane);
    if (v.stopNext[s]! >= 0 || v.link[s] === ROUTE_END || e.demand.arrivalSpeed[v.vid[s]!]! >= 0)
      demandBounds(e, s, lane);
    return;
  }
  const a = v.ahead[s]!;
  const at = demand.types[demand.type[v.vid[a]!]!]!;
  const sp = v.speed[s]!;
  const gap = v.pos[a]! - at.length - v.pos[s]! - t.minGap;
  const v0 = e.desiredSpeed(s, lane, sp); // = maxSpeedOn unless a command lowered the limit
  v.nextSpeed[s] = idmSpeed(gap, sp, v.speed[a]!, v0, e.cfg.stepLength, t.idm, true);
  if (v.yieldTo[s]! >= 0) cooperate(e, s, lane);
  if (v.stopNext[s]! >= 0 || v.link[s] === ROUTE_END || e.demand.arrivalSpeed[v.vid[s]!]! >= 0)
    demandBounds(e, s, lane);
}

/**
 * A Krauss vehicle `s` behind another on `lane`: freeRoad and followSpeed in one, the most frequent
 * case (the limit computed once), into `nextSpeed`. Integers in, nothing returned, so that the
 * numbers need no boxing whether or not V8 inlines it (it decides differently per scenario).
 */
function krausBehind(e: Engine, s: number, lane: number): void {
  const { v, demand } = e;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const a = v.ahead[s]!;
  const at = demand.types[demand.type[v.vid[a]!]!]!;
  const sp = v.speed[s]!;
  const gap = v.pos[a]! - at.length - v.pos[s]! - t.minGap;
  const dt = e.cfg.stepLength;
  const limit = e.maxSpeedOn(s, lane);
  let vNext = sp + t.accel * dt;
  if (vNext > t.maxSpeed) vNext = t.maxSpeed;
  const comfortable = sp - t.decel * dt;
  let bound = limit > comfortable ? limit : comfortable;
  if (vNext < bound) bound = vNext;
  const vf = krauss.followSpeed(gap, sp, v.speed[a]!, at.apparentDecel, t.decel, t.emergencyDecel, t.tau, dt, vNext);
  v.nextSpeed[s] = vf < bound ? vf : bound;
}

/**
 * What the vehicle's demand asks of vehicle `s` on `lane`: stop at its next stop (on this edge, or
 * the next one while it is near) at the stop's end position, and arrive with its arrivalSpeed.
 */
function demandBounds(e: Engine, s: number, lane: number): void {
  const { net, v, demand } = e;
  const k = e.stopAhead(s);
  if (k >= 0) {
    const st = demand.stops;
    const ri = st.routeIdx[k]!;
    const cur = v.routeIdx[s]!;
    let d = -1;
    if (lane < net.normalLaneCount) {
      if (ri === cur) d = st.endPos[k]! - v.pos[s]!;
      else if (ri === cur + 1 && v.link[s]! >= 0)
        d = net.laneLength[lane]! - v.pos[s]! + net.laneLength[net.linkLane[v.link[s]!]!]! + st.endPos[k]!;
    } else if (ri === cur + 1) {
      d = net.laneLength[lane]! - v.pos[s]! + st.endPos[k]!;
    }
    if (d >= 0) stopAt(e, s, lane, d);
  }
  const vid = v.vid[s]!;
  const as = demand.arrivalSpeed[vid]!;
  if (as < 0) return;
  if (v.link[s] === ROUTE_END) {
    arriveWith(e, s, lane, as, e.arrivalPosition(s, lane) - v.pos[s]!);
    return;
  }
  // SUMO looks ahead to the arrival: on the edge before the last (or crossing the junction onto it)
  // the vehicle already brakes for its arrival speed
  const r = demand.route[vid]!;
  if (v.routeIdx[s] !== demand.routeStart[r + 1]! - demand.routeStart[r]! - 2) return;
  if (lane < net.normalLaneCount) {
    const link = v.link[s]!;
    if (link < 0) return;
    const to = net.linkTo[link]!;
    arriveWith(
      e,
      s,
      lane,
      as,
      net.laneLength[lane]! - v.pos[s]! + net.laneLength[net.linkLane[link]!]! + e.arrivalPosition(s, to),
    );
  } else {
    const to = net.linkTo[net.laneLink[lane]!]!;
    arriveWith(e, s, lane, as, net.laneLength[lane]! - v.pos[s]! + e.arrivalPosition(s, to));
  }
}

/** Vehicle `s` on `lane` stops `d` m ahead. */
function stopAt(e: Engine, s: number, lane: number, d: number): void {
  const v = e.v;
  const t = e.demand.types[e.demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  const vs =
    t.model === CfModel.KRAUSS
      ? krauss.stopSpeed(d, t.decel, e.cfg.stepLength, maxNextSpeed(e, s))
      : stopSpeed(d, sp, e.desiredSpeed(s, lane, sp), e.cfg.stepLength, t.idm);
  if (vs < v.nextSpeed[s]!) v.nextSpeed[s] = vs;
}

/** Vehicle `s` on `lane` arrives `d` m ahead at speed `as` (SUMO: freeSpeed toward the arrival position). */
function arriveWith(e: Engine, s: number, lane: number, as: number, d: number): void {
  const v = e.v;
  const t = e.demand.types[e.demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  if (!(as < v.nextSpeed[s]!)) return;
  // SUMO subtracts one step at the arrival speed from the distance, so that the vehicle drives its
  // last step at that speed (MSVehicle::planMoveInternal, distToArrival)
  d -= as * e.cfg.stepLength;
  const va =
    t.model === CfModel.KRAUSS
      ? krauss.freeSpeed(t.decel, d > 0 ? d : 0, as, e.cfg.stepLength)
      : approachLimit(d > 0 ? d : 0, sp, as, e.desiredSpeed(s, lane, sp), e.cfg.stepLength, t.idm);
  if (va < v.nextSpeed[s]!) v.nextSpeed[s] = va;
}

/**
 * Krauss on a free road (SUMO planMove's first bound): at most v + accel·dt and the type's maxSpeed
 * (maxNextSpeed), and the lane's limit for the vehicle unless that means braking harder than decel.
 */
function freeRoad(e: Engine, s: number, lane: number): void {
  const v = e.v;
  const t = e.demand.types[e.demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  let limit = e.maxSpeedOn(s, lane);
  const comfortable = sp - t.decel * e.cfg.stepLength;
  if (limit < comfortable) limit = comfortable; // a limit is no emergency (SUMO)
  const vNext = maxNextSpeed(e, s);
  v.nextSpeed[s] = vNext < limit ? vNext : limit;
}

/** SUMO maxNextSpeed of vehicle `s`: min(v + accel·dt, the type's maxSpeed), m/s. */
function maxNextSpeed(e: Engine, s: number): number {
  const t = e.demand.types[e.demand.type[e.v.vid[s]!]!]!;
  const vn = e.v.speed[s]! + t.accel * e.cfg.stepLength;
  return vn < t.maxSpeed ? vn : t.maxSpeed;
}

/** A Krauss vehicle's speed for the end of the step from the bound in `nextSpeed` (krauss.finalizeSpeed, σ dawdling). */
function finalize(e: Engine, s: number, lane: number): void {
  const v = e.v;
  const vid = v.vid[s]!;
  const t = e.demand.types[e.demand.type[vid]!]!;
  const r = t.sigma > 0 ? v.dawdle[s]! : 0;
  v.nextSpeed[s] = krauss.finalizeSpeed(
    v.speed[s]!,
    v.nextSpeed[s]!,
    e.maxSpeedOn(s, lane),
    t.accel,
    t.decel,
    t.emergencyDecel,
    t.sigma,
    e.cfg.stepLength,
    r,
  );
}

/**
 * The front vehicle of a lane: free road, then a look ahead along its route, through the junction
 * to the next normal lane as the step's view shows it (never further: that lane may belong to
 * another partition).
 */
function followFront(e: Engine, s: number, lane: number): void {
  const { net, v, demand } = e;
  if (v.stopEnd[s]! >= 0 && e.holding(s)) {
    v.nextSpeed[s] = 0; // standing at a stop
    return;
  }
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  const kr = t.model === CfModel.KRAUSS;
  if (kr) {
    freeRoad(e, s, lane);
  } else {
    const v0 = e.desiredSpeed(s, lane, sp); // = maxSpeedOn unless a command lowered the limit
    v.nextSpeed[s] = idmSpeed(1e6, sp, v0, v0, e.cfg.stepLength, t.idm, false);
  }
  if (lane >= net.normalLaneCount) {
    const link = net.laneLink[lane]!;
    const cp = net.linkContPos[link]!;
    if (cp >= 0 && v.pos[s]! <= cp + 1e-6 && v.linkOpen[s] === 0) {
      // waiting inside the junction for a gap in the oncoming traffic (SUMO internal junction)
      stopAtWaitPoint(e, s, lane);
    } else {
      lookBeyond(e, s, lane, -1, net.linkTo[link]!);
    }
  } else {
    const link = v.link[s]!;
    if (link === NO_LINK || (link !== ROUTE_END && v.linkOpen[s] === 0)) {
      stopAtEnd(e, s, lane, -1, -1, link);
    } else if (link !== ROUTE_END) {
      const via = net.linkLane[link]!;
      approachLane(e, s, lane, -1, via);
      if (e.laneBack[via]! >= 0) followBack(e, s, lane, via);
      else lookBeyond(e, s, lane, via, net.linkTo[link]!);
      // it may enter, but the wait point inside will hold it: brake for the wait point already
      if (v.linkOpen[s] === WAIT_INSIDE) stopAt(e, s, lane, seenTo(e, s, lane, -1) + net.linkContPos[link]!);
    }
    followTails(e, s, lane, link >= 0 ? net.linkLane[link]! : -1);
  }
  if (v.yieldTo[s]! >= 0) cooperate(e, s, lane);
  if (v.stopNext[s]! >= 0 || v.link[s] === ROUTE_END || e.demand.arrivalSpeed[v.vid[s]!]! >= 0)
    demandBounds(e, s, lane);
}

/** Distance from vehicle `s` on `lane` to the end of `lane`, and of `via` after it (-1: none), m. */
function seenTo(e: Engine, s: number, lane: number, via: number): number {
  const seen = e.net.laneLength[lane]! - e.v.pos[s]!;
  return via >= 0 ? seen + e.net.laneLength[via]! : seen;
}

/** The front vehicle `s` of `lane` behind the last vehicle on the junction lane `via` after it. */
function followBack(e: Engine, s: number, lane: number, via: number): void {
  followOnPath(e, s, lane, e.laneBack[via]!);
}

/**
 * The front vehicle `s` of normal lane `lane` behind the back of a vehicle that entered another
 * junction path from this lane and still sticks out into it (SUMO: a partial occupator of the lane,
 * the leader of those behind it): a left turner waiting at its wait point just past the line
 * blocks the lane it came from.
 */
function followTails(e: Engine, s: number, lane: number, via: number): void {
  const { net, v, demand } = e;
  for (let k = net.laneOutStart[lane]!, end = net.laneOutStart[lane + 1]!; k < end; k++) {
    const other = net.linkLane[net.laneOut[k]!]!;
    if (other === via) continue;
    const back = e.laneBack[other]!;
    if (back < 0) continue;
    const bt = demand.types[demand.type[v.vid[back]!]!]!;
    if (v.pos[back]! >= bt.length) continue;
    // already alongside (it came onto this lane by a lane change next to the back): braking would
    // not open a gap, only block both, as cooperate() (the lane change does not look at such backs)
    if (e.net.laneLength[lane]! - v.pos[s]! + v.pos[back]! - bt.length < 0) continue;
    followOnPath(e, s, lane, back);
  }
}

/** The front vehicle `s` of `lane` behind vehicle `back` on a junction path leaving `lane`. */
function followOnPath(e: Engine, s: number, lane: number, back: number): void {
  const { v, demand } = e;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const bt = demand.types[demand.type[v.vid[back]!]!]!;
  const sp = v.speed[s]!;
  const gap = seenTo(e, s, lane, -1) + v.pos[back]! - bt.length - t.minGap;
  const vf =
    t.model === CfModel.KRAUSS
      ? krauss.followSpeed(
          gap,
          sp,
          v.speed[back]!,
          bt.apparentDecel,
          t.decel,
          t.emergencyDecel,
          t.tau,
          e.cfg.stepLength,
          maxNextSpeed(e, s),
        )
      : idmSpeed(gap, sp, v.speed[back]!, e.desiredSpeed(s, lane, sp), e.cfg.stepLength, t.idm, true);
  if (vf < v.nextSpeed[s]!) v.nextSpeed[s] = vf;
}

/**
 * The front vehicle `s` of `lane`, with `via` (-1: none, `lane` is internal) between, looks at the
 * normal lane `beyond` when near enough: its limit, its last vehicle as the step's view shows it,
 * or, an empty lane, a red light at its end.
 */
function lookBeyond(e: Engine, s: number, lane: number, via: number, beyond: number): void {
  const v = e.v;
  const t = e.demand.types[e.demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  if (!(seenTo(e, s, lane, via) < 20 + 3 * sp * t.tau + (sp * sp) / t.decel)) return;
  approachLane(e, s, lane, via, beyond);
  if (e.viewHas(beyond)) {
    followView(e, s, lane, via, beyond);
    return;
  }
  // an empty lane: stop for a red light at its end
  const lk = e.linkBeyond(s, beyond, false);
  if (lk >= 0) {
    const st = e.linkState(lk);
    if (st === LinkState.red || st === LinkState.redYellow || st === LinkState.yellowMajor)
      stopAtEnd(e, s, lane, via, beyond, lk);
  }
}

/** The front vehicle `s` of `lane` (then `via`) behind the last vehicle on `beyond` as the step's view shows it. */
function followView(e: Engine, s: number, lane: number, via: number, beyond: number): void {
  const v = e.v;
  const t = e.demand.types[e.demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  const gap = seenTo(e, s, lane, via) + e.viewPos[beyond]! - e.viewLength[beyond]! - t.minGap;
  const vf =
    t.model === CfModel.KRAUSS
      ? krauss.followSpeed(
          gap,
          sp,
          e.viewSpeed[beyond]!,
          e.viewDecel[beyond]!,
          t.decel,
          t.emergencyDecel,
          t.tau,
          e.cfg.stepLength,
          maxNextSpeed(e, s),
        )
      : idmSpeed(gap, sp, e.viewSpeed[beyond]!, e.desiredSpeed(s, lane, sp), e.cfg.stepLength, t.idm, true);
  if (vf < v.nextSpeed[s]!) v.nextSpeed[s] = vf;
}

/**
 * The front vehicle `s` of `lane` stops at the end of `lane`, `via` and `beyond` (-1: none), where
 * `link` (-1, NO_LINK: none) begins: at a red or yellow light `STOPLINE_GAP` before the line, if it
 * can brake comfortably for that (SUMO's jmStoplineGap, for either model).
 */
function stopAtEnd(e: Engine, s: number, lane: number, via: number, beyond: number, link: number): void {
  const v = e.v;
  const t = e.demand.types[e.demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  let d = seenTo(e, s, lane, via);
  if (beyond >= 0) d += e.net.laneLength[beyond]!;
  if (link >= 0) {
    const st = e.linkState(link);
    if (
      st === LinkState.red ||
      st === LinkState.redYellow ||
      st === LinkState.yellowMajor ||
      st === LinkState.yellowMinor
    ) {
      const room = d - krauss.brakeGap(sp, t.decel, e.cfg.stepLength, 0);
      d -= room < 0 ? 0 : room < STOPLINE_GAP ? room : STOPLINE_GAP;
    }
  }
  stopAt(e, s, lane, d);
}

/** The front vehicle `s` of internal lane `lane` stops at the lane's wait point (SUMO internal junction). */
function stopAtWaitPoint(e: Engine, s: number, lane: number): void {
  stopAt(e, s, lane, e.net.linkContPos[e.net.laneLink[lane]!]! - e.v.pos[s]!);
}

/** Slows the front vehicle `s` of `lane` down ahead of lane `next` (after `via`; -1: none) when that lane's limit is lower. */
function approachLane(e: Engine, s: number, lane: number, via: number, next: number): void {
  const v = e.v;
  const sp = v.speed[s]!;
  const limit = e.maxSpeedOn(s, next);
  const t = e.demand.types[e.demand.type[v.vid[s]!]!]!;
  if (t.model === CfModel.KRAUSS) {
    // SUMO's freeSpeed toward the next lane's limit (binding only while that is below the bound so far)
    if (!(limit < v.nextSpeed[s]!)) return;
    const vk = krauss.freeSpeed(t.decel, seenTo(e, s, lane, via), limit, e.cfg.stepLength);
    if (vk < v.nextSpeed[s]!) v.nextSpeed[s] = vk;
    return;
  }
  if (limit >= sp) return;
  const p = t.idm;
  const vl = approachLimit(seenTo(e, s, lane, via), sp, limit, e.desiredSpeed(s, lane, sp), e.cfg.stepLength, p);
  if (vl < v.nextSpeed[s]!) v.nextSpeed[s] = vl;
}

/** SUMO's IDM freeSpeed when the speed limit ahead is lower than the current speed. */
function approachLimit(seen: number, sp: number, limit: number, v0: number, dt: number, p: IdmParams): number {
  const sec = secureGap(limit, 0, p);
  let vs = idmSpeed(seen > sec ? seen : sec, sp, 0, v0, dt, p, false);
  if (seen < sec && vs > limit) vs = limit;
  return vs < limit ? limit : vs;
}

/**
 * Vehicle `s` on `lane` leaves room for the vehicle changing into its lane ahead (`yieldTo`), if that
 * needs no more than comfortable braking.
 */
function cooperate(e: Engine, s: number, lane: number): void {
  const { v, demand } = e;
  const x = v.yieldTo[s]!;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const gap = v.pos[x]! - demand.types[demand.type[v.vid[x]!]!]!.length - v.pos[s]! - t.minGap;
  // already alongside: waiting would not open a gap, only block both (drive on instead)
  if (gap < 0) return;
  const sp = v.speed[s]!;
  const dt = e.cfg.stepLength;
  const vy =
    t.model === CfModel.KRAUSS
      ? krauss.followSpeed(
          gap,
          sp,
          v.speed[x]!,
          demand.types[demand.type[v.vid[x]!]!]!.apparentDecel,
          t.decel,
          t.emergencyDecel,
          t.tau,
          dt,
          maxNextSpeed(e, s),
        )
      : idmSpeed(gap, sp, v.speed[x]!, e.desiredSpeed(s, lane, sp), dt, t.idm, true);
  if (vy >= sp - t.decel * dt && vy < v.nextSpeed[s]!) v.nextSpeed[s] = vy;
}
