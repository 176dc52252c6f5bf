/**
 * Insertion phase: vehicles whose depart step has come join the insertion queue (in departure
 * order); each is inserted when its depart lane has room at the depart position, otherwise it waits.
 * When one vehicle cannot be inserted on an edge, the vehicles behind it in the queue for the same
 * edge wait too (SUMO's default, non-eager insertion).
 */
import type { Engine } from './engine.js';
import { DepartLaneCode, DepartPosCode, DepartSpeedCode, POS_KEYWORD } from './demand.js';
import { insertionSafe, insertionSpeed, secureGapOf } from './cfmodel.js';
import { Purpose, uniform } from './rng.js';

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
  let lane: number;
  if (code >= 0) {
    if (code >= n) return false;
    lane = first + code;
    if (!e.laneOpenFor(lane, cls)) return false; // the given lane is closed by a command (or forbidden): wait
  } else if (code === DepartLaneCode.random) {
    lane = randomOpenLane(e, first, n, cls, uniform(seed, id, step, Purpose.departLane));
  } else if (code === DepartLaneCode.free || code === DepartLaneCode.allowed) {
    // the allowed lane with most room at its start
    lane = -1;
    let bestRoom = -Infinity;
    for (let l = first; l < first + n; l++) {
      if (!e.laneOpenFor(l, cls)) continue;
      const room = roomAtStart(e, l);
      if (room > bestRoom) {
        bestRoom = room;
        lane = l;
      }
    }
  } else if (code === DepartLaneCode.best) {
    // the lane that leads furthest along the route (SUMO's bestLanes), then the one with most room
    const c = d.continuation(d.type[id]!, d.route[id]!);
    lane = -1;
    let bestCont = -1;
    let bestRoom = -Infinity;
    for (let l = first; l < first + n; l++) {
      if (!e.laneOpenFor(l, cls)) continue;
      const ct = c.cont[l - first]!;
      const room = roomAtStart(e, l);
      if (ct > bestCont || (ct === bestCont && room > bestRoom)) {
        bestCont = ct;
        bestRoom = room;
        lane = l;
      }
    }
  } else {
    lane = firstOpenLane(e, first, n, cls); // first: the rightmost lane the class may use (SUMO getFirstAllowed)
  }
  if (lane < 0) return false; // every lane of the edge is closed or forbidden for the class
  const L = net.laneLength[lane]!;
  const pc = d.departPos[id]!;
  let pos: number;
  if (pc > POS_KEYWORD) pos = pc < 0 ? L + pc : pc;
  else if (pc === DepartPosCode.random) pos = t.length + uniform(seed, id, step, Purpose.departPos) * Math.max(0, L - t.length);
  else if (pc === DepartPosCode.free || pc === DepartPosCode.last) pos = Math.min(L, Math.max(t.length + POSITION_EPS, roomAtStart(e, lane) - t.minGap));
  else pos = Math.min(t.length + POSITION_EPS, L);
  if (pos > L) pos = L;
  if (pos < 0) pos = 0;

  const v0 = Math.min(e.laneSpeed[lane]! * d.speedFactor[id]!, t.maxSpeed);
  const sc = d.departSpeed[id]!;
  let speed: number;
  if (sc >= 0) speed = sc;
  else if (sc === DepartSpeedCode.random) speed = uniform(seed, id, step, Purpose.departSpeed) * v0;
  else speed = v0; // max, desired, speedLimit: reduced below to what is safe

  // room: leader ahead and follower behind on the lane
  e.neighboursAt(lane, pos);
  const leader = e.nbLeader;
  const follower = e.nbFollower;
  const v = e.v;
  if (leader >= 0) {
    const lt = d.types[d.type[v.vid[leader]!]!]!;
    const gap = v.pos[leader]! - lt.length - pos - t.minGap;
    if (gap < 0) return false;
    if (sc < 0) {
      // "max": the highest speed that is still safe behind the leader
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
  v.ahead[s] = -1;
  v.behind[s] = -1;
  e.insertSorted(s, lane);
  v.link[s] = e.computeLink(s, lane);
  const tr = e.trips;
  tr.departStep[id] = step;
  tr.departLane[id] = lane;
  tr.departPos[id] = pos;
  tr.departSpeed[id] = speed;
  e.inserted++;
  e.running++;
  return true;
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

/** Free length at the start of a lane: back position of its last vehicle, or its length. */
function roomAtStart(e: Engine, lane: number): number {
  const b = e.laneBack[lane]!;
  if (b < 0) return e.net.laneLength[lane]!;
  return e.v.pos[b]! - e.demand.types[e.demand.type[e.v.vid[b]!]!]!.length;
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
    }
    else queue[keep++] = s;
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
