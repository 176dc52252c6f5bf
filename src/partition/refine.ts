/**
 * The two repairs that keep a k-way partition usable: a balancing pass when a part is over the limit,
 * and moving stray fragments of a part to the neighbour that surrounds them, so parts stay connected
 * where the limit allows. (The refinement proper is kwayfm.ts.)
 */
import type { JunctionGraph } from './graph.js';
import { PartConnections } from './connections.js';
import { GainHeap } from './heap.js';
import { partWeights } from './metrics.js';

/**
 * Bring every part down to `maxWeight` where possible, in place: boundary vertices of overweight parts
 * move to a neighbouring part with room, cheapest cut increase first; if no neighbour has room, a vertex
 * goes to the lightest part even if not adjacent (balance is the constraint, connectivity only a wish).
 */
export function balanceKway(g: JunctionGraph, part: Int32Array, k: number, maxWeight: number): void {
  const pw = partWeights(g, part, k);
  const overweight = () => pw.some((w) => w > maxWeight);
  if (!overweight()) return;
  const conn = new PartConnections(k);
  const heap = new GainHeap(g.n);
  const vw = g.vertexWeight;
  /** gain of v's best move to a neighbour with room, or undefined when it has none */
  const bestMove = (v: number): { to: number; gain: number } | undefined => {
    const a = part[v]!;
    if (pw[a]! <= maxWeight || pw[a] === vw[v]) return undefined;
    conn.gather(g, part, v);
    const to = conn.bestTarget(a, vw[v]!, pw, maxWeight);
    const gain = to < 0 ? 0 : conn.weight[to]! - conn.weight[a]!;
    conn.clear();
    return to < 0 ? undefined : { to, gain };
  };
  for (let round = 0; round < g.n && overweight(); round++) {
    heap.clear();
    for (let v = 0; v < g.n; v++) {
      const m = bestMove(v);
      if (m) heap.set(v, m.gain);
    }
    let moved = 0;
    while (heap.length > 0 && overweight()) {
      const key = heap.topKey();
      const v = heap.pop();
      const m = bestMove(v);
      if (!m) continue;
      if (m.gain < key) {
        heap.set(v, m.gain); // stale: earlier moves changed its neighbourhood
        continue;
      }
      pw[part[v]!]! -= vw[v]!;
      pw[m.to]! += vw[v]!;
      part[v] = m.to;
      moved++;
      for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
        const u = g.adj[i]!;
        const mu = bestMove(u);
        if (mu) heap.set(u, mu.gain);
        else heap.remove(u);
      }
    }
    if (moved === 0 && !moveToLightest(g, part, pw, maxWeight)) return;
  }
}

/** Last resort of balancing: one vertex of an overweight part to the lightest part. False if none fits. */
function moveToLightest(g: JunctionGraph, part: Int32Array, pw: number[], maxWeight: number): boolean {
  let light = 0;
  for (let p = 1; p < pw.length; p++) if (pw[p]! < pw[light]!) light = p;
  let best = -1;
  let bestLoss = Infinity;
  for (let v = 0; v < g.n; v++) {
    const a = part[v]!;
    const w = g.vertexWeight[v]!;
    if (a === light || pw[a]! <= maxWeight || pw[a] === w || pw[light]! + w > maxWeight) continue;
    let loss = 0; // cut added: edges to its own part become cut, edges to `light` stop being cut
    for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
      const p = part[g.adj[i]!]!;
      if (p === a) loss += g.adjWeight[i]!;
      else if (p === light) loss -= g.adjWeight[i]!;
    }
    if (loss < bestLoss) {
      best = v;
      bestLoss = loss;
    }
  }
  if (best < 0) return false;
  pw[part[best]!]! -= g.vertexWeight[best]!;
  pw[light]! += g.vertexWeight[best]!;
  part[best] = light;
  return true;
}

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
