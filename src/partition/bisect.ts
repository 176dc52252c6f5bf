/**
 * Two-way splitting, used to build the initial k-way partition of the coarsest graph by recursive
 * bisection (as METIS does): each bisection is itself multilevel — coarsen to a few dozen vertices,
 * grow a side from several seeds and keep the best, then refine with Fiduccia–Mattheyses while
 * uncoarsening.
 */
import { coarsen, project } from './coarsen.js';
import { totalWeight, type JunctionGraph } from './graph.js';
import { GainHeap } from './heap.js';
import { permutation, type Rng } from './random.js';

/** Coarsest size for a bisection: small enough that growing from every few seeds is cheap. */
const BISECT_COARSEN_TO = 20;
/** Independent multilevel bisections per split; the best is kept (METIS's ncuts for its initial partition). */
const BISECT_TRIALS = 2;
/** Seeds tried when growing the initial bisection; the best (after refinement) is kept. */
const GROW_TRIALS = 6;
/** FM passes per level; a pass that does not improve ends the refinement early. */
const FM_PASSES = 10;

/** Target and maximum weight of side 0 and side 1. */
export interface Sides {
  target: [number, number];
  max: [number, number];
}

export function sidesFor(total: number, frac: number, tol: number): Sides {
  const t0 = total * frac;
  const t1 = total - t0;
  return { target: [t0, t1], max: [t0 * (1 + tol), t1 * (1 + tol)] };
}

/**
 * Scratch arrays for bisecting graphs of up to `capacity` vertices: a recursive bisection allocates
 * them once, not once per FM run (allocation was most of the cost on small graphs).
 */
export class BisectWorkspace {
  readonly heaps: readonly [GainHeap, GainHeap];
  /** edge weight to the vertex's own side / to the other side */
  readonly internal: Float64Array;
  readonly external: Float64Array;
  /** FM: pass stamp of the moment a vertex was moved (locked); GGGP: settled stamp */
  readonly stamp: Int32Array;
  readonly moves: Int32Array;
  private clock = 0;

  constructor(readonly capacity: number) {
    this.heaps = [new GainHeap(capacity), new GainHeap(capacity)];
    this.internal = new Float64Array(capacity);
    this.external = new Float64Array(capacity);
    this.stamp = new Int32Array(capacity);
    this.moves = new Int32Array(capacity);
  }

  /** A value no entry of `stamp` has yet. */
  tick(): number {
    return ++this.clock;
  }
}

/**
 * Split g into sides 0 and 1, side 0 weighing `frac` of the total, each side within (1 + tol) of its
 * target. Multilevel, run BISECT_TRIALS times from different random matchings; the best is kept.
 */
export function multilevelBisect(
  g: JunctionGraph,
  frac: number,
  tol: number,
  next: Rng,
  ws = new BisectWorkspace(g.n),
): Int32Array {
  const sides = sidesFor(totalWeight(g), frac, tol);
  let best: Int32Array | undefined;
  let bestScore: Score | undefined;
  for (let t = 0; t < BISECT_TRIALS; t++) {
    const part = bisectOnce(g, sides, next, ws);
    const s = score(g, part, sides);
    if (!bestScore || better(s, bestScore)) {
      best = part;
      bestScore = s;
    }
  }
  return best!;
}

function bisectOnce(g: JunctionGraph, sides: Sides, next: Rng, ws: BisectWorkspace): Int32Array {
  const total = sides.target[0] + sides.target[1];
  // no coarse vertex heavier than a few % of the graph, or the sides could not be evened out
  const h = coarsen(g, BISECT_COARSEN_TO, (1.5 * total) / BISECT_COARSEN_TO, next);
  let level = h.graphs.length - 1;
  let part = growBisection(h.graphs[level]!, sides, next, ws);
  while (level > 0) {
    level--;
    part = project(part, h.maps[level]!);
    refine2way(h.graphs[level]!, part, sides, ws);
  }
  return part;
}

