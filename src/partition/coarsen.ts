/**
 * Coarsening, the first phase of the multilevel scheme (Karypis & Kumar, METIS): repeatedly contract a
 * heavy-edge matching, so that the heaviest edges end up inside coarse vertices where no cut can take
 * them, and the partitioners that follow work on a small graph that still has the shape of the big one.
 */
import { type JunctionGraph } from './graph.js';
import { permutation, type Rng } from './random.js';

/** Stop coarsening when a round shrinks the graph by less than this fraction: matching has stalled. */
const MIN_SHRINK = 0.05;

export interface Hierarchy {
  /** graphs[0] is the input, each next one a contraction of the previous */
  graphs: JunctionGraph[];
  /** maps[i][v]: the vertex of graphs[i+1] that vertex v of graphs[i] was merged into */
  maps: Int32Array[];
}

/**
 * Contract `g` until it has at most `coarsenTo` vertices or matching stops making progress. No coarse
 * vertex grows heavier than `maxVertexWeight`, so the coarsest graph can still be split evenly.
 */
export function coarsen(g: JunctionGraph, coarsenTo: number, maxVertexWeight: number, next: Rng): Hierarchy {
  const graphs = [g];
  const maps: Int32Array[] = [];
  let cur = g;
  while (cur.n > coarsenTo) {
    const m = heavyEdgeMatching(cur, maxVertexWeight, next);
    if (m.count >= cur.n) break;
    const coarse = contract(cur, m);
    graphs.push(coarse);
    maps.push(m.cmap);
    if (coarse.n > (1 - MIN_SHRINK) * cur.n) break;
    cur = coarse;
  }
  return { graphs, maps };
}

interface Matching {
  /** partner of each vertex (itself when unmatched) */
  match: Int32Array;
  /** coarse vertex of each vertex */
  cmap: Int32Array;
  /** first fine vertex of each coarse vertex; its partner is match[rep[c]] */
  rep: Int32Array;
  count: number;
}

/**
 * Sorted heavy-edge matching (METIS's SHEM): vertices are visited in a random order, stably sorted by
 * degree so that low-degree vertices — which have the fewest chances — pick first; each takes its
 * unmatched neighbour across the heaviest edge (ties: smaller index). Vertices without any edge are
 * paired with each other, or a graph with many of them would stop shrinking.
 */
function heavyEdgeMatching(g: JunctionGraph, maxVertexWeight: number, next: Rng): Matching {
  const { n, adjStart, adj, adjWeight, vertexWeight: vw } = g;
  const order = byDegree(g, permutation(n, next));
  const match = new Int32Array(n).fill(-1);
  const cmap = new Int32Array(n);
  const rep = new Int32Array(n);
  let count = 0;
  let loneIsolated = -1; // an isolated vertex still waiting for a partner
  for (const u of order) {
    if (match[u]! >= 0) continue;
    const start = adjStart[u]!;
    const end = adjStart[u + 1]!;
    if (start === end && loneIsolated >= 0 && vw[u]! + vw[loneIsolated]! <= maxVertexWeight) {
      match[u] = loneIsolated;
      match[loneIsolated] = u;
      cmap[u] = cmap[loneIsolated]!;
      loneIsolated = -1;
      continue;
    }
    let best = -1;
    let bestWeight = -1;
    for (let i = start; i < end; i++) {
      const v = adj[i]!;
      if (match[v]! >= 0 || vw[u]! + vw[v]! > maxVertexWeight) continue;
      const w = adjWeight[i]!;
      if (w > bestWeight || (w === bestWeight && v < best)) {
        best = v;
        bestWeight = w;
      }
    }
    rep[count] = u;
    cmap[u] = count;
    if (best >= 0) {
      match[u] = best;
      match[best] = u;
      cmap[best] = count;
    } else {
      match[u] = u;
      if (start === end) loneIsolated = u;
    }
    count++;
  }
  return { match, cmap, rep: rep.subarray(0, count), count };
}

/** Stable counting sort of `order` by vertex degree, ascending. */
function byDegree(g: JunctionGraph, order: Int32Array): Int32Array {
  const deg = (v: number) => g.adjStart[v + 1]! - g.adjStart[v]!;
  let maxDeg = 0;
  for (let v = 0; v < g.n; v++) maxDeg = Math.max(maxDeg, deg(v));
  const bucket = new Int32Array(maxDeg + 2);
  for (const v of order) bucket[deg(v) + 1]!++;
  for (let d = 1; d <= maxDeg + 1; d++) bucket[d]! += bucket[d - 1]!;
  const out = new Int32Array(order.length);
  for (const v of order) out[bucket[deg(v)]!++] = v;
  return out;
}

/** The graph of matched pairs: vertex weights add up, edges between the same coarse pair merge. */
function contract(g: JunctionGraph, m: Matching): JunctionGraph {
  const { adjStart, adj, adjWeight, vertexWeight } = g;
  const cn = m.count;
  const cvw = new Int32Array(cn);
  const cStart = new Int32Array(cn + 1);
  const cAdj = new Int32Array(adj.length);
  const cWeight = new Int32Array(adj.length);
  // slot[c]: where coarse neighbour c sits in the row being built, -1 if not yet there
  const slot = new Int32Array(cn).fill(-1);
  let ptr = 0;
  for (let c = 0; c < cn; c++) {
    const u = m.rep[c]!;
    const partner = m.match[u]!;
    const rowStart = ptr;
    for (let k = 0; k < (partner === u ? 1 : 2); k++) {
      const x = k === 0 ? u : partner;
      cvw[c]! += vertexWeight[x]!;
      for (let i = adjStart[x]!, end = adjStart[x + 1]!; i < end; i++) {
        const cv = m.cmap[adj[i]!]!;
        if (cv === c) continue; // the matched edge disappears inside the coarse vertex
        const s = slot[cv]!;
        if (s < 0) {
          slot[cv] = ptr;
          cAdj[ptr] = cv;
          cWeight[ptr++] = adjWeight[i]!;
        } else cWeight[s]! += adjWeight[i]!;
      }
    }
    for (let i = rowStart; i < ptr; i++) slot[cAdj[i]!] = -1;
    cStart[c + 1] = ptr;
  }
  return { n: cn, vertexWeight: cvw, adjStart: cStart, adj: cAdj.slice(0, ptr), adjWeight: cWeight.slice(0, ptr) };
}

/** Carry a partition of a coarse graph back to the finer graph it was contracted from. */
export function project(coarsePart: Int32Array, cmap: Int32Array): Int32Array {
  const part = new Int32Array(cmap.length);
  for (let v = 0; v < cmap.length; v++) part[v] = coarsePart[cmap[v]!]!;
  return part;
}
