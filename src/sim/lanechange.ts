/**
 * Lane-change phase: every vehicle on a normal lane decides from the committed state whether it wants
 * another lane (strategic: reach a lane that continues the route; speed gain; keep right), then the
 * changes are committed lane by lane, front to back, each re-checked for safety against what was
 * already committed in this phase. Blocked strategic changes ask the blocking follower to leave room
 * (SUMO LC2013's cooperation); two vehicles that want each other's lane swap (SUMO's MSLaneChanger).
 */
import type { Engine } from './engine.js';
import { secureGapOf } from './cfmodel.js';
import { CONT_CACHE_WIDTH, NO_LINK } from './vehicles.js';

/** scratch: the continuation of each lane of the edge being decided (laneContinuation) */
const contOf = new Float64Array(64);

/** Minimum time between two non-strategic changes of one vehicle, s. */
const TACTICAL_COOLDOWN = 3;
/** Seconds the right lane must have allowed full speed before a vehicle keeps right. */
const KEEP_RIGHT_TIME = 7;
/**
 * How far below the standstill gap a lane change may still land, m: a queue that opened a gap for a
 * changing vehicle (cooperation) creeps up to about minGap, not beyond; without a tolerance the last
 * rounding error would keep the gap closed forever.
 */
const GAP_TOLERANCE = 0.2;

/**
 * What `laneOutlook` hands back: several numbers, and a number returned from a function V8 does not
 * inline is boxed (one heap allocation per call, per vehicle and step), so they come back here.
 */
const outlook = new Float64Array(3);
/** index in `outlook`: the speed vehicle `s` could reach on the lane, m/s */
const SPEED = 0;
/** index in `outlook`: how far it can drive on the lane, m */
const DISTANCE = 1;
/** index in `outlook`: the highest speed it may drive on the lane (`maxSpeedOn`), m/s */
const LIMIT = 2;

/**
 * What `tacticalChoice` and `laneOutlook` are handed (for the same reason): how far the vehicle's
 * lane and the lanes to its left and right lead along its route (-1: not a lane to change to), m.
 */
const laneQ = new Float64Array(3);
const Q_CUR = 0;
const Q_LEFT = 1;
const Q_RIGHT = 2;

/**
 * The outlook of vehicle `s` on `lane` (its own or a neighbouring lane of its edge, leading `laneQ[qIndex]` m along the route)
 * behind `leader` (-1: none), into `outlook`: the usable distance (how far the lane leads, less the position) and the speed
 * it could reach there (SUMO LC2013 anticipateFollowSpeed): safe behind the leader, or able to stop
 * within the usable distance, at most the lane's speed limit (also in `outlook`).
 */
function laneOutlook(e: Engine, s: number, lane: number, qIndex: number, leader: number): void {
  const q = laneQ[qIndex]!;
  const v = e.v;
  const t = e.demand.types[e.demand.type[v.vid[s]!]!]!;
  const usable = q - v.pos[s]!; // q: how far the lane leads along the route (laneContinuation)
  let gap = usable;
  let vLeader = 0;
  if (leader >= 0) {
    gap = v.pos[leader]! - e.demand.types[e.demand.type[v.vid[leader]!]!]!.length - v.pos[s]! - t.minGap;
    vLeader = v.speed[leader]!;
  }
  const vs = safeFollowSpeed(gap, vLeader, t.decel, t.tau);
  const vMax = e.maxSpeedOn(s, lane);
  outlook[SPEED] = vs < vMax ? vs : vMax;
  outlook[DISTANCE] = usable;
  outlook[LIMIT] = vMax;
}

/** Krauss' safe speed: stop behind a leader braking at `b` within `gap`, reacting after `tau`. */
function safeFollowSpeed(gap: number, vLeader: number, b: number, tau: number): number {
  if (gap < 0) return 0;
  const bt = b * tau;
  return -bt + Math.sqrt(bt * bt + vLeader * vLeader + 2 * b * gap);
}

/**
 * Speed gain and keep right, as SUMO's LC2013: the relative gain of a neighbouring lane is
 * accumulated over time (and decays when gone); a change needs the sum above 0.2/lcSpeedGain to the
 * left, 2·lcKeepRight/lcSpeedGain to the right, and 20 s of driving left on the target lane. Keeping
 * right needs the right lane to have been free for a while (`lcKeepRight` accumulates seconds).
 * Returns the target lane or -1.
 */
