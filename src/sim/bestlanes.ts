/**
 * How far a vehicle can drive along its route from each lane without changing lanes: SUMO's
 * `MSVehicle::updateBestLanes` (the `length` of each `LaneQ`), looking up to LOOK_AHEAD m ahead.
 * Lane choice at every level uses it — which lane to change to, which link to take onto the next
 * edge, the `best` depart lane — so that a vehicle bound for a turn three junctions ahead is on a
 * lane that gets there, not only one that reaches the next edge.
 *
 * Static: a function of the network, the route and the vehicle class only (closures by online
 * commands are handled by the callers), so every part of a partitioned run computes the same values.
 * Computed once per (vehicle type, route) when first asked for and kept.
 *
 * Units: m. Lengths count whole edges (`edgeLength`), so lanes that reach the same point tie exactly.
 */
import type { Network } from './network.js';

/** SUMO's bestLanes look-ahead, m (MSVehicle: 3000 m). */
export const LOOK_AHEAD = 3000;

/** Per route position, per lane of that position's edge (lane − edgeFirstLane): the continuation, m. */
export interface RouteContinuation {
  /** offset into `cont` of route position i */
  readonly start: Int32Array;
  readonly cont: Float64Array;
}

/** Computes the continuations of a route (edge indices) for vehicle class mask `cls`. */
export function routeContinuation(net: Network, edges: ArrayLike<number>, cls: number): RouteContinuation {
  const n = edges.length;
  const start = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) start[i + 1] = start[i]! + net.edgeLaneCount[edges[i]!]!;
  const cont = new Float64Array(start[n]!);
  for (let i = n - 1; i >= 0; i--) {
    const edge = edges[i]!;
    const first = net.edgeFirstLane[edge]!;
    const len = net.edgeLength[edge]!;
    for (let k = 0, nl = net.edgeLaneCount[edge]!; k < nl; k++) {
      const lane = first + k;
      if ((net.lanePerm[lane]! & cls) === 0) continue; // a lane the class may not use leads nowhere (0)
      let best = 0;
      if (i + 1 < n) {
        const next = edges[i + 1]!;
        const nextFirst = net.edgeFirstLane[next]!;
        for (let q = net.laneOutStart[lane]!, end = net.laneOutStart[lane + 1]!; q < end; q++) {
          const lk = net.laneOut[q]!;
          if (net.linkToEdge[lk] !== next || (net.lanePerm[net.linkLane[lk]!]! & cls) === 0) continue;
          const c = cont[start[i + 1]! + net.linkTo[lk]! - nextFirst]!;
          if (c > best) best = c;
        }
      }
      const total = len + best;
      cont[start[i]! + k] = total < LOOK_AHEAD ? total : LOOK_AHEAD;
    }
  }
  return { start, cont };
}