/**
 * Greedy graph growing (GGGP): side 0 grows from a seed, always taking the frontier vertex that adds the
 * least cut, until it reaches its target weight; then FM. Several seeds, keep the best.
 */
function growBisection(g: JunctionGraph, sides: Sides, next: Rng, ws: BisectWorkspace): Int32Array {
  const order = permutation(g.n, next);
  const degree = new Float64Array(g.n);
  for (let v = 0; v < g.n; v++) {
    for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) degree[v]! += g.adjWeight[i]!;
  }
  let best: Int32Array | undefined;
  let bestScore: Score | undefined;
  for (let t = 0; t < Math.min(GROW_TRIALS, g.n); t++) {
    const part = grow(g, order[t]!, order, degree, sides, ws);
    refine2way(g, part, sides, ws);
    const s = score(g, part, sides);
    if (!bestScore || better(s, bestScore)) {
      best = part;
      bestScore = s;
    }
  }
  return best ?? new Int32Array(g.n);
}

function grow(
  g: JunctionGraph,
  seed: number,
  order: Int32Array,
  degree: Float64Array,
  sides: Sides,
  ws: BisectWorkspace,
): Int32Array {
  const { n, adjStart, adj, adjWeight, vertexWeight: vw } = g;
  const part = new Int32Array(n).fill(1);
  const conn0 = ws.internal.fill(0, 0, n); // edge weight from each vertex to side 0
  const settled = ws.stamp; // === mark: in side 0, or rejected as too heavy
  const mark = ws.tick();
  const heap = ws.heaps[0];
  heap.clear();
  heap.set(seed, 0);
  let pw0 = 0;
  let cursor = 0;
  while (pw0 < sides.target[0]) {
    let v = heap.pop();
    if (v < 0) {
      // the grown region has no frontier left (a disconnected graph): restart from the next vertex
      while (cursor < n && settled[order[cursor]!] === mark) cursor++;
      if (cursor >= n) break;
      v = order[cursor]!;
    }
    settled[v] = mark;
    if (pw0 > 0 && pw0 + vw[v]! > sides.max[0]) continue;
    part[v] = 0;
    pw0 += vw[v]!;
    for (let i = adjStart[v]!, end = adjStart[v + 1]!; i < end; i++) {
      const u = adj[i]!;
      if (settled[u] === mark) continue;
      conn0[u]! += adjWeight[i]!;
      heap.set(u, 2 * conn0[u]! - degree[u]!); // cut change if u joins side 0, negated
    }
  }
  heap.clear();
  return part;
}

/** How good a bisection is: first the weight over the maxima, then the cut, then the distance from target. */
interface Score {
  over: number;
  cut: number;
  diff: number;
}

function better(a: Score, b: Score): boolean {
  if (a.over !== b.over) return a.over < b.over;
  if (a.cut !== b.cut) return a.cut < b.cut;
  return a.diff < b.diff;
}

function scoreOf(pw0: number, pw1: number, cut: number, sides: Sides): Score {
  return {
    over: Math.max(0, pw0 - sides.max[0]) + Math.max(0, pw1 - sides.max[1]),
    cut,
    diff: Math.abs(pw0 - sides.target[0]),
  };
}

function score(g: JunctionGraph, part: Int32Array, sides: Sides): Score {
  let pw0 = 0;
  let pw1 = 0;
  let cut = 0;
  for (let v = 0; v < g.n; v++) {
    if (part[v] === 0) pw0 += g.vertexWeight[v]!;
    else pw1 += g.vertexWeight[v]!;
    for (let i = g.adjStart[v]!, end = g.adjStart[v + 1]!; i < end; i++) {
      if (g.adj[i]! > v && part[g.adj[i]!] !== part[v]) cut += g.adjWeight[i]!;
    }
  }
  return scoreOf(pw0, pw1, cut, sides);
}

/**
 * Fiduccia–Mattheyses refinement of a bisection, in place. Each pass moves boundary vertices one at a
 * time, best gain first, each at most once — also through moves that make the cut worse, which lets it
 * climb out of local minima — then rolls back to the best state seen. A side over its maximum gives up
 * vertices first, so an unbalanced start is repaired on the way.
 */
