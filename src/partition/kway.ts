/**
 * Multilevel k-way graph partitioning, the METIS scheme (Karypis & Kumar 1998):
 *
 *  1. coarsen: contract heavy-edge matchings until about 20·k vertices remain (coarsen.ts);
 *  2. initial partition of the coarsest graph by recursive multilevel bisection (initial.ts, bisect.ts);
 *  3. uncoarsen: project the partition back level by level; at each level rebalance if a part is over
 *     the limit and run greedy boundary refinement (refine.ts);
 *  4. finally hand stray fragments of a part to the part around them.
 *
 * The whole scheme runs a few times from different seeds and the best result is kept (it costs
 * milliseconds on road networks). Deterministic: all randomness comes from the seeded generator.
 *
 * Balance constraint: every part weighs at most (1 + imbalance) · total / k. It is met whenever no
 * single vertex makes it impossible.
 */
import { UsageError } from '../errors.js';
import { coarsen, project } from './coarsen.js';
import { totalWeight, type JunctionGraph } from './graph.js';
import { recursiveBisection } from './initial.js';
import { edgeCut, partWeights } from './metrics.js';
import { rng } from './random.js';
import { balanceKway, mergeFragments, refineKway } from './refine.js';

export { edgeCut, imbalance, partComponents, partWeights } from './metrics.js';

export interface KwayOptions {
  /** allowed excess of the heaviest part over the mean, default 0.05 (5 %) */
  imbalance?: number;
  /** seed of the visit orders, default 1 */
  seed?: number;
  /** independent multilevel runs, best kept; default 4 */
  trials?: number;
}

/** Vertices per part at which coarsening stops (METIS's CoarsenTo is of this order). */
const COARSEN_PER_PART = 20;
const DEFAULT_TRIALS = 4;

/** Part index 0..k-1 of every vertex of g. */
export function partitionKway(g: JunctionGraph, k: number, opts: KwayOptions = {}): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`number of parts must be a positive integer, got ${k}`);
  if (k > g.n) throw new UsageError(`cannot split ${g.n} junction(s) into ${k} parts: at most one part per junction`);
  const imb = opts.imbalance ?? 0.05;
  if (!(imb >= 0) || !Number.isFinite(imb)) throw new UsageError(`imbalance must be a non-negative number, got ${imb}`);
  if (k === 1) return new Int32Array(g.n);
  const seed = opts.seed ?? 1;
  const trials = Math.max(1, opts.trials ?? DEFAULT_TRIALS);
  const maxWeight = ((1 + imb) * totalWeight(g)) / k;

  let best: Int32Array | undefined;
  let bestOver = Infinity;
  let bestCut = Infinity;
  for (let t = 0; t < trials; t++) {
    const part = multilevel(g, k, imb, maxWeight, (seed + Math.imul(t, 0x9e3779b9)) >>> 0);
    const over = Math.max(0, Math.max(...partWeights(g, part, k)) - maxWeight);
    const cut = edgeCut(g, part);
    if (over < bestOver || (over === bestOver && cut < bestCut)) {
      best = part;
      bestOver = over;
      bestCut = cut;
    }
  }
  return best!;
}

function multilevel(g: JunctionGraph, k: number, imb: number, maxWeight: number, seed: number): Int32Array {
  const next = rng(seed);
  const coarsenTo = COARSEN_PER_PART * k;
  // as METIS: no coarse vertex heavier than 1.5 × the average vertex of a graph of coarsenTo vertices
  const { graphs, maps } = coarsen(g, coarsenTo, (1.5 * totalWeight(g)) / coarsenTo, next);
  let level = graphs.length - 1;
  let part = recursiveBisection(graphs[level]!, k, imb, next);
  for (;;) {
    const graph = graphs[level]!;
    balanceKway(graph, part, k, maxWeight);
    refineKway(graph, part, k, maxWeight, next);
    if (level === 0) break;
    level--;
    part = project(part, maps[level]!);
  }
  mergeFragments(g, part, k, maxWeight);
  return part;
}