function tacticalChoice(e: Engine, s: number, lane: number, idx: number, nLanes: number): number {
  const { v, demand } = e;
  const qLeft = laneQ[Q_LEFT]!;
  const qRight = laneQ[Q_RIGHT]!;
  if (!(qLeft >= 0 && idx + 1 < nLanes) && !(qRight >= 0 && idx > 0)) {
    // no neighbouring lane to weigh (what follows would change only this)
    v.lcKeepRight[s] = 0;
    return -1;
  }
  const dt = e.cfg.stepLength;
  const t = demand.types[demand.type[v.vid[s]!]!]!;
  const sp = v.speed[s]!;
  laneOutlook(e, s, lane, Q_CUR, v.ahead[s]!);
  const here = outlook[SPEED]!;
  const vMax = outlook[LIMIT]!;
  const speedGain = Math.max(t.lcSpeedGain, 1e-6);
  let gain = v.lcGain[s]!;
  let target = -1;
  if (qLeft >= 0 && idx + 1 < nLanes) {
    e.neighbours(lane + 1, s);
    laneOutlook(e, s, lane + 1, Q_LEFT, e.nbLeader);
    const there = outlook[SPEED]!;
    const dist = outlook[DISTANCE]!;
    if (here >= there) {
      if (gain > 0) gain *= Math.pow(0.5, dt);
    } else {
      gain += (dt * (there - here)) / Math.max(there, here, 0.1);
    }
    if (gain > 0.2 / speedGain && dist / Math.max(0.1, sp) > 20) target = lane + 1;
  }
  let keepRight = v.lcKeepRight[s]!;
  if (target < 0 && qRight >= 0 && idx > 0) {
    e.neighbours(lane - 1, s);
    laneOutlook(e, s, lane - 1, Q_RIGHT, e.nbLeader);
    const there = outlook[SPEED]!;
    const dist = outlook[DISTANCE]!;
    if (here - 5 / 3.6 > there) {
      if (gain < 0) gain *= Math.pow(0.5, dt);
    } else {
      gain -= (dt * (there - here)) / Math.max(there, here, 0.1);
    }
    // keep right: the right lane allows (nearly) full speed
    keepRight = there >= 0.9 * vMax ? keepRight + dt * t.lcKeepRight : 0;
    if ((gain < (-2 * t.lcKeepRight) / speedGain || keepRight > KEEP_RIGHT_TIME) && dist / Math.max(0.1, sp) > 20) {
      target = lane - 1;
    }
  } else {
    keepRight = 0;
  }
  if (target >= 0 && (e.step - v.lastLaneChange[s]!) * dt < TACTICAL_COOLDOWN) target = -1;
  v.lcGain[s] = gain;
  v.lcKeepRight[s] = keepRight;
  return target;
}

export function laneChangePhase(e: Engine): void {
  const { net, v } = e;
  const used = v.used;
  v.lcTarget.fill(-1, 0, used);
  v.yieldTo.fill(-1, 0, used);
  const step = e.step;
  e.lcRound++;

  // ---- decide ----
  const nActive = e.collectActive(0, net.normalLaneCount);
  const active = e.activeList;
  for (let i = 0; i < nActive; i++) {
    const lane = active[i]!;
    const edge = net.laneEdge[lane]!;
    const nLanes = net.edgeLaneCount[edge]!;
    if (nLanes < 2 || nLanes > contOf.length) continue;
    const first = net.edgeFirstLane[edge]!;
    const idx = lane - first;
    for (let s = e.laneFront[lane]!; s >= 0; s = v.behind[s]!) {
      if (v.stopEnd[s]! >= 0) continue; // standing at a stop (or leaving it): stays on its lane
      const link = v.link[s]!;
      const bestCont = edgeContinuations(e, s, first, nLanes);
      const qCur = link === NO_LINK ? net.edgeLength[edge]! : contOf[idx]!;
      const qLeft = idx + 1 < nLanes ? contOf[idx + 1]! : -1;
      const qRight = idx > 0 ? contOf[idx - 1]! : -1;
      let target = -1;
      let strategic = false;
      let good = -1;
      if (qCur < bestCont) {
        // the nearest lane that leads furthest (SUMO's bestLaneOffset), one lane toward it
        for (let k = 1; k < nLanes && good < 0; k++) {
          if (idx - k >= 0 && contOf[idx - k] === bestCont) good = lane - k;
          else if (idx + k < nLanes && contOf[idx + k] === bestCont) good = lane + k;
        }
        if (good >= 0 && strategicUrgent(e, s, lane, good, qCur)) {
          strategic = true;
          target = good < lane ? lane - 1 : lane + 1;
        }
      }
      if (!strategic && link !== NO_LINK) {
        // neither lane may be one the vehicle could not come back from in time (LC2013: LCA_STAY);
        // far enough before a stop on this edge, the lanes beside the stop's lane are as good
        let qL = qLeft;
        let qR = qRight;
        if (v.stopNext[s]! >= 0 && farBeforeStop(e, s)) {
          if (qL >= 0) qL = Math.max(qL, qCur);
          if (qR >= 0) qR = Math.max(qR, qCur);
        }
        laneQ[Q_CUR] = qCur;
        laneQ[Q_LEFT] = tacticalOk(qL, qCur) ? qL : -1;
        laneQ[Q_RIGHT] = tacticalOk(qR, qCur) ? qR : -1;
        target = tacticalChoice(e, s, lane, idx, nLanes);
      }
      if (target < 0 || !e.laneOpenFor(target, e.vClassOf(s))) continue; // never into a closed or forbidden lane
      v.lcTarget[s] = target;
      if (!strategic) continue;
      // urgent strategic change: ask for room if it is blocked now
      e.neighbours(target, s);
      const f = e.nbFollower;
      const l = e.nbLeader;
      if (f >= 0 && !safeGap(e, f, s)) requestYield(e, f, s);
      if (l >= 0 && !safeGap(e, s, l)) requestYield(e, s, l);
    }
  }

  // ---- commit, lanes by index, vehicles front to back ----
  for (let i = 0; i < nActive; i++) {
    const lane = active[i]!;
    let s = e.laneFront[lane]!;
    while (s >= 0) {
      const nextS = v.behind[s]!;
      const target = v.lcTarget[s]!;
      if (target >= 0 && v.lastLaneChange[s] !== step) tryChange(e, s, lane, target);
      s = nextS;
    }
  }
}

