import type { JunctionGraph } from './graph.js';

/**
 * Edge weight from one vertex to each part, gathered in O(degree): `weight[p]` for p in `parts`, reset
 * by `clear()`. One instance serves every vertex, so refinement allocates nothing per vertex.
 */
export class PartConnections {
  readonly weight: Float64Array;
  readonly parts: Int32Array;
  count = 0;

  constructor(k: number) {
    this.weight = new Float64Array(k);
    this.parts = new Int32Array(k);
  }

  gather(g: JunctionGraph, part: Int32Array, v: number): void {
    this.clear();
    for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
      const p = part[g.adj[i]!]!;
      if (this.weight[p] === 0) this.parts[this.count++] = p;
      this.weight[p]! += g.adjWeight[i]!; // weights are >= 1, so 0 means "not seen yet"
    }
  }

  clear(): void {
    for (let i = 0; i < this.count; i++) this.weight[this.parts[i]!] = 0;
    this.count = 0;
  }

  /**
   * The neighbouring part other than `own` that v connects to most and that can take `w` more without
   * exceeding `maxWeight` (ties: the lighter part, then the smaller index); -1 if none.
   */
  bestTarget(own: number, w: number, pw: number[], maxWeight: number): number {
    let best = -1;
    for (let i = 0; i < this.count; i++) {
      const p = this.parts[i]!;
      if (p === own || pw[p]! + w > maxWeight) continue;
      if (best < 0) {
        best = p;
        continue;
      }
      const c = this.weight[p]!;
      const cb = this.weight[best]!;
      if (c > cb || (c === cb && (pw[p]! < pw[best]! || (pw[p] === pw[best] && p < best)))) best = p;
    }
    return best;
  }
}
