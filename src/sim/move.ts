/**
 * Movement phase (Euler update, as SUMO's default): every vehicle on a lane takes its chosen speed
 * and moves `speed · dt`. A vehicle that passes the end of a normal lane enters its link's internal
 * lane, if its junction phase allowed it (otherwise it halts at the line). A vehicle that passes the
 * end of an internal lane leaves the junction: it is put "in transit" and placed on the next lane at
 * the start of the next step — so that nothing in a step reads a lane that another part of the
 * network writes in the same step (a junction's outgoing lanes may belong to another partition).
 * A vehicle that reaches its arrival position arrives.
 *
 * Also the teleport phase: a vehicle stuck at the front of a lane for `timeToTeleport` seconds leaves
 * its lane and is re-inserted on the next edge of its route in the next step (SUMO's jam resolution).
 */
import type { Engine } from './engine.js';
import { ROUTE_END, WAIT_INSIDE } from './vehicles.js';

/** Speed below which a vehicle counts as waiting, m/s (SUMO). */
const WAITING_SPEED = 0.1;

export function movePhase(e: Engine): void {
  const { net, v } = e;
  const dt = e.cfg.stepLength;
  const nActive = e.collectActive(0, net.laneCount);
  const lanes = e.activeList;

  // ---- update speeds, positions and trip statistics ----
  let moved = 0;
  for (let i = 0; i < nActive; i++) {
    const lane = lanes[i]!;
    const internal = lane >= net.normalLaneCount;
    const cp = internal ? net.linkContPos[net.laneLink[lane]!]! : -1;
    for (let s = e.laneFront[lane]!; s >= 0; s = v.behind[s]!) {
      moved++;
      const ns = v.nextSpeed[s]!;
      // standing at a stop: no waiting time, no time loss (SUMO: scheduled stops do not count)
      if (v.stopEnd[s]! >= 0 && e.holding(s)) {
        v.speed[s] = 0;
        v.stopTime[s]! += dt;
        continue;
      }
      const old = v.pos[s]!;
      let p = old + ns * dt;
      let speed = ns;
      // no passing the wait point inside a junction without permission
      if (cp >= 0 && old <= cp + 1e-6 && p > cp && v.linkOpen[s] === 0) {
        p = cp;
        speed = 0;
      }
      // reaching a stop: it counts as stopped in this step already (SUMO's tripinfo: neither waiting
      // time nor time loss for the step that brings it to a halt at its stop)
      if (v.stopNext[s]! >= 0 && stopProgress(e, s, lane, p, ns)) {
        v.waitSteps[s] = 0;
        v.stopTime[s]! += dt;
        v.speed[s] = 0;
        v.pos[s] = p;
        v.odometer[s]! += p - old;
        continue;
      }
      if (ns < WAITING_SPEED) {
        if (v.waitSteps[s] === 0) v.waitCount[s]!++;
        v.waitSteps[s]!++;
        v.waitTotal[s]!++;
      } else {
        v.waitSteps[s] = 0;
      }
      const vmax = e.maxSpeedOn(s, lane);
      v.timeLoss[s]! += (dt * (vmax - ns)) / vmax;
      v.speed[s] = speed;
      v.pos[s] = p;
      v.odometer[s]! += p - old;
    }
  }
  e.vehicleUpdates += moved;

  // ---- take vehicles past their lane's end (or arrival point) off their lanes ----
  let nOut = 0;
  for (let i = 0; i < nActive; i++) {
    const lane = lanes[i]!;
    for (let s = e.laneFront[lane]!; s >= 0 && pastEnd(e, s, lane); s = e.laneFront[lane]!) {
      e.unlink(s);
      if (nOut === e.scratch.length) e.growScratch();
      e.scratch[nOut++] = s;
    }
  }
  moveOn(e, nOut);
}

/**
 * Has vehicle `s` passed the end of `lane`, or reached its arrival position on its last lane? (A
 * function of integers, as a number returned from a function V8 does not inline is boxed.)
 */
function pastEnd(e: Engine, s: number, lane: number): boolean {
  if (lane < e.net.normalLaneCount && e.v.link[s] === ROUTE_END) return atArrival(e, s, lane);
  const p = e.v.pos[s]!;
  const end = e.net.laneLength[lane]!;
  return !(p < end || p === end);
}

/**
 * Has vehicle `s` reached its arrival position on its last lane `lane`? A function of its own: V8
 * does not inline a call that is rare when it compiles the caller, and boxes the number it returns.
 */
function atArrival(e: Engine, s: number, lane: number): boolean {
  if (e.v.stopNext[s]! >= 0 && stopOnEdge(e, s, e.v.routeIdx[s]!)) return false; // SUMO: not before its stop here
  return !(e.v.pos[s]! < e.arrivalPosition(s, lane));
}

/** Is the next stop of vehicle `s` (which has one) on the edge at route position `ri`? */
function stopOnEdge(e: Engine, s: number, ri: number): boolean {
  return e.demand.stops.routeIdx[e.v.stopNext[s]!] === ri;
}

/** Distance past a stop's span within which a vehicle still counts as stopping there, m. */
const STOP_EPS = 0.1;
/** A vehicle this far past its stop's end has missed it (it was inserted or teleported beyond), m. */
const STOP_MISSED = 1;

