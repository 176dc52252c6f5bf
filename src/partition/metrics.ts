/** Quality figures of a partition: what it costs to cut (edge cut) and how even the parts are. */
import type { JunctionGraph } from './graph.js';

/** Sum of the weights of the edges whose ends lie in different parts. */
export function edgeCut(g: JunctionGraph, part: ArrayLike<number>): number {
  let cut = 0;
  for (let v = 0; v < g.n; v++) {
    for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
      const u = g.adj[i]!;
      if (u > v && part[u] !== part[v]) cut += g.adjWeight[i]!;
    }
  }
  return cut;
}

/** Total vertex weight of each part 0..k-1. */
export function partWeights(g: JunctionGraph, part: ArrayLike<number>, k: number): number[] {
  const w = new Array<number>(k).fill(0);
  for (let v = 0; v < g.n; v++) w[part[v]!]! += g.vertexWeight[v]!;
  return w;
}

/** max part weight / (total / k) − 1: 0 is perfect balance, 0.05 is 5 % over the mean. */
export function imbalance(g: JunctionGraph, part: ArrayLike<number>, k: number): number {
  const w = partWeights(g, part, k);
  const total = w.reduce((a, b) => a + b, 0);
  if (total === 0) return 0;
  return Math.max(...w) / (total / k) - 1;
}

/** Number of connected components of each part (1 = connected, 0 = empty). */
export function partComponents(g: JunctionGraph, part: ArrayLike<number>, k: number): number[] {
  const comps = new Array<number>(k).fill(0);
  const seen = new Uint8Array(g.n);
  const stack = new Int32Array(g.n);
  for (let s = 0; s < g.n; s++) {
    if (seen[s]) continue;
    const p = part[s]!;
    comps[p]!++;
    seen[s] = 1;
    let top = 0;
    stack[top++] = s;
    while (top > 0) {
      const v = stack[--top]!;
      for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
        const u = g.adj[i]!;
        if (!seen[u] && part[u] === p) {
          seen[u] = 1;
          stack[top++] = u;
        }
      }
    }
  }
  return comps;
}