/**
 * How far each of the `nLanes` lanes of the edge starting at lane `first` leads vehicle `s` along its
 * route (SUMO's bestLanes; -1: closed or forbidden), into `contOf`; returns the furthest. They change
 * only with the vehicle's route position, its next stop and closed lanes, so they are kept per slot
 * (Vehicles.contLanes) and computed once per edge rather than in every step.
 */
function edgeContinuations(e: Engine, s: number, first: number, nLanes: number): number {
  const v = e.v;
  if (nLanes > CONT_CACHE_WIDTH) return computeContinuations(e, s, first, nLanes);
  const base = s * CONT_CACHE_WIDTH;
  if (v.contVid[s] === v.vid[s] && v.contRouteIdx[s] === v.routeIdx[s] && v.contStop[s] === v.stopNext[s]) {
    for (let k = 0; k < nLanes; k++) contOf[k] = v.contLanes[base + k]!;
    return v.contBest[s]!;
  }
  const best = computeContinuations(e, s, first, nLanes);
  for (let k = 0; k < nLanes; k++) v.contLanes[base + k] = contOf[k]!;
  v.contVid[s] = v.vid[s]!;
  v.contRouteIdx[s] = v.routeIdx[s]!;
  v.contStop[s] = v.stopNext[s]!;
  v.contBest[s] = best;
  return best;
}

function computeContinuations(e: Engine, s: number, first: number, nLanes: number): number {
  let best = -1;
  for (let k = 0; k < nLanes; k++) {
    const c = e.laneContinuation(s, first + k);
    contOf[k] = c;
    if (c > best) best = c;
  }
  return best;
}

/**
 * Is the strategic change of vehicle `s` on `lane` toward `target` urgent (SUMO LC2013 `_wantsChange`:
 * `currentDistDisallows(usableDist, bestLaneOffset, laDist)`)? The distance the vehicle may still
 * drive on its lane, less the room the queue on the lane it must reach already takes (SUMO's
 * `best.occupation`), per lane change still needed, is shorter than its look-ahead distance
 * `laDist` = speed · 10 s · lcStrategic (· 2 to the left) + 2 · (length + minGap). SUMO keeps a slowly
 * decaying memory of the speed here; we take the current speed. An urgent change asks the blocking
 * vehicles on the target lane for room (informLeader / informFollower): a queue on a turn lane makes
 * every vehicle bound for it merge early instead of at the end of its lane, where it would block the
 * lane it is on.
 */
function strategicUrgent(e: Engine, s: number, lane: number, good: number, qCur: number): boolean {
  const usable = qCur - e.v.pos[s]! - occupation(e, good);
  return usable / Math.abs(good - lane) < lookAheadDistance(e, s, good > lane);
}

/**
 * The room the vehicles on `lane` take (length + minGap each, summed front to back), m. Nothing moves
 * while the phase decides, so it is summed once per lane and phase (`laneOccStamp`), not once per
 * vehicle bound for the lane.
 */
function occupation(e: Engine, lane: number): number {
  if (e.laneOccStamp[lane] === e.lcRound) return e.laneOcc[lane]!;
  const { v, demand } = e;
  let sum = 0;
  for (let x = e.laneFront[lane]!; x >= 0; x = v.behind[x]!) {
    const xt = demand.types[demand.type[v.vid[x]!]!]!;
    sum += xt.length + xt.minGap;
  }
  e.laneOccStamp[lane] = e.lcRound;
  e.laneOcc[lane] = sum;
  return sum;
}

