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
import { WAIT_INSIDE } from './vehicles.js';
import { brakeGap, eulerBrakeGap, idmSpeed } from './idm.js';
import * as krauss from './krauss.js';
import { CfModel } from './demand.js';

/** Distance to the line from which a driver at a minor link sees its foes, m (SUMO's default link visibility). */
const FOE_VISIBILITY = 4.5;
/** Conflict window margin, s (SUMO's junction lookahead time). */
const FOE_GAP = 1.0;
/** SUMO's --time-to-impatience default: s of waiting after which a driver takes any gap a foe could brake for. */
const TIME_TO_IMPATIENCE = 180;

/** pathState values: nobody on the path; somebody on it; somebody waiting at its wait point */
const FREE = 0;
const BUSY = 1;
const WAITING = 2;

/**
 * A decision at a link: it is open; it is closed for now but the vehicle keeps its request (HELD: a
 * vehicle crossing the path, or a foe it yields to — SUMO sets the request of every vehicle that
 * plans to move, so foes go on yielding to it, and impatience breaks the circles of right before
 * left); or it is closed and the vehicle will not pass (red, yellow, no room beyond the junction, a
 * stop sign not yet stopped at): it announces that, and those queued behind it announce nothing.
 */
const OPEN = 1;
const HELD = 2;
const CLOSED = 0;

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
  // active lanes: normal ones first (index order), then internal ones
  const n = e.collectActive(0, net.laneCount);
  const lanes = e.activeList;
  let split = 0;
  while (split < n && lanes[split]! < net.normalLaneCount) split++;

  // ---- announce: vehicles waiting inside at a cont link's wait point first ... ----
  for (let i = split; i < n; i++) {
    const link = net.laneLink[lanes[i]!]!;
    const s = waitingInside(e, link);
    if (s >= 0) announce(e, s, link, stamp, v.willPass[s]!);
  }
  // ---- ... then every vehicle approaching a stop line, front to back, within reach ----
  for (let i = 0; i < split; i++) {
    const lane = lanes[i]!;
    const L = net.laneLength[lane]!;
    for (let s = e.laneFront[lane]!; s >= 0; s = v.behind[s]!) {
      const d = L - v.pos[s]!;
      if (d > announceRange(v.speed[s]!, demand.types[demand.type[v.vid[s]!]!]!.decel)) break;
      // a vehicle that stops on this edge first, and those behind it, do not approach the link (SUMO)
      if (v.stopNext[s]! >= 0 && stopsHere(e, s)) break;
      const link = v.link[s]!;
      if (link < 0) continue;
      // the front vehicle says what it decided last step; those behind mean to pass, unless the front
      // will not: nobody passes a vehicle waiting at the line, so they announce nothing (SUMO: their
      // speed, and so their arrival, is bound by the waiting leader)
      const front = s === e.laneFront[lane];
      // SUMO sets no request for a vehicle whose planned speed is 0 (MSVehicle::planMoveInternal:
      // setRequest needs v > 0): one standing at the back of a standing leader does not approach
      const stands = standsBehind(e, s, lane, link);
      if (front && (v.willPass[s] === 0 || stands)) {
        announce(e, s, link, stamp, 0);
        break;
      }
      announce(e, s, link, stamp, front ? 1 : stands ? 0 : 1);
    }
  }

  // ---- decide, and keep the intentions for the next step's announcements (announcements of this
  // step are already taken, so writing willPass here changes no decision of this step) ----
  for (let i = 0; i < split; i++) {
    const lane = lanes[i]!;
    const s = e.laneFront[lane]!;
    if (s < 0) continue;
    const link = v.link[s]!;
    if (v.stopNext[s]! >= 0 && stopsHere(e, s)) {
      v.willPass[s] = 0;
      continue;
    }
    const r = link >= 0 ? decideAtLine(e, s, lane, link, stamp) : CLOSED;
    if (link >= 0) v.linkOpen[s] = r === OPEN ? (waitPointHeld(e, s, lane, link, stamp) ? WAIT_INSIDE : 1) : 0;
    v.willPass[s] = r === CLOSED ? 0 : 1;
  }
  for (let i = split; i < n; i++) {
    const link = net.laneLink[lanes[i]!]!;
    const s = waitingInside(e, link);
    if (s < 0) continue;
    const r = decideInside(e, s, link, stamp);
    v.linkOpen[s] = r === OPEN ? 1 : 0;
    v.willPass[s] = r === CLOSED ? 0 : 1;
  }
}

