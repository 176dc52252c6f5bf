/**
 * Insertion phase: vehicles whose depart step has come join the insertion queue (in departure
 * order); each is inserted when its depart lane has room at the depart position, otherwise it waits.
 * When one vehicle cannot be inserted on an edge, the vehicles behind it in the queue for the same
 * edge wait too (SUMO's default, non-eager insertion).
 */
import type { Engine } from './engine.js';
import { DepartLaneCode, DepartPosCode, DepartSpeedCode, POS_KEYWORD } from './demand.js';
import { insertionSafe, insertionSpeed, secureGapOf } from './cfmodel.js';
import { hash4, Purpose, uniform } from './rng.js';

const POSITION_EPS = 0.1;

export function insertionPhase(e: Engine): void {
  reinsertTeleported(e);
  const d = e.demand;
  // queue everything departing up to and including this step
  const deps = e.departures;
  while (e.nextDeparture < deps.length && d.departStep[deps[e.nextDeparture]!]! <= e.step) {
    if (e.pendingCount === e.pending.length) {
      const bigger = new Int32Array(e.pending.length * 2);
      bigger.set(e.pending);
      e.pending = bigger;
    }
    const id = deps[e.nextDeparture++]!;
    if (d.cancelled[id] === 0) e.pending[e.pendingCount++] = id; // setFlow may cancel flow vehicles
  }
  // then the vehicles online commands added (addVehicle, setFlow), in (depart step, index) order
  const extra = e.extraDepartures;
  while (e.nextExtra < extra.length && d.departStep[extra[e.nextExtra]!]! <= e.step) {
    if (e.pendingCount === e.pending.length) {
      const bigger = new Int32Array(e.pending.length * 2);
      bigger.set(e.pending);
      e.pending = bigger;
    }
    const id = extra[e.nextExtra++]!;
    if (d.cancelled[id] === 0) e.pending[e.pendingCount++] = id;
  }
  // try them in order, compacting the queue in place
  let keep = 0;
  for (let k = 0; k < e.pendingCount; k++) {
    const id = e.pending[k]!;
    const edge = d.routeEdges[d.routeStart[d.route[id]!]!]!;
    if (e.edgeBlocked[edge] === e.step || !tryInsert(e, id, edge)) {
      e.edgeBlocked[edge] = e.step;
      e.pending[keep++] = id;
    }
  }
  e.pendingCount = keep;
}

