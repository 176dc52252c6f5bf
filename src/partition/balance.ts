/**
 * Balancing: bringing every part of a k-way partition within the weight limit, giving up as little cut
 * as possible. Needed after projecting a coarse partition (coarse vertices are heavy) and when a few
 * heavy junctions make the limit hard to meet.
 */
import { PartConnections } from './connections.js';
import type { JunctionGraph } from './graph.js';
import { GainHeap } from './heap.js';
import { partWeights } from './metrics.js';

/**
 * Bring every part down to `maxWeight` where possible, in place: boundary vertices of overweight parts
 * move to a neighbouring part with room, cheapest cut increase first. When no such move is left,
 * `unblock` makes one step that needs no neighbour with room. Terminates: every step lowers the total
 * weight over the limit.
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
  for (let round = 0; round < 10 * g.n + 10 && overweight(); round++) {
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
    if (moved === 0 && !unblock(g, part, pw, maxWeight, conn)) return;
  }
}

/**
 * The step balancing takes when no boundary move fits: the single move, or the swap of two vertices
 * between the heaviest part and another, that most lowers the total weight over the limit (ties: the
 * least cut added), to any part — adjacent or not, since balance is the constraint and connectivity
 * only a wish. Swaps matter on small networks whose junctions are heavy compared to a part: there every
 * vertex of an overweight part may be too big for the room left anywhere. False if no step helps.
 *
 * Cost O(|a| · n) for the heaviest part a; it runs only when boundary moves are exhausted.
 */
function unblock(g: JunctionGraph, part: Int32Array, pw: number[], maxWeight: number, conn: PartConnections): boolean {
  const k = pw.length;
  const vw = g.vertexWeight;
  const excess = (w: number) => Math.max(0, w - maxWeight);
  let a = 0;
  for (let p = 1; p < k; p++) if (pw[p]! > pw[a]!) a = p;
  if (pw[a]! <= maxWeight) return false;
  const members: number[] = [];
  for (let v = 0; v < g.n; v++) if (part[v] === a) members.push(v);
  // cut added by moving v to p: its edges to its own part become cut, those to p stop being cut
  const links = new Float64Array(members.length * k); // edge weight from members[i] to each part
  members.forEach((u, i) => {
    conn.gather(g, part, u);
    for (let j = 0; j < conn.count; j++) links[i * k + conn.parts[j]!] = conn.weight[conn.parts[j]!]!;
  });
  conn.clear();
  const toA = new Float64Array(g.n); // edge weight from every vertex to part a
  const own = new Float64Array(g.n); // edge weight from every vertex to its own part
  for (let v = 0; v < g.n; v++) {
    for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
      const p = part[g.adj[i]!]!;
      if (p === a) toA[v]! += g.adjWeight[i]!;
      if (p === part[v]) own[v]! += g.adjWeight[i]!;
    }
  }

  let best = { gain: 1e-9, loss: Infinity, u: -1, x: -1, to: -1 };
  const consider = (gain: number, loss: number, u: number, x: number, to: number) => {
    if (gain > best.gain + 1e-9 || (gain > best.gain - 1e-9 && loss < best.loss)) best = { gain, loss, u, x, to };
  };
  const before = (b: number) => excess(pw[a]!) + excess(pw[b]!);
  members.forEach((u, i) => {
    const wu = vw[u]!;
    const lossOut = own[u]!;
    for (let b = 0; b < k; b++) {
      if (b === a || members.length === 1) continue;
      consider(before(b) - excess(pw[a]! - wu) - excess(pw[b]! + wu), lossOut - links[i * k + b]!, u, -1, b);
    }
    for (let x = 0; x < g.n; x++) {
      const b = part[x]!;
      const wx = vw[x]!;
      if (b === a || wx >= wu) continue;
      const gain = before(b) - excess(pw[a]! - wu + wx) - excess(pw[b]! + wu - wx);
      if (gain > best.gain - 1e-9) consider(gain, lossOut - links[i * k + b]! + own[x]! - toA[x]!, u, x, b);
    }
  });
  if (best.u < 0) return false;
  const { u, x, to } = best;
  part[u] = to;
  pw[a]! -= vw[u]!;
  pw[to]! += vw[u]!;
  if (x >= 0) {
    part[x] = a;
    pw[to]! -= vw[x]!;
    pw[a]! += vw[x]!;
  }
  return true;
}