/** SUMO's NUMERICAL_EPS_SPEED (0.1 · NUMERICAL_EPS · TS, here per s of step): a planned speed at or below it sets no request. */
const NUMERICAL_EPS_SPEED = 0.0001;

/**
 * Is vehicle `s` on normal lane `lane`, heading for `link`, held to a stand in this step by a
 * standing leader at its back: the vehicle ahead on the lane, or for the front vehicle the last one
 * on its junction path or one on another path from this lane whose back still sticks out into it?
 */
function standsBehind(e: Engine, s: number, lane: number, link: number): boolean {
  const { net, v } = e;
  const a = v.ahead[s]!;
  if (a >= 0) return standsAt(e, s, a, v.pos[a]! - v.pos[s]!);
  const via = net.linkLane[link]!;
  const seen = net.laneLength[lane]! - v.pos[s]!;
  for (let k = net.laneOutStart[lane]!, end = net.laneOutStart[lane + 1]!; k < end; k++) {
    const path = net.linkLane[net.laneOut[k]!]!;
    const back = e.laneBack[path]!;
    if (back < 0) continue;
    const length = e.demand.types[e.demand.type[v.vid[back]!]!]!.length;
    // another path's vehicle counts while its back sticks out ahead of us (follow.ts followTails)
    if (path !== via && (v.pos[back]! >= length || seen + v.pos[back]! - length < 0)) continue;
    if (standsAt(e, s, back, seen + v.pos[back]!)) return true;
  }
  return false;
}

/** Is the safe speed of vehicle `s` behind leader `a`, whose front is `dist` m ahead of it, 0 (its car-following model)? */
function standsAt(e: Engine, s: number, a: number, dist: number): boolean {
  const { v, demand } = e;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const at = demand.types[demand.type[v.vid[a]!]!]!;
  const gap = dist - at.length - t.minGap;
  const sp = v.speed[s]!;
  const dt = e.cfg.stepLength;
  const vNext = Math.min(sp + t.accel * dt, t.maxSpeed);
  const vs =
    t.model === CfModel.KRAUSS
      ? krauss.followSpeed(gap, sp, v.speed[a]!, at.apparentDecel, t.decel, t.emergencyDecel, t.tau, dt, vNext)
      : idmSpeed(gap, sp, v.speed[a]!, e.desiredSpeed(s, v.lane[s]!, sp), dt, t.idm, true);
  return vs <= NUMERICAL_EPS_SPEED * dt;
}

/** Does vehicle `s`, on a normal lane, stop on this edge before its end (its next stop is here, or it stands at it)? */
function stopsHere(e: Engine, s: number): boolean {
  const k = e.stopAhead(s);
  return k >= 0 && e.demand.stops.routeIdx[k] === e.v.routeIdx[s];
}

/**
 * Is a vehicle inside the junction on the path of `link`, the foe at entry `k` of linkFoe (FREE,
 * BUSY, or WAITING at its wait point)? Vehicles whose back has passed the crossing with our path
 * are out of the way (SUMO's MSLink::getLeaderInfo: pastTheCrossingPoint).
 */
function pathState(e: Engine, link: number, k: number): number {
  const { v, demand } = e;
  const clear = e.net.linkFoeClear[k]!;
  let f = e.laneFront[e.net.linkLane[link]!]!;
  while (f >= 0 && v.pos[f]! - demand.types[demand.type[v.vid[f]!]!]!.length > clear) f = v.behind[f]!;
  if (f < 0) return FREE;
  const cp = e.net.linkContPos[link]!;
  return cp < 0 || v.pos[f]! > cp + 1e-6 ? BUSY : WAITING;
}