function tryInsert(e: Engine, id: number, edge: number): boolean {
  const { net, demand: d } = e;
  const t = d.types[d.type[id]!]!;
  const first = net.edgeFirstLane[edge]!;
  const n = net.edgeLaneCount[edge]!;
  const code = d.departLane[id]!;
  const step = e.step;
  const seed = e.cfg.seed;
  const cls = t.vClass;
  const pc = d.departPos[id]!;
  let lane: number;
  if (code >= 0) {
    if (code >= n) return false;
    lane = first + code;
    if (!e.laneOpenFor(lane, cls)) return false; // the given lane is closed by a command (or forbidden): wait
  } else if (code === DepartLaneCode.random) {
    lane = randomOpenLane(e, first, n, cls, uniform(seed, id, step, Purpose.departLane));
  } else if (code === DepartLaneCode.free || code === DepartLaneCode.allowed || code === DepartLaneCode.best) {
    lane = freeLane(e, id, edge, code, pc);
  } else {
    lane = firstOpenLane(e, first, n, cls); // first: the rightmost lane the class may use (SUMO getFirstAllowed)
  }
  if (lane < 0) return false; // every lane of the edge is closed or forbidden for the class

  // SUMO's MSLane::getDepartSpeed: the speed, and whether it may be lowered to what is safe (patch)
  const v0 = Math.min(e.laneSpeed[lane]! * d.speedFactor[id]!, t.maxSpeed);
  const sc = d.departSpeed[id]!;
  let speed: number;
  let patch = false;
  if (sc >= 0) speed = sc;
  else if (sc === DepartSpeedCode.random) {
    speed = uniform(seed, id, step, Purpose.departSpeed) * v0;
    patch = true;
  } else if (sc === DepartSpeedCode.max) {
    speed = v0;
    patch = true;
  } else if (sc === DepartSpeedCode.speedLimit) {
    speed = v0 / d.speedFactor[id]!;
  } else if (sc === DepartSpeedCode.last) {
    // the speed of the last vehicle on the lane (none: as max)
    const b = e.laneBack[lane]!;
    speed = v0;
    if (b >= 0) speed = Math.min(v0, e.v.speed[b]!);
    else patch = true;
  } else if (sc === DepartSpeedCode.avg) {
    // the mean speed on the lane (empty: its limit)
    speed = Math.min(v0, meanSpeed(e, lane));
    patch = e.laneBack[lane]! < 0;
  } else speed = v0; // desired: as it would drive, not lowered

  const L = net.laneLength[lane]!;
  if (pc === DepartPosCode.free) return freeInsertion(e, id, lane, speed);
  if (pc === DepartPosCode.last) return lastInsertion(e, id, lane, speed, patch);
  if (pc === DepartPosCode.random_free) {
    // SUMO: ten random positions, then the free one
    for (let k = 0; k < 10; k++) {
      const pos = (hash4(seed, id, step * 16 + k, Purpose.departPosFree) / 4294967296) * L;
      if (insertAt(e, id, lane, pos, speed, patch)) return true;
    }
    return freeInsertion(e, id, lane, speed);
  }
  let pos: number;
  if (pc > POS_KEYWORD) pos = pc < 0 ? L + pc : pc;
  else if (pc === DepartPosCode.random) pos = uniform(seed, id, step, Purpose.departPos) * L;
  else if (pc === DepartPosCode.stop && d.stopFirst[id]! < d.stopLast[id]! && d.stops.lane[d.stopFirst[id]!] === lane)
    pos = d.stops.endPos[d.stopFirst[id]!]!;
  else pos = Math.min(t.length + POSITION_EPS, L); // base (and stop without a stop on this lane)
  if (pos > L) pos = L;
  if (pos < 0) pos = 0;
  return insertAt(e, id, lane, pos, speed, patch);
}

/**
 * Inserts vehicle `id` on `lane` with its front at `pos` at `speed` if that is safe (SUMO's
 * isInsertionSuccess): room to the leader (with `patch`, the speed is lowered until it is safe;
 * without, an unsafe speed fails) and to the follower, or to whoever is about to leave a junction
 * onto the lane.
 */
function insertAt(e: Engine, id: number, lane: number, pos: number, speed: number, patch: boolean): boolean {
  const d = e.demand;
  const t = d.types[d.type[id]!]!;
  const v = e.v;
  e.neighboursAt(lane, pos);
  const leader = e.nbLeader;
  const follower = e.nbFollower;
  if (leader >= 0) {
    const lt = d.types[d.type[v.vid[leader]!]!]!;
    const gap = v.pos[leader]! - lt.length - pos - t.minGap;
    if (gap < 0) return false;
    if (patch) {
      // the highest speed that is still safe behind the leader
      speed = insertionSpeed(t, speed, gap, v.speed[leader]!, lt.apparentDecel, e.cfg.stepLength);
    } else if (!insertionSafe(t, speed, gap, v.speed[leader]!, lt.apparentDecel, e.cfg.stepLength)) {
      return false;
    }
  }
  if (follower >= 0) {
    const ft = d.types[d.type[v.vid[follower]!]!]!;
    const gap = pos - t.length - v.pos[follower]! - ft.minGap;
    if (gap < 0 || secureGapOf(ft, v.speed[follower]!, speed, t.apparentDecel, e.cfg.stepLength) > gap) return false;
  } else if (!e.upstreamClear(lane, pos, t.length, speed)) {
    return false;
  }
  place(e, id, lane, pos, speed);
  return true;
}

/**
 * SUMO's MSLane::freeInsertion: on an empty lane at its very start; else behind the last vehicle,
 * else in the first gap, from the lane's start on, where the vehicle fits with secure gaps to both
 * sides, at its speed lowered to its leader's.
 */
