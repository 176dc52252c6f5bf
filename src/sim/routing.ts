/**
 * Shortest-path routing of trips (from/to without a route) on the edge graph, by free-flow travel
 * time, as SUMO's duarouter does for an empty network. Ties are broken by edge index so that the
 * route is a function of the network alone. A router serves one set of vehicle classes: it uses only
 * the links (and so the edges) those classes may use, as SUMO routes each vClass on its own graph.
 */
import { LinkState, MIN_INTERNAL_LENGTH, type Network } from './network.js';
import { ALL_CLASSES } from './vclass.js';

/** SUMO's --weights.minor-penalty default: routing cost of passing a minor link's internal lane, s. */
export const MINOR_PENALTY = 1.5;

/**
 * Routing cost of crossing a junction by link `lk`, s: the travel time of its internal path at its
 * speed limit, plus MINOR_PENALTY on a minor link (SUMO routes over internal edges and adds that
 * penalty; a net without internal lanes costs nothing to cross).
 */
function crossingCost(net: Network, lk: number): number {
  const via = net.linkLane[lk]!;
  const length = net.laneLength[via]!;
  if (!(length > MIN_INTERNAL_LENGTH)) return 0;
  return (
    length / Math.max(net.laneSpeed[via]!, 0.1) + (net.linkStaticState[lk] === LinkState.minor ? MINOR_PENALTY : 0)
  );
}

/** Successor edges of each edge, with the cost of entering them. Built once per network and class. */
export class Router {
  private readonly succStart: Int32Array;
  private readonly succ: Int32Array;
  private readonly cost: Float64Array;
  private readonly dist: Float64Array;
  private readonly prev: Int32Array;
  /** per successor entry: the cost of crossing the junction to it, s */
  private readonly via: Float64Array;
  private readonly cache = new Map<string, number[] | null>();

  /** `cls`: the vehicle class mask (vclass.ts) whose vehicles this router routes */
  constructor(
    private readonly net: Network,
    readonly cls = ALL_CLASSES,
  ) {
    const n = net.edgeCount;
    // per edge: successor edge → cheapest way across the junction to it
    const lists: Map<number, number>[] = Array.from({ length: n }, () => new Map());
    for (let lk = 0; lk < net.linkCount; lk++) {
      if ((net.lanePerm[net.linkFrom[lk]!]! & cls) === 0 || (net.lanePerm[net.linkLane[lk]!]! & cls) === 0) continue;
      const from = net.laneEdge[net.linkFrom[lk]!]!;
      const to = net.linkToEdge[lk]!;
      const c = crossingCost(net, lk);
      const l = lists[from]!;
      const known = l.get(to);
      if (known === undefined || c < known) l.set(to, c);
    }
    this.succStart = new Int32Array(n + 1);
    lists.forEach((l, i) => (this.succStart[i + 1] = this.succStart[i]! + l.size));
    this.succ = new Int32Array(this.succStart[n]!);
    this.via = new Float64Array(this.succStart[n]!);
    lists.forEach((l, i) => {
      const sorted = [...l.keys()].sort((a, b) => a - b);
      sorted.forEach((to, k) => {
        this.succ[this.succStart[i]! + k] = to;
        this.via[this.succStart[i]! + k] = l.get(to)!;
      });
    });
    this.cost = new Float64Array(n);
    for (let e = 0; e < n; e++) this.cost[e] = net.edgeLength[e]! / Math.max(net.edgeSpeed[e]!, 0.1);
    this.dist = new Float64Array(n);
    this.prev = new Int32Array(n);
  }

  /** Edges from `from` to `to` (both included), or null when `to` cannot be reached. */
  route(from: number, to: number): number[] | null {
    if ((this.net.edgePerm[from]! & this.cls) === 0 || (this.net.edgePerm[to]! & this.cls) === 0) return null;
    const key = `${from}>${to}`;
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    const r = this.dijkstra(from, to);
    this.cache.set(key, r);
    return r;
  }

  private dijkstra(from: number, to: number): number[] | null {
    const { dist, prev, succStart, succ, cost } = this;
    dist.fill(Infinity);
    prev.fill(-1);
    dist[from] = 0;
    // binary heap of (dist, edge)
    const heapD: number[] = [0];
    const heapE: number[] = [from];
    const push = (d: number, e: number) => {
      heapD.push(d);
      heapE.push(e);
      let i = heapD.length - 1;
      while (i > 0) {
        const p = (i - 1) >> 1;
        if (heapD[p]! < d || (heapD[p] === d && heapE[p]! <= e)) break;
        heapD[i] = heapD[p]!;
        heapE[i] = heapE[p]!;
        i = p;
      }
      heapD[i] = d;
      heapE[i] = e;
    };
    const pop = (): number => {
      const top = heapE[0]!;
      const d = heapD.pop()!;
      const e = heapE.pop()!;
      const n = heapD.length;
      if (n > 0) {
        let i = 0;
        for (;;) {
          const l = 2 * i + 1;
          if (l >= n) break;
          const r = l + 1;
          const c = r < n && (heapD[r]! < heapD[l]! || (heapD[r] === heapD[l] && heapE[r]! < heapE[l]!)) ? r : l;
          if (heapD[c]! > d || (heapD[c] === d && heapE[c]! >= e)) break;
          heapD[i] = heapD[c]!;
          heapE[i] = heapE[c]!;
          i = c;
        }
        heapD[i] = d;
        heapE[i] = e;
      }
      return top;
    };
    while (heapD.length > 0) {
      const d0 = heapD[0]!;
      const e = pop();
      if (d0 > dist[e]!) continue;
      if (e === to) break;
      for (let k = succStart[e]!; k < succStart[e + 1]!; k++) {
        const s = succ[k]!;
        const nd = d0 + this.via[k]! + cost[s]!;
        if (nd < dist[s]!) {
          dist[s] = nd;
          prev[s] = e;
          push(nd, s);
        }
      }
    }
    if (dist[to] === Infinity) return null;
    const path: number[] = [];
    for (let e = to; e !== -1; e = prev[e]!) path.push(e);
    return path.reverse();
  }
}