/**
 * The stop state of vehicle `s` (which has a next stop) moving to `p` on `lane` at `ns`: a stop it
 * leaves in this step is done; standing within the span of its stop on the stop's lane it reaches
 * it, and stays `duration` s, at least until `until` (SUMO's MSStop::getMinDuration); a stop it can
 * no longer reach (passed, or on an edge behind it) is dropped. Returns true when it reaches a stop.
 */
function stopProgress(e: Engine, s: number, lane: number, p: number, ns: number): boolean {
  const v = e.v;
  const d = e.demand;
  const st = d.stops;
  const vid = v.vid[s]!;
  const k = v.stopNext[s]!;
  if (v.stopEnd[s]! >= 0) {
    // it leaves the stop in this step
    v.stopEnd[s] = -1;
    v.stopNext[s] = k + 1 < d.stopLast[vid]! ? k + 1 : -1;
    return false;
  }
  const ri = st.routeIdx[k]!;
  const cur = v.routeIdx[s]!;
  const internal = lane >= e.net.normalLaneCount;
  let missed = internal ? ri <= cur : ri < cur;
  if (!internal && ri === cur) {
    if (lane === st.lane[k] && ns < WAITING_SPEED && p >= st.startPos[k]! - STOP_EPS && p <= st.endPos[k]! + STOP_EPS) {
      const t = e.time(e.step + 1);
      const until = d.stopUntil(k, vid);
      const end = t + st.duration[k]!;
      v.stopEnd[s] = until > end ? until : end;
      // a driver standing at a stop forgets why it wanted another lane
      v.lcGain[s] = 0;
      v.lcKeepRight[s] = 0;
      return true;
    }
    if (p > st.endPos[k]! + STOP_MISSED) missed = true;
  }
  if (missed) v.stopNext[s] = k + 1 < d.stopLast[vid]! ? k + 1 : -1;
  return false;
}

/** Moves on the `e.scratch[0..nOut)` vehicles taken off their lanes: into the junction, out of it (in transit), or arrived. */
function moveOn(e: Engine, nOut: number): void {
  const { net, v } = e;
  for (let k = 0; k < nOut; k++) {
    const s = e.scratch[k]!;
    let lane = v.lane[s]!;
    let p = v.pos[s]!;
    if (lane < net.normalLaneCount) {
      const link = v.link[s]!;
      if (link === ROUTE_END) {
        const ap = e.arrivalPosition(s, lane);
        e.arrive(s, ap, p - ap);
        continue;
      }
      const L = net.laneLength[lane]!;
      if (link < 0 || v.linkOpen[s] === 0) {
        // not allowed through: halt at the line
        haltAt(e, s, lane);
        e.insertSorted(s, lane);
        continue;
      }
      p -= L;
      lane = net.linkLane[link]!;
      // allowed in, not past the wait point (the junction phase found it held)
      if (v.linkOpen[s] === WAIT_INSIDE && p > net.linkContPos[link]!) {
        v.odometer[s]! -= p - net.linkContPos[link]!;
        p = net.linkContPos[link]!;
        v.speed[s] = 0;
      }
      if (p <= net.laneLength[lane]!) {
        v.pos[s] = p;
        e.insertSorted(s, lane);
        continue;
      }
    }
    // leaving the junction onto the next normal lane
    p -= net.laneLength[lane]!;
    const next = net.linkTo[net.laneLink[lane]!]!;
    v.routeIdx[s]!++;
    v.lane[s] = next;
    v.pos[s] = p;
    const last = e.routeEdge(s, 1) < 0;
    if (last && p >= e.arrivalPosition(s, next) && !(v.stopNext[s]! >= 0 && stopOnEdge(e, s, v.routeIdx[s]!))) {
      const ap = e.arrivalPosition(s, next);
      e.arrive(s, ap, p - ap);
      continue;
    }
    if (!last && p > net.laneLength[next]!) haltAt(e, s, next);
    e.addTransit(s);
  }
}

/** Puts vehicle `s` back to the end of `lane` (its position is beyond) with speed 0. */
function haltAt(e: Engine, s: number, lane: number): void {
  const at = e.net.laneLength[lane]!;
  e.v.odometer[s]! -= e.v.pos[s]! - at;
  e.v.pos[s] = at;
  e.v.speed[s] = 0;
}

export function teleportPhase(e: Engine): void {
  const ttt = e.cfg.timeToTeleport;
  if (!(ttt > 0)) return;
  const { net, v } = e;
  const limit = ttt / e.cfg.stepLength;
  const nActive = e.collectActive(0, net.laneCount);
  for (let i = 0; i < nActive; i++) {
    const lane = e.activeList[i]!;
    const s = e.laneFront[lane]!;
    if (s < 0 || v.waitSteps[s]! <= limit) continue;
    e.unlink(s);
    e.teleports++;
    v.teleports[s]!++;
    // the distance skipped counts as driven: the rest of this lane and of the junction
    v.odometer[s]! += Math.max(0, net.laneLength[lane]! - v.pos[s]!);
    if (lane < net.normalLaneCount && v.link[s]! >= 0) v.odometer[s]! += net.laneLength[net.linkLane[v.link[s]!]!]!;
    // on a normal lane routeIdx is its edge, on an internal lane the edge before: either way, next
    v.routeIdx[s]!++;
    e.requestReinsertion(s);
  }
}
