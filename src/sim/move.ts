/**
 * Movement phase (Euler update, as SUMO's default): every vehicle takes its chosen speed and moves
 * `speed · dt`; then vehicles that passed the end of their lane are taken off it and placed on the
 * lanes ahead (through the junction's internal lane onto the next edge), or arrive at their route's
 * end. A vehicle passes the end of a normal lane only through the link it was allowed to use in this
 * step's junction phase; otherwise it stops at the line.
 *
 * Also the teleport phase: a vehicle stuck at the front of a lane for `timeToTeleport` seconds is
 * moved along its route to the next edge with room, as SUMO does to resolve gridlocks.
 */
import type { Engine } from './engine.js';
import { ROUTE_END } from './vehicles.js';

/** Speed below which a vehicle counts as waiting, m/s (SUMO). */
const WAITING_SPEED = 0.1;

export function movePhase(e: Engine): void {
  const { net, v } = e;
  const dt = e.cfg.stepLength;
  const used = v.used;

  // ---- update speeds, positions and trip statistics ----
  let moved = 0;
  for (let s = 0; s < used; s++) {
    if (v.vid[s]! < 0) continue;
    moved++;
    const ns = v.nextSpeed[s]!;
    if (ns < WAITING_SPEED) {
      if (v.waitSteps[s] === 0) v.waitCount[s]!++;
      v.waitSteps[s]!++;
      v.waitTotal[s]!++;
    } else {
      v.waitSteps[s] = 0;
    }
    const vmax = e.maxSpeedOn(s, v.lane[s]!);
    v.timeLoss[s]! += (dt * (vmax - ns)) / vmax;
    v.speed[s] = ns;
    const lane = v.lane[s]!;
    const old = v.pos[s]!;
    let p = old + ns * dt;
    if (lane >= net.normalLaneCount) {
      // no passing the wait point inside a junction without permission
      const cp = net.linkContPos[net.laneLink[lane]!]!;
      if (cp >= 0 && old <= cp + 1e-6 && p > cp && v.linkOpen[s] === 0) {
        p = cp;
        v.speed[s] = 0;
      }
    }
    v.pos[s] = p;
    v.odometer[s]! += p - old;
  }
  e.vehicleUpdates += moved;

  // ---- take vehicles past their lane's end (or arrival point) off their lanes ----
  let nTransfer = 0;
  const nActive = e.collectActive(0, net.laneCount);
  for (let i = 0; i < nActive; i++) {
    const lane = e.activeList[i]!;
    for (let s = e.laneFront[lane]!; s >= 0; s = e.laneFront[lane]!) {
      const p = v.pos[s]!;
      const end = lane < net.normalLaneCount && v.link[s] === ROUTE_END ? e.arrivalPosition(s, lane) : net.laneLength[lane]!;
      if (p < end || (p === end && v.link[s] !== ROUTE_END)) break;
      e.unlink(s);
      if (nTransfer === e.transfer.length) {
        const bigger = new Int32Array(e.transfer.length * 2);
        bigger.set(e.transfer);
        e.transfer = bigger;
      }
      e.transfer[nTransfer++] = s;
    }
  }

  // ---- place them downstream ----
  for (let k = 0; k < nTransfer; k++) {
    const s = e.transfer[k]!;
    let lane = v.lane[s]!;
    let p = v.pos[s]!;
    let crossedLine = false;
    for (;;) {
      if (lane < net.normalLaneCount) {
        const link = v.link[s]!;
        if (link === ROUTE_END) {
          const ap = e.arrivalPosition(s, lane);
          if (p >= ap) {
            e.arrive(s, ap, p - ap);
            break;
          }
          place(e, s, lane, p);
          break;
        }
        const L = net.laneLength[lane]!;
        if (p <= L) {
          place(e, s, lane, p);
          break;
        }
        if (crossedLine || link < 0 || v.linkOpen[s] === 0) {
          // not allowed through: halt at the line
          v.odometer[s]! -= p - L;
          v.speed[s] = 0;
          place(e, s, lane, L);
          break;
        }
        crossedLine = true;
        p -= L;
        lane = net.linkLane[link]!;
      } else {
        const L = net.laneLength[lane]!;
        if (p <= L) {
          place(e, s, lane, p);
          break;
        }
        p -= L;
        lane = net.linkTo[net.laneLink[lane]!]!;
        v.routeIdx[s]!++;
        v.lane[s] = lane;
        v.link[s] = e.computeLink(s, lane);
      }
    }
  }
}

function place(e: Engine, s: number, lane: number, p: number): void {
  e.v.pos[s] = p;
  e.insertSorted(s, lane);
}

export function teleportPhase(e: Engine): void {
  const ttt = e.cfg.timeToTeleport;
  if (!(ttt > 0)) return;
  const { net, v, demand } = e;
  const limit = ttt / e.cfg.stepLength;
  const nActive = e.collectActive(0, net.laneCount);
  for (let i = 0; i < nActive; i++) {
    const lane = e.activeList[i]!;
    const s = e.laneFront[lane]!;
    if (s < 0 || v.waitSteps[s]! <= limit) continue;
    // jump to the first edge further along the route with room at its start
    e.unlink(s);
    e.teleports++;
    e.trips.teleports[v.vid[s]!]!++;
    const t = demand.types[demand.type[v.vid[s]!]!]!;
    let placed = false;
    for (let off = 1; ; off++) {
      const edge = e.routeEdge(s, off);
      if (edge < 0) break;
      const first = net.edgeFirstLane[edge]!;
      for (let l = first; l < first + net.edgeLaneCount[edge]!; l++) {
        const back = e.laneBack[l]!;
        const free = back >= 0 ? v.pos[back]! - demand.types[demand.type[v.vid[back]!]!]!.length - t.minGap : net.laneLength[l]!;
        if (free < t.length) continue;
        v.routeIdx[s]! += off;
        v.pos[s] = t.length;
        v.speed[s] = 0;
        v.waitSteps[s] = 0;
        v.lane[s] = l;
        v.link[s] = e.computeLink(s, l);
        e.insertSorted(s, l);
        placed = true;
        break;
      }
      if (placed) break;
    }
    if (!placed) {
      // no room anywhere ahead: the vehicle leaves at its destination (SUMO: teleport to the end)
      e.arrive(s, v.pos[s]!, 0);
    }
  }
}
