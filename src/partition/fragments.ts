/**
 * Keeping parts connected where the weight limit allows: a part split into pieces makes a worker
 * exchange messages with more neighbours than it needs to.
 */
import type { JunctionGraph } from './graph.js';
import { partWeights } from './metrics.js';

/**
 * Give each stray fragment of a part (any connected piece but the heaviest) to the neighbouring part it
 * shares the most edge weight with, when that part has room. A fragment has no edges into its own part,
 * so this only ever lowers the cut. In place; a few rounds, since merging can free room elsewhere.
 */
export function mergeFragments(g: JunctionGraph, part: Int32Array, k: number, maxWeight: number): void {
  const pw = partWeights(g, part, k);
  const conn = new Float64Array(k);
  for (let round = 0; round < 3; round++) {
    const { comp, weight, count } = components(g, part);
    // the main piece of each part: its heaviest component (ties: the first found)
    const main = new Int32Array(k).fill(-1);
    const firstVertex = new Int32Array(count).fill(-1);
    for (let v = 0; v < g.n; v++) if (firstVertex[comp[v]!]! < 0) firstVertex[comp[v]!] = v;
    for (let c = 0; c < count; c++) {
      const p = part[firstVertex[c]!]!;
      const m = main[p]!;
      if (m < 0 || weight[c]! > weight[m]!) main[p] = c;
    }
    // list the vertices of each stray fragment, lightest fragment first
    const stray: number[] = [];
    for (let c = 0; c < count; c++) if (main[part[firstVertex[c]!]!] !== c) stray.push(c);
    if (stray.length === 0) return;
    stray.sort((x, y) => weight[x]! - weight[y]! || x - y);
    const members = groupBy(comp, count);
    let moved = 0;
    for (const c of stray) {
      const vs = members[c]!;
      const a = part[vs[0]!]!;
      const touched: number[] = [];
      // an earlier move this round may have joined it to more of its own part: then it stays
      let joined = false;
      for (const v of vs) {
        for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
          const u = g.adj[i]!;
          const p = part[u]!;
          if (p === a) {
            if (comp[u] !== c) joined = true;
          } else {
            if (conn[p] === 0) touched.push(p);
            conn[p]! += g.adjWeight[i]!;
          }
        }
      }
      let to = -1;
      for (const p of joined ? [] : touched) {
        if (pw[p]! + weight[c]! > maxWeight) continue;
        if (to < 0 || conn[p]! > conn[to]! || (conn[p] === conn[to] && p < to)) to = p;
      }
      for (const p of touched) conn[p] = 0;
      if (to < 0) continue;
      for (const v of vs) part[v] = to;
      pw[a]! -= weight[c]!;
      pw[to]! += weight[c]!;
      moved++;
    }
    if (moved === 0) return;
  }
}

/** Connected components of the parts: component of each vertex, component weights, count. */
function components(g: JunctionGraph, part: Int32Array): { comp: Int32Array; weight: number[]; count: number } {
  const comp = new Int32Array(g.n).fill(-1);
  const weight: number[] = [];
  const stack = new Int32Array(g.n);
  for (let s = 0; s < g.n; s++) {
    if (comp[s]! >= 0) continue;
    const c = weight.length;
    let w = 0;
    let top = 0;
    comp[s] = c;
    stack[top++] = s;
    while (top > 0) {
      const v = stack[--top]!;
      w += g.vertexWeight[v]!;
      for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
        const u = g.adj[i]!;
        if (comp[u]! < 0 && part[u] === part[v]) {
          comp[u] = c;
          stack[top++] = u;
        }
      }
    }
    weight.push(w);
  }
  return { comp, weight, count: weight.length };
}

function groupBy(comp: Int32Array, count: number): number[][] {
  const groups = Array.from({ length: count }, () => [] as number[]);
  for (let v = 0; v < comp.length; v++) groups[comp[v]!]!.push(v);
  return groups;
}