function freeInsertion(e: Engine, id: number, lane: number, mspeed: number): boolean {
  const d = e.demand;
  const t = d.types[d.type[id]!]!;
  const v = e.v;
  const dt = e.cfg.stepLength;
  const back = e.laneBack[lane]!;
  if (back < 0) return insertAt(e, id, lane, 0, mspeed, true);
  // at the lane's start, measured against its front vehicle (SUMO getFirstFullVehicle, "reproduction
  // of bogus old behavior", #1961: the vehicles in between are checked by the insertion itself)
  {
    const front = e.laneFront[lane]!;
    const lt = d.types[d.type[v.vid[front]!]!]!;
    const leaderBack = v.pos[front]! - lt.length;
    const needed = secureGapOf(t, v.speed[front]!, v.speed[front]!, lt.apparentDecel, dt) + t.minGap;
    if (leaderBack >= needed) {
      const sp = insertionSpeed(t, mspeed, needed, v.speed[front]!, lt.apparentDecel, dt);
      if (insertAt(e, id, lane, 0, sp, true)) return true;
    }
  }
  // the gaps, from the back of the lane forward
  const L = e.net.laneLength[lane]!;
  for (let f = back; f >= 0; f = v.ahead[f]!) {
    const leader = v.ahead[f]!;
    let speed = mspeed;
    let frontMax = L;
    if (leader >= 0) {
      const lt = d.types[d.type[v.vid[leader]!]!]!;
      if (v.speed[leader]! < speed) speed = v.speed[leader]!;
      frontMax = v.pos[leader]! - lt.length - secureGapOf(t, speed, v.speed[leader]!, lt.apparentDecel, dt) - t.minGap;
    }
    const ft = d.types[d.type[v.vid[f]!]!]!;
    const backMin = v.pos[f]! + ft.minGap + secureGapOf(ft, v.speed[f]!, speed, t.apparentDecel, dt) + t.length;
    if (frontMax > 0 && backMin + POSITION_EPS < frontMax && insertAt(e, id, lane, backMin + POSITION_EPS, speed, true))
      return true;
  }
  return false;
}

/** SUMO's MSLane::lastInsertion: at the lane's end, or as far forward behind its last vehicle as a secure gap allows. */
function lastInsertion(e: Engine, id: number, lane: number, mspeed: number, patch: boolean): boolean {
  const d = e.demand;
  const t = d.types[d.type[id]!]!;
  const v = e.v;
  const L = e.net.laneLength[lane]!;
  const pos = L - POSITION_EPS;
  const back = e.laneBack[lane]!;
  if (back < 0) return insertAt(e, id, lane, pos, mspeed, patch);
  const lt = d.types[d.type[v.vid[back]!]!]!;
  const leaderBack = v.pos[back]! - lt.length;
  const needed = secureGapOf(t, mspeed, v.speed[back]!, lt.apparentDecel, e.cfg.stepLength) + t.minGap + POSITION_EPS;
  if (leaderBack < needed) return false;
  return insertAt(e, id, lane, Math.min(pos, leaderBack - needed), mspeed, patch);
}

/** The mean speed of the vehicles on `lane`, or its limit when it is empty (SUMO MSLane::getMeanSpeed). */
function meanSpeed(e: Engine, lane: number): number {
  let n = 0;
  let sum = 0;
  for (let s = e.laneFront[lane]!; s >= 0; s = e.v.behind[s]!) {
    sum += e.v.speed[s]!;
    n++;
  }
  return n > 0 ? sum / n : e.laneSpeed[lane]!;
}

/**
 * The lane SUMO's departLane free / allowed / best picks (MSEdge::getDepartLane, getFreeLane): among
 * the lanes the class may use (allowed: that lead on to the route's next edge; best: that lead
 * furthest along the route, up to 3 km), the one with the largest gap from the departure position to
 * its last vehicle, else the least occupied.
 */
