/**
 * Multilevel k-way graph partitioning, the METIS scheme (Karypis & Kumar 1998):
 *
 *  1. coarsen: contract heavy-edge matchings until about 20·k vertices remain (coarsen.ts);
 *  2. initial partition of the coarsest graph by recursive multilevel bisection (initial.ts, bisect.ts),
 *     a few times over, keeping the best after refinement — the coarsest graph is small, so this is cheap
 *     and it is where the shape of the partition is decided;
 *  3. uncoarsen: project the partition back level by level; at each level rebalance if a part is over
 *     the limit (balance.ts) and run k-way FM boundary refinement (kwayfm.ts);
 *  4. finally hand stray fragments of a part to the part around them (fragments.ts).
 *
 * The whole scheme runs a few times from different seeds and the best result is kept (milliseconds on
 * road networks). Deterministic: all randomness comes from the seeded generator.
 *
 * Balance constraint: every part weighs at most (1 + imbalance) · total / k. Refinement never breaks it;
 * balancing restores it by moves and swaps. It can still be missed on tiny graphs whose junctions are
 * heavy compared to a part (then the result is the least overweight one found).
 */
import { UsageError } from '../errors.js';
import { balanceKway } from './balance.js';
import { coarsen, project } from './coarsen.js';
import { mergeFragments } from './fragments.js';
import { totalWeight, type JunctionGraph } from './graph.js';
import { recursiveBisection } from './initial.js';
import { refineKwayFM } from './kwayfm.js';
import { edgeCut, partWeights } from './metrics.js';
import { rng } from './random.js';

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
/** Initial partitions tried on the coarsest graph of each run. */
const INITIAL_TRIALS = 4;

/** Part index 0..k-1 of every vertex of g. */
export function partitionKway(g: JunctionGraph, k: number, opts: KwayOptions = {}): Int32Array {
  if (!Number.isInteger(k) || k < 1) throw new UsageError(`number of parts must be a positive integer, got ${k}`);
  if (k > g.n) throw new UsageError(`cannot split ${g.n} junction(s) into ${k} parts: at most one part per junction`);
  const imb = opts.imbalance ?? 0.05;
  if (!(imb >= 0) || !Number.isFinite(imb)) throw new UsageError(`imbalance must be a non-negative number, got ${imb}`);
  checkWeights(g);
  if (k === 1) return new Int32Array(g.n);
  const seed = opts.seed ?? 1;
  const trials = Math.max(1, opts.trials ?? DEFAULT_TRIALS);
  const maxWeight = ((1 + imb) * totalWeight(g)) / k;

  const best = new Pick(g, k, maxWeight);
  for (let t = 0; t < trials; t++)
    best.offer(multilevel(g, k, imb, maxWeight, (seed + Math.imul(t, 0x9e3779b9)) >>> 0));
  return best.part!;
}

function multilevel(g: JunctionGraph, k: number, imb: number, maxWeight: number, seed: number): Int32Array {
  const next = rng(seed);
  const coarsenTo = COARSEN_PER_PART * k;
  // as METIS: no coarse vertex heavier than 1.5 × the average vertex of a graph of coarsenTo vertices
  const { graphs, maps } = coarsen(g, coarsenTo, (1.5 * totalWeight(g)) / coarsenTo, next);
  let level = graphs.length - 1;
  // the coarsest graph is small: try several initial partitions, each refined, and go on with the best
  const initial = new Pick(graphs[level]!, k, maxWeight);
  for (let t = 0; t < INITIAL_TRIALS; t++) {
    const p = recursiveBisection(graphs[level]!, k, imb, next);
    improve(graphs[level]!, p, k, maxWeight);
    initial.offer(p);
  }
  let part = initial.part!;
  while (level > 0) {
    level--;
    part = project(part, maps[level]!);
    improve(graphs[level]!, part, k, maxWeight);
  }
  mergeFragments(g, part, k, maxWeight);
  return part;
}

/** Weights must be positive: a part's weight, and "not connected yet" in the refinement, rely on it. */
function checkWeights(g: JunctionGraph): void {
  if (g.adjStart.length !== g.n + 1 || g.vertexWeight.length !== g.n || g.adjWeight.length !== g.adj.length) {
    throw new Error('malformed graph: array lengths do not match n');
  }
  for (const w of g.vertexWeight) if (!(w >= 1)) throw new Error(`vertex weights must be at least 1, found ${w}`);
  for (const w of g.adjWeight) if (!(w >= 1)) throw new Error(`edge weights must be at least 1, found ${w}`);
}

function improve(g: JunctionGraph, part: Int32Array, k: number, maxWeight: number): void {
  balanceKway(g, part, k, maxWeight);
  refineKwayFM(g, part, k, maxWeight);
}

/** Keeps the best partition offered: least weight over the limit first, then least cut. */
class Pick {
  part: Int32Array | undefined;
  private over = Infinity;
  private cut = Infinity;

  constructor(
    private readonly g: JunctionGraph,
    private readonly k: number,
    private readonly maxWeight: number,
  ) {}

  offer(part: Int32Array): void {
    const over = Math.max(0, Math.max(...partWeights(this.g, part, this.k)) - this.maxWeight);
    const cut = edgeCut(this.g, part);
    if (over < this.over || (over === this.over && cut < this.cut)) {
      this.part = part;
      this.over = over;
      this.cut = cut;
    }
  }
}
