/**
 * The junction graph the partitioner cuts: one vertex per junction, one undirected edge per pair of
 * junctions joined by at least one road edge, in CSR form (the layout METIS uses, so the bench can hand
 * the very same graph to gpmetis).
 *
 * Weights model what a part costs and what a cut costs (DESIGN.md, "How a step crosses a partition
 * border": a lane belongs to the part of the junction it drives into):
 *
 *   vertexWeight[j] = max(1, round(L_j / 10) + T_j)
 *     L_j = total length (m) of the normal lanes driving into j: the road a part owning j simulates;
 *     T_j = route traversals of the edges ending at j, summed over all vehicles of the demand (a vehicle
 *           whose route uses such an edge counts once per use): the vehicles that part will move.
 *     Ten metres of lane weigh as much as one vehicle: empty lanes are cheap but not free.
 *
 *   edgeWeight{u,v} = 1 + Σ traversals of the road edges u→v and v→u
 *     the vehicles that cross the border if u and v end up in different parts (each one is a transfer
 *     message); the 1 keeps empty roads from being free to cut (their halo still costs a message).
 */
import type { Demand } from '../sim/demand.js';
import type { Network } from '../sim/network.js';

/**
 * Undirected weighted graph in CSR form: neighbours of v are adj[adjStart[v] .. adjStart[v+1]). All
 * weights are at least 1.
 */
export interface JunctionGraph {
  n: number;
  vertexWeight: Int32Array;
  adjStart: Int32Array;
  adj: Int32Array;
  /** weight of the edge adj[i], parallel to adj; every edge is stored once from each end */
  adjWeight: Int32Array;
}

/** Metres of lane that weigh as much as one vehicle. */
export const METRES_PER_VEHICLE = 10;

/** How many times the demand drives along each road edge (a vehicle counts once per use of an edge). */
export function edgeTraversals(net: Network, demand?: Demand): Float64Array {
  const trav = new Float64Array(net.edgeCount);
  if (!demand) return trav;
  // count vehicles per distinct route first: routes are shared by many vehicles (flows)
  const routes = demand.routes;
  const uses = new Float64Array(routes);
  for (let v = 0; v < demand.count; v++) uses[demand.route[v]!]!++;
  for (let r = 0; r < routes; r++) {
    const u = uses[r]!;
    if (u === 0) continue;
    for (let i = demand.routeStart[r]!, end = demand.routeStart[r + 1]!; i < end; i++)
      trav[demand.routeEdges[i]!]! += u;
  }
  return trav;
}

export function buildJunctionGraph(net: Network, demand?: Demand): JunctionGraph {
  const n = net.junctionIds.length;
  const trav = edgeTraversals(net, demand);

  const laneMetres = new Float64Array(n);
  for (let lane = 0; lane < net.normalLaneCount; lane++)
    laneMetres[net.edgeTo[net.laneEdge[lane]!]!]! += net.laneLength[lane]!;
  const vehicles = new Float64Array(n);
  for (let e = 0; e < net.edgeCount; e++) vehicles[net.edgeTo[e]!]! += trav[e]!;
  const vertexWeight = new Int32Array(n);
  for (let j = 0; j < n; j++) {
    vertexWeight[j] = Math.max(1, Math.round(laneMetres[j]! / METRES_PER_VEHICLE) + vehicles[j]!);
  }

  // merge parallel and opposite road edges into one undirected pair, keyed by (min, max)
  const pairWeight = new Map<number, number>();
  for (let e = 0; e < net.edgeCount; e++) {
    const a = net.edgeFrom[e]!;
    const b = net.edgeTo[e]!;
    if (a === b) continue; // a loop road never crosses a border
    const key = a < b ? a * n + b : b * n + a;
    pairWeight.set(key, (pairWeight.get(key) ?? 1) + trav[e]!);
  }
  return fromPairs(n, vertexWeight, pairWeight);
}

/**
 * CSR from undirected pairs keyed `min * n + max` (each listed once). Rows are sorted by neighbour so the
 * graph, and everything computed from it, does not depend on the order of the road edges.
 */
export function fromPairs(n: number, vertexWeight: Int32Array, pairWeight: Map<number, number>): JunctionGraph {
  const keys = [...pairWeight.keys()].sort((x, y) => x - y);
  const degree = new Int32Array(n + 1);
  for (const key of keys) {
    degree[Math.floor(key / n)]!++;
    degree[key % n]!++;
  }
  const adjStart = new Int32Array(n + 1);
  for (let v = 0; v < n; v++) adjStart[v + 1] = adjStart[v]! + degree[v]!;
  const fill = adjStart.slice(0, n);
  const adj = new Int32Array(adjStart[n]!);
  const adjWeight = new Int32Array(adjStart[n]!);
  // keys ascend by (min, max): row `min` gets its larger neighbours in order, and row `max` gets its
  // smaller neighbours in order, all before any larger one; so every row comes out sorted
  for (const key of keys) {
    const a = Math.floor(key / n);
    const b = key % n;
    const w = Math.min(pairWeight.get(key)!, 0x7fffffff);
    adj[fill[a]!] = b;
    adjWeight[fill[a]!++] = w;
    adj[fill[b]!] = a;
    adjWeight[fill[b]!++] = w;
  }
  return { n, vertexWeight, adjStart, adj, adjWeight };
}

/** Total vertex weight. */
export function totalWeight(g: JunctionGraph): number {
  let t = 0;
  for (let v = 0; v < g.n; v++) t += g.vertexWeight[v]!;
  return t;
}
