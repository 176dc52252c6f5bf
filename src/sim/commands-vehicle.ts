/**
 * The online commands on one vehicle (TraCI's vehicle.remove, setRoute, changeTarget): what they
 * change of the demand (a route, shared by every part: `applyVehicleDemand`) and of the vehicle on
 * the road (only in the engine that holds it: `applyVehicleCommand`). Both are deterministic
 * functions of the state at the command's step, so a replay from a checkpoint repeats them exactly.
 */
import type { Demand } from './demand.js';
import type { Engine } from './engine.js';
import type { ResolvedCommand } from './commands.js';

type VehicleCommand = Extract<ResolvedCommand, { type: 'removeVehicle' | 'setRoute' }>;

/** The demand's part (idempotent per demand): setRoute gives the vehicle its new route. */
export function applyVehicleDemand(d: Demand, c: VehicleCommand): void {
  if (d.appliedCommands.has(c.seq)) return;
  if (c.type === 'setRoute' && c.vehicle < d.count) d.route[c.vehicle] = d.addRoute(c.route);
  d.appliedCommands.add(c.seq);
}

/**
 * Applies `c` to the engine at the start of its step: the demand's part, then the vehicle's own
 * when this engine holds it — on a lane, in transit between a junction and its next lane, teleporting
 * or waiting to be inserted.
 */
export function applyVehicleCommand(e: Engine, c: VehicleCommand): void {
  applyVehicleDemand(e.demand, c);
  e.demandCommands.push(c);
  const s = findSlot(e, c.vehicle);
  if (c.type === 'setRoute') {
    // the lane-continuation and link-beyond caches are keyed by vehicle and route position, not by
    // route: a vehicle on its new route (here or, later, in another part) must not meet an old entry
    e.v.contVid.fill(-1);
    e.v.beyondVid.fill(-1);
    if (s >= 0) rerouted(e, s);
    return;
  }
  if (s >= 0) {
    remove(e, s);
    return;
  }
  // not on the road: a vehicle waiting for insertion leaves the queue (it never departs)
  let k = 0;
  for (let j = 0; j < e.pendingCount; j++) if (e.pending[j] !== c.vehicle) e.pending[k++] = e.pending[j]!;
  e.pendingCount = k;
}

/** The slot of demand index `vid` in this engine (owned lanes, transits, teleports), or -1. */
function findSlot(e: Engine, vid: number): number {
  const v = e.v;
  for (let s = 0; s < v.used; s++) if (v.vid[s] === vid && e.ownedLane[v.lane[s]!]) return s;
  return -1;
}

/**
 * A vehicle on a new route (demand.route already changed): its place on the route is the edge it
 * is on (or, on a junction or in transit, the edge it came from / enters), found in the new route;
 * its next link is chosen again. A route without that edge leaves the vehicle where it is on its
 * first edge (the command's resolver checks the route starts there).
 */
function rerouted(e: Engine, s: number): void {
  const d = e.demand;
  const v = e.v;
  const net = e.net;
  const lane = v.lane[s]!;
  const edges = d.routeOf(d.route[v.vid[s]!]!);
  const onEdge = net.laneEdge[lane]!;
  // on an internal lane the route index is the edge the vehicle came from
  const here = onEdge >= 0 ? onEdge : net.laneEdge[net.linkFrom[net.laneLink[lane]!]!]!;
  const at = edges.indexOf(here);
  v.routeIdx[s] = at >= 0 ? at : 0;
  if (onEdge >= 0 && !inTransit(e, s)) v.link[s] = e.computeLink(s, lane);
}

function inTransit(e: Engine, s: number): boolean {
  for (let k = 0; k < e.transitCount; k++) if (e.transit[k] === s) return true;
  return false;
}

/** Takes vehicle `s` off the road now; its trip ends at this step (SUMO: vaporized, counted as arrived). */
function remove(e: Engine, s: number): void {
  const v = e.v;
  const vid = v.vid[s]!;
  if (dropFrom(e.transit, e.transitCount, s)) e.transitCount--;
  else if (dropFrom(e.reinsert, e.reinsertCount, s)) e.reinsertCount--;
  else e.unlink(s);
  e.arrive(s, v.pos[s]!, 0);
  e.trips.arrivalStep[vid] = e.step;
}

/** Removes `s` from list[0..n) keeping the order; false when it is not there. */
function dropFrom(list: Int32Array, n: number, s: number): boolean {
  const at = list.subarray(0, n).indexOf(s);
  if (at < 0) return false;
  list.copyWithin(at, at + 1, n);
  return true;
}