/** SUMO's CRLL_LOOK_AHEAD: checkRewindLinkLanes looks this many vehicle lengths of normal lanes ahead. */
export const CRLL_LOOK_AHEAD = 5;

/** The front vehicle on a cont link's internal lane that has not passed the wait point, or -1. */
export function waitingInside(e: Engine, link: number): number {
  const cp = e.net.linkContPos[link]!;
  if (cp < 0) return -1;
  const s = e.laneFront[e.net.linkLane[link]!]!;
  return s >= 0 && e.v.pos[s]! <= cp + 1e-6 ? s : -1;
}

/**
 * Records when vehicle `s`, on a normal lane before `link` or waiting inside at its wait point,
 * arrives at the conflict area of `link` and leaves it. Per link the first announcer's window is
 * kept, and one window spanning all later ones (SUMO keeps every approaching vehicle; the span is
 * the conservative summary of a platoon). Takes integers only, as a number passed to a function V8
 * does not inline is boxed (a heap allocation per call).
 */
function announce(e: Engine, s: number, link: number, stamp: number, will: number): void {
  const { net, v, demand } = e;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  const via = net.linkLane[link]!;
  const cp = net.linkContPos[link]!;
  const viaLength = net.laneLength[via]!;
  // d: distance to the conflict area (the wait point of a cont link); through: length of the area
  let d: number;
  let through: number;
  if (v.lane[s]! >= net.normalLaneCount) {
    d = cp - v.pos[s]!;
    through = viaLength - cp;
  } else {
    d = net.laneLength[v.lane[s]!]! - v.pos[s]! + (cp > 0 ? cp : 0);
    through = cp > 0 ? viaLength - cp : viaLength;
  }
  const vmax = Math.min(e.maxSpeedOn(s, v.lane[s]!), e.maxSpeedOn(s, via));
  // SUMO's arrival (MSVehicle::getArrivalTime) starts from the speed planned for this step, one
  // step's acceleration above the current one: a driver standing at its wait point inside the
  // junction arrives at once with that speed and clears a 12 m left turn in 3.1 s, not the 4.2 s of
  // a standing start, which the gaps of a steady oncoming stream never leave (test/lanes: the left
  // turn took 134 s against SUMO's 56 s). At the stop line the current speed stays: there the
  // planned one makes priority_stop of test/junctions 18% faster than SUMO (some SUMO mechanism
  // lengthening the window at the line is missing, e.g. the leave speed bounded by foes on the
  // junction, MSVehicle::checkLinkLeader -> adaptLeaveSpeed)
  const vp = v.lane[s]! >= net.normalLaneCount ? Math.min(sp + t.accel * e.cfg.stepLength, vmax) : sp;
  const arrive = timeToCover(d, vp, t.accel, vmax);
  // SUMO's leave time (MSLink::getLeaveTime): the link and the vehicle's length at the mean of the
  // speeds it arrives and leaves with, accelerating across
  const vArr = Math.min(vmax, Math.sqrt(vp * vp + 2 * t.accel * d));
  const vLeave = Math.min(vmax, Math.sqrt(vArr * vArr + 2 * t.accel * through));
  const leave = arrive + (through + t.length) / Math.max(0.5 * (vArr + vLeave), 1e-3);
  // for right-before-left and all-way stops (stand-in for SUMO's circular-yielding breaker there):
  // when the vehicle would arrive if it braked from now on, at the mean of its speed and the speed
  // braking leaves it at the area (0 for a vehicle that can stop before it: it "arrives" after
  // 2·d/v), never before its arrival
  const canStop = d < brakeGap(sp, t.decel) ? 0 : 1;
  const vb = canStop === 0 ? Math.sqrt(Math.max(0, sp * sp - 2 * t.decel * d)) : 0;
  const tb = d / Math.max(0.5 * (sp + vb), 1e-6);
  const braking = tb > arrive ? tb : arrive;
  if (e.apprStamp[link] !== stamp) {
    e.apprStamp[link] = stamp;
    e.apprArriveBraking[link] = braking;
    e.apprArrive[link] = arrive;
    e.apprLeave[link] = leave;
    e.apprWill[link] = will;
    e.apprDist[link] = d;
    e.apprDecel[link] = t.decel;
    e.apprWait[link] = v.waitSteps[s]!;
    e.apprArrive2[link] = Infinity;
    e.apprLeave2[link] = -Infinity;
    e.apprArriveBraking2[link] = Infinity;
  } else if (will) {
    if (braking < e.apprArriveBraking2[link]!) e.apprArriveBraking2[link] = braking;
    if (arrive < e.apprArrive2[link]!) {
      e.apprArrive2[link] = arrive;
      e.apprDist2[link] = d;
      e.apprDecel2[link] = t.decel;
    }
    if (leave > e.apprLeave2[link]!) e.apprLeave2[link] = leave;
  }
}