/** LC2013's look-ahead distance laDist of vehicle `s`: speed · 10 s · lcStrategic (· 2 to the left) + 2 · (length + minGap), m. */
function lookAheadDistance(e: Engine, s: number, left: boolean): number {
  const t = e.demand.types[e.demand.type[e.v.vid[s]!]!]!;
  return e.v.speed[s]! * 10 * t.lcStrategic * (left ? 2 : 1) + 2 * (t.length + t.minGap);
}

/**
 * Is vehicle `s` on the edge of its next stop, far enough before it to come back to the stop's lane
 * (3 s at its speed, plus room for two vehicles)? Then it may overtake on another lane when the
 * stop's lane is blocked, as SUMO's drivers do (a bus at a stop ahead), and returns in time for its
 * stop by the strategic change, the other lanes ending at the stop.
 */
function farBeforeStop(e: Engine, s: number): boolean {
  const k = e.stopAhead(s);
  if (k < 0 || e.demand.stops.routeIdx[k] !== e.v.routeIdx[s]) return false;
  const t = e.demand.types[e.demand.type[e.v.vid[s]!]!]!;
  return e.demand.stops.endPos[k]! - e.v.pos[s]! > 3 * e.v.speed[s]! + 2 * (t.length + t.minGap);
}

/**
 * May vehicle `s` change for speed or to keep right onto a lane leading `q` m along its route (-1:
 * closed or forbidden), when its own leads `qCur`? Only onto one that leads as far: letting vehicles
 * leave their best lane for speed while the way back is long enough (LC2013's neighLeftPlace rule)
 * put straight-on traffic behind waiting left-turners (cologne1: +33% duration).
 */
function tacticalOk(q: number, qCur: number): boolean {
  return q >= 0 && q >= qCur;
}

/** Is the gap from vehicle `back` to vehicle `front` ahead of it on one lane safe for `back` (its secureGap)? */
function safeGap(e: Engine, back: number, front: number): boolean {
  const { v, demand } = e;
  const bt = demand.types[demand.type[v.vid[back]!]!]!;
  const gap = v.pos[front]! - demand.types[demand.type[v.vid[front]!]!]!.length - v.pos[back]! - bt.minGap;
  const ft = demand.types[demand.type[v.vid[front]!]!]!;
  return (
    gap >= -GAP_TOLERANCE &&
    gap >= secureGapOf(bt, v.speed[back]!, v.speed[front]!, ft.apparentDecel, e.cfg.stepLength) - GAP_TOLERANCE
  );
}

/** With no follower on the target lane: nobody about to leave the junction behind cuts in. */
function upstreamSafe(e: Engine, s: number, target: number): boolean {
  const t = e.demand.types[e.demand.type[e.v.vid[s]!]!]!;
  return e.upstreamClear(target, e.v.pos[s]!, t.length, e.v.speed[s]!);
}

/** Asks `who` to leave room behind `forWhom`; of several requests the nearest vehicle ahead wins. */
function requestYield(e: Engine, who: number, forWhom: number): void {
  const v = e.v;
  if (v.pos[forWhom]! <= v.pos[who]!) return;
  const cur = v.yieldTo[who]!;
  if (cur < 0 || v.pos[forWhom]! < v.pos[cur]! || (v.pos[forWhom] === v.pos[cur] && v.vid[forWhom]! < v.vid[cur]!)) {
    v.yieldTo[who] = forWhom;
  }
}

function tryChange(e: Engine, s: number, lane: number, target: number): void {
  e.neighbours(target, s);
  const leader = e.nbLeader;
  const follower = e.nbFollower;
  const okLeader = leader < 0 || safeGap(e, s, leader);
  const okFollower = follower >= 0 ? safeGap(e, follower, s) : upstreamSafe(e, s, target);
  if (okLeader && okFollower) {
    move(e, s, target);
    return;
  }
  // swap with a vehicle alongside that wants our lane (SUMO's MSLaneChanger swap)
  const other =
    !okLeader && wantsSwap(e, leader, s, lane)
      ? leader
      : !okFollower && wantsSwap(e, follower, s, lane)
        ? follower
        : -1;
  if (other < 0) return;
  move(e, s, target);
  move(e, other, lane);
}

/** Does `other` (-1: none) want to change to `lane`, and is it alongside `s` (less than `s`'s length apart)? */
function wantsSwap(e: Engine, other: number, s: number, lane: number): boolean {
  const v = e.v;
  if (other < 0 || v.lcTarget[other] !== lane || v.lastLaneChange[other] === e.step) return false;
  return Math.abs(v.pos[other]! - v.pos[s]!) < e.demand.types[e.demand.type[v.vid[s]!]!]!.length;
}

function move(e: Engine, s: number, target: number): void {
  e.unlink(s);
  e.insertSorted(s, target);
  e.v.lastLaneChange[s] = e.step;
  e.v.link[s] = e.computeLink(s, target);
}
