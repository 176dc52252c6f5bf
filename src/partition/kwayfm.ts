/**
 * k-way Fiduccia–Mattheyses refinement: like METIS's greedy pass it moves boundary vertices to
 * the neighbouring part they connect to most, but best gain first and also through moves that make the
 * cut worse for a while, each vertex at most once per pass, then rolls back to the best state seen.
 * That climbs out of the local minima greedy refinement stops in (a staircase border on a grid, a
 * corridor that should change sides as a whole).
 */
import { PartConnections } from './connections.js';
import type { JunctionGraph } from './graph.js';
import { GainHeap } from './heap.js';
import { partWeights } from './metrics.js';

/** Non-improving moves a pass may make before it gives up. */
const PATIENCE_MIN = 20;
const PATIENCE_MAX = 100;

/** In place. Every part stays within `maxWeight` if it was; none is emptied. */
export function refineKwayFM(g: JunctionGraph, part: Int32Array, k: number, maxWeight: number, passes = 6): void {
  const { n, vertexWeight: vw } = g;
  const pw = partWeights(g, part, k);
  const conn = new PartConnections(k);
  const heap = new GainHeap(n);
  const target = new Int32Array(n);
  const lockedIn = new Int32Array(n).fill(-1);
  const movedVertex = new Int32Array(n);
  const movedFrom = new Int32Array(n);
  const patience = Math.min(Math.max(Math.floor(n / 50), PATIENCE_MIN), PATIENCE_MAX);

  /** best move of v (target part into `target[v]`) and its gain, or undefined if it has none */
  const evaluate = (v: number): number | undefined => {
    const a = part[v]!;
    if (pw[a] === vw[v]) return undefined; // the last vertex of its part
    conn.gather(g, part, v);
    const b = conn.bestTarget(a, vw[v]!, pw, maxWeight);
    const gain = b < 0 ? undefined : conn.weight[b]! - conn.weight[a]!;
    conn.clear();
    if (b >= 0) target[v] = b;
    return gain;
  };
  const moveTo = (v: number, b: number) => {
    pw[part[v]!]! -= vw[v]!;
    pw[b]! += vw[v]!;
    part[v] = b;
  };
  const heaviest = () => Math.max(...pw);

  for (let pass = 0; pass < passes; pass++) {
    heap.clear();
    for (let v = 0; v < n; v++) {
      const gain = isBoundary(g, part, v) ? evaluate(v) : undefined;
      if (gain !== undefined) heap.set(v, gain);
    }
    let cut = 0; // relative to the start of the pass
    let bestCut = 0;
    let bestHeaviest = heaviest();
    let bestMoves = 0;
    let count = 0;
    while (heap.length > 0 && count - bestMoves <= patience) {
      const key = heap.topKey();
      const v = heap.pop();
      const gain = evaluate(v);
      if (gain === undefined) continue;
      if (gain < key) {
        heap.set(v, gain); // stale: a neighbour moved or a part filled up since it was queued
        continue;
      }
      movedVertex[count] = v;
      movedFrom[count++] = part[v]!;
      lockedIn[v] = pass;
      moveTo(v, target[v]!);
      cut -= gain;
      for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
        const u = g.adj[i]!;
        if (lockedIn[u] === pass) continue;
        const gu = isBoundary(g, part, u) ? evaluate(u) : undefined;
        if (gu === undefined) heap.remove(u);
        else heap.set(u, gu);
      }
      // equal cut: prefer the better balanced state, it leaves more room for later moves
      if (cut < bestCut || (cut === bestCut && heaviest() < bestHeaviest)) {
        bestCut = cut;
        bestHeaviest = heaviest();
        bestMoves = count;
      }
    }
    while (count > bestMoves) {
      count--;
      moveTo(movedVertex[count]!, movedFrom[count]!);
    }
    if (bestMoves === 0) break;
  }
}

function isBoundary(g: JunctionGraph, part: Int32Array, v: number): boolean {
  const p = part[v];
  for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) if (part[g.adj[i]!] !== p) return true;
  return false;
}