function freeLane(e: Engine, id: number, edge: number, code: number, pc: number): number {
  const { net, demand: d } = e;
  const first = net.edgeFirstLane[edge]!;
  const n = net.edgeLaneCount[edge]!;
  const cls = d.types[d.type[id]!]!.vClass;
  const r = d.route[id]!;
  const next = d.routeStart[r + 1]! - d.routeStart[r]! > 1 ? d.routeEdges[d.routeStart[r]! + 1]! : -1;
  let bestCont = -1;
  const c = code === DepartLaneCode.best ? d.continuation(d.type[id]!, r) : undefined;
  if (c !== undefined)
    for (let l = 0; l < n; l++) if (e.laneOpenFor(first + l, cls) && c.cont[l]! > bestCont) bestCont = c.cont[l]!;
  const bound = Math.min(bestCont, BEST_LANE_LOOKAHEAD);
  // the lower bound of the departure position (SUMO getDepartPosBound(veh, false))
  const L = net.edgeLength[edge]!;
  const posBound =
    pc > POS_KEYWORD ? (pc < 0 ? L + pc : pc) : pc === DepartPosCode.random || pc === DepartPosCode.random_free ? L : 0;
  let byGap = -1;
  let largestGap = 0;
  let byOccupancy = -1;
  let leastOccupancy = Infinity;
  for (let l = first; l < first + n; l++) {
    if (!e.laneOpenFor(l, cls)) continue;
    if (code === DepartLaneCode.allowed && next >= 0 && !net.hasLinkToEdge(l, next, e.laneClosed, cls)) continue;
    if (c !== undefined && c.cont[l - first]! < bound) continue;
    const occupancy = bruttoOccupancy(e, l);
    if (occupancy < leastOccupancy) {
      leastOccupancy = occupancy;
      byOccupancy = l;
    }
    const back = e.laneBack[l]!;
    const gap = (back >= 0 ? e.v.pos[back]! : L) - posBound;
    if (gap > largestGap) {
      largestGap = gap;
      byGap = l;
    }
  }
  return byGap >= 0 ? byGap : byOccupancy;
}

/** SUMO's best lanes look this far ahead when choosing a departure lane, m. */
const BEST_LANE_LOOKAHEAD = 3000;

/** Length with gap of the vehicles on `lane` over its length (SUMO getBruttoOccupancy). */
function bruttoOccupancy(e: Engine, lane: number): number {
  const d = e.demand;
  let sum = 0;
  for (let s = e.laneFront[lane]!; s >= 0; s = e.v.behind[s]!) {
    const t = d.types[d.type[e.v.vid[s]!]!]!;
    sum += t.length + t.minGap;
  }
  return sum / e.net.laneLength[lane]!;
}

/** Puts vehicle `id` on `lane` at `pos` and `speed`: a new slot, its trip's departure, its first stop. */
function place(e: Engine, id: number, lane: number, pos: number, speed: number): void {
  const v = e.v;
  const d = e.demand;
  const s = v.alloc();
  v.vid[s] = id;
  v.pos[s] = pos;
  v.speed[s] = speed;
  v.routeIdx[s] = 0;
  v.waitSteps[s] = 0;
  v.waitTotal[s] = 0;
  v.waitCount[s] = 0;
  v.timeLoss[s] = 0;
  v.odometer[s] = 0;
  v.lastLaneChange[s] = -1e9;
  v.willPass[s] = 1;
  v.teleports[s] = 0;
  v.lcGain[s] = 0;
  v.lcKeepRight[s] = 0;
  v.stopNext[s] = d.stopFirst[id]! < d.stopLast[id]! ? d.stopFirst[id]! : -1;
  v.stopEnd[s] = -1;
  v.stopTime[s] = 0;
  v.ahead[s] = -1;
  v.behind[s] = -1;
  e.insertSorted(s, lane);
  v.link[s] = e.computeLink(s, lane);
  const tr = e.trips;
  tr.departStep[id] = e.step;
  tr.departLane[id] = lane;
  tr.departPos[id] = pos;
  tr.departSpeed[id] = speed;
  e.inserted++;
  e.running++;
}