export function refine2way(g: JunctionGraph, part: Int32Array, sides: Sides, ws = new BisectWorkspace(g.n)): void {
  const { n, adjStart, adj, adjWeight, vertexWeight: vw } = g;
  const { internal, external, heaps, stamp: lockedIn, moves } = ws;
  const pw = [0, 0];
  let cut = 0;
  for (let v = 0; v < n; v++) {
    pw[part[v]!]! += vw[v]!;
    let inside = 0;
    let outside = 0;
    for (let i = adjStart[v]!, end = adjStart[v + 1]!; i < end; i++) {
      if (part[adj[i]!] === part[v]) inside += adjWeight[i]!;
      else outside += adjWeight[i]!;
    }
    internal[v] = inside;
    external[v] = outside;
    cut += outside;
  }
  cut /= 2;
  // non-improving moves allowed before a pass gives up (METIS uses 1 % of the vertices, 15..100)
  const patience = Math.min(Math.max(Math.floor(n / 50), 25), 150);
  const isolated = (v: number) => adjStart[v] === adjStart[v + 1];

  const move = (v: number, pass: number) => {
    const from = part[v]!;
    const to = 1 - from;
    cut -= external[v]! - internal[v]!;
    pw[from]! -= vw[v]!;
    pw[to]! += vw[v]!;
    part[v] = to;
    const t = internal[v]!;
    internal[v] = external[v]!;
    external[v] = t;
    for (let i = adjStart[v]!, end = adjStart[v + 1]!; i < end; i++) {
      const u = adj[i]!;
      const w = adjWeight[i]!;
      if (part[u] === to) {
        internal[u]! += w;
        external[u]! -= w;
      } else {
        internal[u]! -= w;
        external[u]! += w;
      }
      if (pass < 0 || lockedIn[u] === pass) continue; // pass < 0: rolling back, queues are done
      const h = heaps[part[u]!]!;
      if (external[u]! > 0) h.set(u, external[u]! - internal[u]!);
      else h.remove(u);
    }
  };

  /** The side to take the next vertex from, or -1 to end the pass. */
  const chooseSide = (): number => {
    for (let s = 0; s < 2; s++) if (pw[s]! > sides.max[s]!) return heaps[s]!.length > 0 ? s : -1;
    let side = -1;
    for (let s = 0; s < 2; s++) {
      const v = heaps[s]!.top();
      if (v < 0 || pw[1 - s]! + vw[v]! > sides.max[1 - s]!) continue;
      if (side < 0) side = s;
      else {
        const ks = heaps[s]!.topKey();
        const kb = heaps[side]!.topKey();
        // equal gains: take from the side further above its target
        if (ks > kb || (ks === kb && pw[s]! - sides.target[s]! > pw[side]! - sides.target[side]!)) side = s;
      }
    }
    return side;
  };

  for (let p = 0; p < FM_PASSES; p++) {
    const pass = ws.tick();
    heaps[0].clear();
    heaps[1].clear();
    for (let v = 0; v < n; v++) {
      if (external[v]! > 0 || isolated(v)) heaps[part[v]!]!.set(v, external[v]! - internal[v]!);
    }
    const start = scoreOf(pw[0]!, pw[1]!, cut, sides);
    let best = start;
    let bestMoves = 0;
    let count = 0;
    while (count - bestMoves <= patience) {
      const from = chooseSide();
      if (from < 0) break;
      const v = heaps[from]!.pop();
      lockedIn[v] = pass;
      move(v, pass);
      moves[count++] = v;
      const s = scoreOf(pw[0]!, pw[1]!, cut, sides);
      if (better(s, best)) {
        best = s;
        bestMoves = count;
      }
    }
    while (count > bestMoves) move(moves[--count]!, -1);
    if (!better(best, start)) break;
  }
  heaps[0].clear();
  heaps[1].clear();
}