function announceRange(speed: number, decel: number): number {
  return 20 + 5 * speed + brakeGap(speed, decel);
}

/** May the front vehicle `s` of normal lane `lane` pass the stop line into `link` in this step? */
function decideAtLine(e: Engine, s: number, lane: number, link: number, stamp: number): number {
  const { net, v, demand } = e;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const d = net.laneLength[lane]! - v.pos[s]!;
  const sp = v.speed[s]!;
  const dt = e.cfg.stepLength;
  // committed: cannot stop before the line even with emergency braking
  const committed = eulerBrakeGap(sp, t.emergencyDecel, dt) > d + 0.01;
  const state = e.linkState(link);
  let minor = false;
  switch (state) {
    case LinkState.red:
    case LinkState.redYellow:
      // never through red: the stop line holds even a vehicle that brakes too late (SUMO)
      return CLOSED;
    case LinkState.yellowMajor:
    case LinkState.yellowMinor:
      // SUMO: stop for yellow when able to brake comfortably in time
      return brakeGap(sp, t.decel) < d || sp < t.decel * dt ? CLOSED : OPEN;
    case LinkState.stop:
    case LinkState.allwayStop:
      // stop sign: come to a halt at the line first
      if (v.waitSteps[s]! < 1 || d > 2) return committed ? OPEN : CLOSED;
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
  if (committed) return OPEN;
  if (d > announceRange(sp, t.decel)) return OPEN; // far away: only the signal matters yet
  if (!roomBehind(e, s, link)) return CLOSED;
  // a cont link is entered without yielding: the vehicle yields at the wait point inside
  if (net.linkContPos[link]! >= 0) return OPEN;
  const r = conflictsClear(e, s, link, minor, stamp);
  // SUMO (MSVehicle::processLinkApproaches): a minor link is only passed from within the distance
  // at which its foes are visible (netconvert's default 4.5 m); before that a vehicle that can still
  // stop approaches as if it had to (it keeps its request)
  if (r === OPEN && minor && d > FOE_VISIBILITY && eulerBrakeGap(sp, t.decel, dt) < d) return HELD;
  return r;
}

/**
 * May vehicle `s`, waiting inside at the wait point of cont link `link`, go on? While its signal is
 * green it yields to the traffic it must let pass; once its signal ended it clears the junction,
 * held only by vehicles physically crossing (the first in the junction goes first, as in SUMO).
 */
function decideInside(e: Engine, s: number, link: number, stamp: number): number {
  const { net, v, demand } = e;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const d = net.linkContPos[link]! - v.pos[s]!;
  if (eulerBrakeGap(v.speed[s]!, t.emergencyDecel, e.cfg.stepLength) > d + 0.01) return OPEN;
  return conflictsClear(e, s, link, signalGreen(e.linkState(link)), stamp);
}

/**
 * Will vehicle `s`, about to enter the cont link `link` from normal lane `lane`, have to wait at the
 * link's wait point inside? SUMO decides the internal junction's link from the lane before it as
 * well (every link ahead is in MSVehicle's lfLinks; executeMove stops at the first that is not
 * opened, at its vLinkWait): a driver who will have to wait brakes for the wait point on the way,
 * and reaches it rolling, rather than entering at speed and stopping short inside.
 */
function waitPointHeld(e: Engine, s: number, lane: number, link: number, stamp: number): boolean {
  const { net, v, demand } = e;
  const cp = net.linkContPos[link]!;
  // only a driver who will yield there (its signal green): at yellow it clears the junction
  if (cp < 0 || !signalGreen(e.linkState(link))) return false;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const d = net.laneLength[lane]! - v.pos[s]! + cp;
  // far away only the signal matters yet (as at the line); too close to stop it goes on
  if (d > announceRange(v.speed[s]!, t.decel)) return false;
  if (eulerBrakeGap(v.speed[s]!, t.emergencyDecel, e.cfg.stepLength) > d + 0.01) return false;
  return conflictsClear(e, s, link, signalGreen(e.linkState(link)), stamp) !== OPEN;
}

/** Green of any kind (or no signal): the states in which a vehicle waiting inside still yields. */
function signalGreen(state: number): boolean {
  return (
    state === LinkState.greenMinor ||
    state === LinkState.greenMajor ||
    state === LinkState.minor ||
    state === LinkState.major ||
    state === LinkState.offBlinking ||
    state === LinkState.stop ||
    state === LinkState.allwayStop
  );
}

/** Do the paths of `link` and its foe `other` cross or merge (crossing.ts; true for a foe not in linkFoe)? */
function pathsMeet(net: Engine['net'], link: number, other: number): boolean {
  for (let k = net.linkFoeStart[link]!, end = net.linkFoeStart[link + 1]!; k < end; k++)
    if (net.linkFoe[k] === other) return net.linkFoeClear[k] !== -Infinity;
  return true;
}

function yieldsTo(net: Engine['net'], link: number, other: number): boolean {
  for (let k = net.linkYieldStart[link]!, end = net.linkYieldStart[link + 1]!; k < end; k++)
    if (net.linkYield[k] === other) return true;
  return false;
}

/**
 * Is there room for vehicle `s` (its length and minGap) beyond `link`, counted as SUMO 1.15 does to
 * keep junctions clear (MSVehicle::checkRewindLinkLanes)? Along the route, the space till the last
 * standing vehicle of each normal lane (getSpaceTillLastStanding) less the vehicles on the junction
 * paths between, lane after lane while the look-ahead has seen no more than CRLL_LOOK_AHEAD vehicle
 * lengths of normal lanes; only a standing vehicle found on the way ends the room, and then it must
 * hold the vehicle. The look-ahead goes no further than the lane past the next junction (SUMO's
 * would go on past a short empty one): that lane and the next junction's paths are in the step's
 * view of every part that may ask (partition.ts carries them).
 */
function roomBehind(e: Engine, s: number, link: number): boolean {
  const { net, v, demand } = e;
  const st = demand.types[demand.type[v.vid[s]!]!]!;
  const via = net.linkLane[link]!;
  const to = net.linkTo[link]!;
  let seen = -pathLengths(e, via);
  seen += spaceOn(e, to);
  if (e.viewHas(to) && e.viewStanding[to] === 1) return seen >= st.length + st.minGap;
  if (net.laneLength[to]! > Math.max(CRLL_LOOK_AHEAD * st.length, st.length + net.laneLength[via]!)) return true;
  const after = e.routeEdge(s, 2);
  if (after < 0) return true;
  const lk = net.linkToward(to, after, e.routeEdge(s, 3), e.laneClosed, st.vClass);
  if (lk < 0) return true;
  // SUMO's look-ahead ends at a red or yellow light it can brake for, the last link looked at, whose
  // opening is never asked: nothing standing found, nothing holds the vehicle. (A minor link there is
  // taken as open; SUMO asks MSLink::opened with the vehicle's arrival time.)
  const state = e.linkState(lk);
  if (
    state === LinkState.red ||
    state === LinkState.redYellow ||
    state === LinkState.yellowMajor ||
    state === LinkState.yellowMinor
  )
    return true;
  seen -= pathLengths(e, net.linkLane[lk]!);
  const beyond = net.linkTo[lk]!;
  seen += spaceOn(e, beyond);
  return !(e.viewHas(beyond) && e.viewStanding[beyond] === 1) || seen >= st.length + st.minGap;
}

/** The room normal lane `lane` offers as the step's view shows it (SUMO: an empty lane counts whole, the junction being keep-clear), m. */
function spaceOn(e: Engine, lane: number): number {
  return e.viewHas(lane) ? e.viewSpace[lane]! : e.net.laneLength[lane]!;
}

/** Length with gap of the vehicles on junction path `via` (SUMO's getBruttoVehLenSum), m. */
function pathLengths(e: Engine, via: number): number {
  const { v, demand } = e;
  let sum = 0;
  for (let x = e.laneFront[via]!; x >= 0; x = v.behind[x]!) {
    const xt = demand.types[demand.type[v.vid[x]!]!]!;
    sum += xt.length + xt.minGap;
  }
  return sum;
}

/**
 * OPEN if no vehicle is on a conflicting path inside the junction and (minor links) no announced foe
 * needs vehicle `s` to yield; HELD otherwise (it waits, and still means to pass).
 */
function conflictsClear(e: Engine, s: number, link: number, minor: boolean, stamp: number): number {
  const net = e.net;
  for (let k = net.linkFoeStart[link]!, end = net.linkFoeStart[link + 1]!; k < end; k++) {
    const foe = net.linkFoe[k]!;
    const busy = pathState(e, foe, k);
    if (busy === BUSY) return HELD;
    // a vehicle waiting inside blocks every foe path but those of the traffic it waits for (while
    // its signal lets it wait; after that it must clear the junction before anyone crosses its path)
    if (busy === WAITING && !(yieldsTo(net, foe, link) && signalGreen(e.linkState(foe)))) return HELD;
  }
  if (!minor || e.apprStamp[link] !== stamp) return OPEN;
  // a cont link decides here at its wait point (decideAtLine lets it enter): SUMO's internal junction
  // there yields only to the links whose paths cross or merge with the rest of ours (its intLanes;
  // MSInternalJunction::postloadInit), so not to an opposite left turn passing alongside
  const atWaitPoint = net.linkContPos[link]! >= 0;
  for (let k = net.linkYieldStart[link]!, end = net.linkYieldStart[link + 1]!; k < end; k++) {
    const foe = net.linkYield[k]!;
    if (e.apprStamp[foe] !== stamp) continue;
    if (atWaitPoint && !pathsMeet(net, link, foe)) continue;
    const fs = e.linkState(foe);
    if (fs === LinkState.red || fs === LinkState.redYellow) continue;
    if (foeConflicts(e, s, foe, link)) return HELD;
  }
  return OPEN;
}

/**
 * Does a window announced for `foe` (its first announcer's, if that means to pass, or the span of
 * the later ones) conflict with the first announcer's window of `link`, for vehicle `s`? An
 * impatient driver (SUMO MSVehicle::getImpatience: waiting time / --time-to-impatience) counts a
 * foe's arrival partly as if the foe braked for it (MSLink::blockedByFoe). Takes integers only: V8
 * does not inline a call that is rare when it compiles the caller, and boxes the numbers passed.
 */
function foeConflicts(e: Engine, s: number, foe: number, link: number): boolean {
  const merge = e.net.linkTo[foe] === e.net.linkTo[link];
  const arrive = e.apprArrive[link]!;
  const leave = e.apprLeave[link]!;
  // the later announcers queue behind the first: when it waits, none of them passes before it
  // (counting them anyway deadlocks junctions where every approach yields to another: right
  // before left, all-way stops)
  if (e.apprWill[foe] === 0) return false;
  // all-way stop: first come, first served — who has waited longer goes, ties to the earlier arrival
  // (MSLink::blockedByFoe for LINKSTATE_ALLWAY_STOP)
  if (e.linkState(link) === LinkState.allwayStop) {
    const w = e.v.waitSteps[s]!;
    if (w > e.apprWait[foe]! || (w === e.apprWait[foe]! && arrive < e.apprArrive[foe]!)) return false;
  }
  const waited = e.v.waitSteps[s]! * e.cfg.stepLength;
  const imp = waited < TIME_TO_IMPATIENCE ? waited / TIME_TO_IMPATIENCE : 1;
  if (e.net.linkCircular[link] === 1) {
    // right before left, all-way stop: SUMO breaks the circles of yielding there by other means
    // (MSVehicle::planMoveInternal's check for circular yielding, random tie breakers); here an
    // impatient driver counts a foe as if it braked from now on
    const fa = (1 - imp) * e.apprArrive[foe]! + imp * e.apprArriveBraking[foe]!;
    if (conflicts(fa, e.apprLeave[foe]!, arrive, leave, merge)) return true;
    if (e.apprArrive2[foe]! > e.apprLeave2[foe]!) return false; // no later announcer
    const fa2 = (1 - imp) * e.apprArrive2[foe]! + imp * e.apprArriveBraking2[foe]!;
    return conflicts(fa2, e.apprLeave2[foe]!, arrive, leave, merge);
  }
  // SUMO (MSLink::blockedByFoe): an impatient driver arriving first counts the foe's arrival partly
  // as if the foe braked for it by its deceleration × the impatience
  const dt = e.cfg.stepLength;
  let fa = e.apprArrive[foe]!;
  if (imp > 0 && arrive < fa)
    fa = (1 - imp) * fa + imp * foeArrivalBraking(arrive, fa, e.apprDist[foe]!, e.apprDecel[foe]! * imp, dt);
  if (conflicts(fa, e.apprLeave[foe]!, arrive, leave, merge)) return true;
  if (e.apprArrive2[foe]! > e.apprLeave2[foe]!) return false; // no later announcer
  let fa2 = e.apprArrive2[foe]!;
  if (imp > 0 && arrive < fa2)
    fa2 = (1 - imp) * fa2 + imp * foeArrivalBraking(arrive, fa2, e.apprDist2[foe]!, e.apprDecel2[foe]! * imp, dt);
  return conflicts(fa2, e.apprLeave2[foe]!, arrive, leave, merge);
}

/**
 * SUMO 1.15's MSLink::computeFoeArrivalTimeBraking: when a foe that would arrive `foeArrive` s from
 * now, `dist` m away, arrives if it brakes by `m` (its decel × the waiting driver's impatience)
 * from the step the driver arrives in; 30 s later when it could stop so. Times count from the
 * step's start (SUMO's are absolute, one step earlier: the same differences). Only called with
 * `arrive` < `foeArrive` and m > 0 (small enough for V8 to inline into foeConflicts).
 */
export function foeArrivalBraking(arrive: number, foeArrive: number, dist: number, m: number, dt: number): number {
  // the foe enters in the same step
  if (Math.floor(arrive / dt + 1e-9) === Math.floor(foeArrive / dt + 1e-9)) return foeArrive;
  // the driver's arrival falls on a step
  const at = Math.ceil(arrive / dt - 1e-9) * dt;
  const span = foeArrive - at;
  const d = span * m;
  const a = (span * d) / 2;
  const v = dist / foeArrive;
  const dist2 = dist - v * (at - dt);
  if ((0.5 * v * v) / m <= dist2) return foeArrive + 30;
  const disc = 4 * (v - d) * (v - d) - 8 * m * a;
  // (SUMO does not guard this: the square root of a negative number)
  if (disc < 0) return foeArrive + 30;
  return foeArrive + (-0.5 * Math.sqrt(disc) - d + v) / m;
}

/**
 * Does a foe occupying the conflict area from `foeArrive` to `foeLeave` conflict with us there from
 * `arrive` to `leave` (MSLink::blockedByFoe: not if it leaves before we arrive, nor if it arrives
 * FOE_GAP after we left; an impatient driver's `foeArrive` may lie past `foeLeave`)? We need FOE_GAP after we leave before the foe comes (SUMO's lookahead time);
 * merging into the same lane also FOE_GAP after the foe left before we come.
 */
function conflicts(foeArrive: number, foeLeave: number, arrive: number, leave: number, merge: boolean): boolean {
  if (merge) return foeLeave + FOE_GAP > arrive && foeArrive < leave + FOE_GAP;
  return foeLeave >= arrive && foeArrive <= leave + FOE_GAP;
}
