/**
 * Shortest-path routing of trips (from/to without a route) on the edge graph, by free-flow travel
 * time, as SUMO's duarouter does for an empty network. Ties are broken by edge index so that the
 * route is a function of the network alone. A router serves one set of vehicle classes: it uses only
 * the links (and so the edges) those classes may use, as SUMO routes each vClass on its own graph.
 */
import type { Network } from './network.js';
import { ALL_CLASSES } from './vclass.js';

/** Successor edges of each edge, with the cost of entering them. Built once per network and class. */
export class Router {
  private readonly succStart: Int32Array;
  private readonly succ: Int32Array;
  private readonly cost: Float64Array;
  private readonly dist: Float64Array;
  private readonly prev: Int32Array;
  private readonly cache = new Map<string, number[] | null>();

  /** `cls`: the vehicle class mask (vclass.ts) whose vehicles this router routes */
  constructor(
    private readonly net: Network,
    readonly cls = ALL_CLASSES,
  ) {
    const n = net.edgeCount;
    const lists: number[][] = Array.from({ length: n }, () => []);
    for (let lk = 0; lk < net.linkCount; lk++) {
      if ((net.lanePerm[net.linkFrom[lk]!]! & cls) === 0 || (net.lanePerm[net.linkLane[lk]!]! & cls) === 0) continue;
      const from = net.laneEdge[net.linkFrom[lk]!]!;
      const to = net.linkToEdge[lk]!;
      const l = lists[from]!;
      if (!l.includes(to)) l.push(to);
    }
    this.succStart = new Int32Array(n + 1);
    lists.forEach((l, i) => (this.succStart[i + 1] = this.succStart[i]! + l.length));
    this.succ = new Int32Array(this.succStart[n]!);
    lists.forEach((l, i) => this.succ.set(l.sort((a, b) => a - b), this.succStart[i]!));
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
        const nd = d0 + cost[s]!;
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
