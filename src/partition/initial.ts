/**
 * The initial k-way partition of the coarsest graph, by recursive bisection as METIS builds it: split
 * into sides for ⌊k/2⌋ and ⌈k/2⌉ parts (weights in that ratio), then split each side's subgraph again.
 */
import { BisectWorkspace, multilevelBisect } from './bisect.js';
import type { JunctionGraph } from './graph.js';
import type { Rng } from './random.js';

export function recursiveBisection(g: JunctionGraph, k: number, imbalance: number, next: Rng): Int32Array {
  const part = new Int32Array(g.n);
  const ws = new BisectWorkspace(g.n); // every subgraph is smaller, one workspace serves them all
  // each part goes through about log2 k bisections whose tolerances multiply; METIS allows each
  // (1 + imbalance)^(1 / ln k), a little more than an even share, since k-way refinement and balancing
  // even out the rest; never more than the k-way limit itself (k = 2)
  const tol = Math.min(imbalance, Math.pow(1 + imbalance, 1 / Math.log(k)) - 1);
  const split = (sub: JunctionGraph, ids: Int32Array, parts: number, first: number): void => {
    if (parts === 1) {
      for (const v of ids) part[v] = first;
      return;
    }
    const k0 = parts >> 1;
    const side = multilevelBisect(sub, k0 / parts, tol, next, ws);
    ensureCounts(sub, side, k0, parts - k0);
    for (let s = 0; s < 2; s++) {
      const { graph, local } = induced(sub, side, s);
      split(
        graph,
        local.map((v) => ids[v]!),
        s === 0 ? k0 : parts - k0,
        s === 0 ? first : first + k0,
      );
    }
  };
  split(
    g,
    Int32Array.from({ length: g.n }, (_, i) => i),
    k,
    0,
  );
  return part;
}

/**
 * Each side must keep at least as many vertices as parts it will be split into (only at risk on tiny
 * graphs with very uneven weights): move the lightest vertices over until it does.
 */
function ensureCounts(g: JunctionGraph, side: Int32Array, need0: number, need1: number): void {
  const count = [0, 0];
  for (const s of side) count[s]!++;
  for (let s = 0; s < 2; s++) {
    const need = s === 0 ? need0 : need1;
    while (count[s]! < need) {
      let pick = -1;
      for (let v = 0; v < g.n; v++) {
        if (side[v] !== s && (pick < 0 || g.vertexWeight[v]! < g.vertexWeight[pick]!)) pick = v;
      }
      side[pick] = s;
      count[s]!++;
      count[1 - s]!--;
    }
  }
}

/** The subgraph of the vertices on side `s` (edges to the other side dropped); `local[i]` = its vertex in g. */
function induced(g: JunctionGraph, side: Int32Array, s: number): { graph: JunctionGraph; local: Int32Array } {
  const index = new Int32Array(g.n).fill(-1);
  const members: number[] = [];
  for (let v = 0; v < g.n; v++) {
    if (side[v] === s) {
      index[v] = members.length;
      members.push(v);
    }
  }
  const n = members.length;
  const adjStart = new Int32Array(n + 1);
  const vertexWeight = new Int32Array(n);
  members.forEach((v, i) => {
    vertexWeight[i] = g.vertexWeight[v]!;
    let d = 0;
    for (let e = g.adjStart[v]!, end = g.adjStart[v + 1]!; e < end; e++) if (index[g.adj[e]!]! >= 0) d++;
    adjStart[i + 1] = adjStart[i]! + d;
  });
  const adj = new Int32Array(adjStart[n]!);
  const adjWeight = new Int32Array(adjStart[n]!);
  members.forEach((v, i) => {
    let p = adjStart[i]!;
    for (let e = g.adjStart[v]!, end = g.adjStart[v + 1]!; e < end; e++) {
      const u = index[g.adj[e]!]!;
      if (u < 0) continue;
      adj[p] = u;
      adjWeight[p++] = g.adjWeight[e]!;
    }
  });
  return { graph: { n, vertexWeight, adjStart, adj, adjWeight }, local: Int32Array.from(members) };
}