/** The rightmost lane of the edge whose lanes are [first, first + n) that class `cls` may enter now, or -1. */
function firstOpenLane(e: Engine, first: number, n: number, cls: number): number {
  for (let l = first; l < first + n; l++) if (e.laneOpenFor(l, cls)) return l;
  return -1;
}

/** A lane of [first, first + n) that class `cls` may enter now, chosen by `u` in [0, 1) among those, or -1. */
function randomOpenLane(e: Engine, first: number, n: number, cls: number, u: number): number {
  let open = 0;
  for (let l = first; l < first + n; l++) if (e.laneOpenFor(l, cls)) open++;
  if (open === 0) return -1;
  let k = Math.floor(u * open);
  for (let l = first; l < first + n; l++) if (e.laneOpenFor(l, cls) && k-- === 0) return l;
  return -1;
}

/**
 * Teleported vehicles re-enter at the start of the edge at their routeIdx, standing, on the first
 * lane with room (preferring lanes that continue the route). Without room they travel on virtually
 * to the next edge and try there in the next step; past the end of the route they arrive.
 */
function reinsertTeleported(e: Engine): void {
  const n = e.reinsertCount;
  if (n === 0) return;
  const { net, v, demand: d } = e;
  const queue = e.reinsert.subarray(0, n).sort((a, b) => v.vid[a]! - v.vid[b]!);
  let keep = 0;
  for (let k = 0; k < n; k++) {
    const s = queue[k]!;
    const edge = e.routeEdge(s, 0);
    const t = d.types[d.type[v.vid[s]!]!]!;
    const next = e.routeEdge(s, 1);
    const first = net.edgeFirstLane[edge]!;
    const cls = t.vClass;
    const pos = Math.min(t.length + POSITION_EPS, net.edgeLength[edge]!);
    let placed = -1;
    for (let pass = 0; pass < 2 && placed < 0; pass++) {
      for (let lane = first; lane < first + net.edgeLaneCount[edge]!; lane++) {
        if (!e.laneOpenFor(lane, cls)) continue; // closed by a command, or not for this class
        if (pass === 0 && next >= 0 && !net.hasLinkToEdge(lane, next, e.laneClosed, cls)) continue;
        if (roomFor(e, lane, Math.min(pos, net.laneLength[lane]!), t.length, t.minGap)) {
          placed = lane;
          break;
        }
      }
    }
    if (placed >= 0) {
      v.pos[s] = Math.min(pos, net.laneLength[placed]!);
      v.speed[s] = 0;
      v.waitSteps[s] = 0;
      e.insertSorted(s, placed);
      v.link[s] = e.computeLink(s, placed);
      continue;
    }
    // no room: on to the next edge (which may belong to another part)
    v.odometer[s]! += net.edgeLength[edge]!;
    v.routeIdx[s]!++;
    if (next < 0) {
      v.lane[s] = first;
      e.arrive(s, net.edgeLength[edge]!, 0);
    } else queue[keep++] = s;
  }
  const moving = Array.from(queue.subarray(0, keep));
  e.reinsertCount = 0;
  for (const s of moving) e.requestReinsertion(s);
}

/** Room for a standing vehicle at `pos` on `lane`: no overlap ahead or behind, nobody about to enter. */
function roomFor(e: Engine, lane: number, pos: number, length: number, minGap: number): boolean {
  const { v, demand: d } = e;
  e.neighboursAt(lane, pos);
  const leader = e.nbLeader;
  const follower = e.nbFollower;
  if (leader >= 0 && v.pos[leader]! - d.types[d.type[v.vid[leader]!]!]!.length - pos - minGap < 0) return false;
  if (follower >= 0) {
    const ft = d.types[d.type[v.vid[follower]!]!]!;
    const gap = pos - length - v.pos[follower]! - ft.minGap;
    return gap >= 0 && gap >= secureGapOf(ft, v.speed[follower]!, 0, ft.decel, e.cfg.stepLength);
  }
  return e.upstreamClear(lane, pos, length, 0);
}
