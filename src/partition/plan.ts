/**
 * The partition plan of a run: how many parts, which part owns each junction, and which part owns
 * each lane. Ownership follows DESIGN.md ("How a step crosses a partition border"): a lane belongs to
 * the part of the junction it drives into, so every conflict at a junction is decided inside one part.
 *
 * How many parts, when not given (`parts`) or fixed by a manual map:
 *   - several workers: one part per worker. A worker steps its parts one after the other, and every
 *     extra part adds border work and a link in the chain of messages each step waits for: on the
 *     16×16 bench grid (1800 s), 2 workers with 4 parts took 9.4 and 8.6 s against 8.0 and 8.3 s
 *     with 2 (medians of 3 and 5 interleaved runs on a noisy machine: never faster).
 *   - one worker (automatic parts asked for with --min-parts/--max-parts): as many parts as keep at
 *     least MIN_JUNCTIONS_PER_PART junctions each (⌊junctions / 50⌋).
 *   Either way within [minParts, maxParts] (default 1..8) and never more than there are junctions;
 *   then rounded up to a multiple of `workers` if that stays in range, so that the workers carry
 *   equal numbers of parts.
 * Examples: 8 workers, 100 junctions → 8 parts; 2 workers and --min-parts 3 → 4; 1 worker, 1000
 * junctions → 8 (20, capped by the default maxParts).
 */
import { UsageError } from '../errors.js';
import type { Demand } from '../sim/demand.js';
import { laneOwnersFromJunctions } from '../sim/partition.js';
import type { Network } from '../sim/network.js';
import { buildJunctionGraph, fromPairs, type JunctionGraph } from './graph.js';
import { actuatedJunctionGroups } from '../sim/actuated.js';
import { partitionKway } from './kway.js';

export { formatPartitionMap, loadPartitionMap } from './mapfile.js';

/** Below this many junctions a part costs more in messages than it saves in work. */
export const MIN_JUNCTIONS_PER_PART = 50;

export interface PartitionOptions {
  /** exact number of parts */
  parts?: number;
  /** range for the automatic choice, default 1..8 */
  minParts?: number;
  maxParts?: number;
  /** the part count is made a multiple of this when it can be; default 1 */
  workers?: number;
  /** manual assignment junction id → part (every junction, parts 0..N-1) */
  map?: Map<string, number>;
  /** allowed excess of the heaviest part over the mean work, default 0.05 */
  imbalance?: number;
  seed?: number;
}

export interface PartitionPlan {
  parts: number;
  /** part of each junction, by junction index */
  junctionPart: Int32Array;
  /** part of each lane (normal and internal), by lane index */
  laneOwner: Int32Array;
}

export function makePartition(net: Network, demand: Demand | undefined, opts: PartitionOptions = {}): PartitionPlan {
  const n = net.junctionIds.length;
  let parts: number;
  let junctionPart: Int32Array;
  if (opts.map) {
    ({ parts, junctionPart } = fromMap(net, opts.map));
    if (opts.parts !== undefined && opts.parts !== parts) {
      throw new UsageError(`--parts ${opts.parts} contradicts the partition map, which has ${parts} part(s)`);
    }
    checkGroups(net, junctionPart);
  } else {
    if (opts.parts !== undefined) {
      positiveInt('--parts', opts.parts);
      if (opts.parts > n)
        throw new UsageError(`--parts ${opts.parts}: the network has only ${n} junction(s), at most one part each`);
    }
    parts = opts.parts ?? chooseParts(n, opts);
    junctionPart =
      parts === 1
        ? new Int32Array(n)
        : partitionGrouped(net, buildJunctionGraph(net, demand), parts, { imbalance: opts.imbalance, seed: opts.seed });
  }
  return { parts, junctionPart, laneOwner: laneOwners(net, junctionPart) };
}

/** The automatic part count for a network of `junctions` junctions (rule in the header comment). */
export function chooseParts(
  junctions: number,
  opts: { minParts?: number; maxParts?: number; workers?: number } = {},
): number {
  const lo = opts.minParts ?? 1;
  const workers = opts.workers ?? 1;
  positiveInt('--min-parts', lo);
  positiveInt('--workers', workers);
  if (opts.maxParts !== undefined) positiveInt('--max-parts', opts.maxParts);
  const maxParts = opts.maxParts ?? Math.max(8, lo);
  if (lo > maxParts) throw new UsageError(`--min-parts ${lo} is greater than --max-parts ${maxParts}`);
  if (lo > junctions)
    throw new UsageError(`--min-parts ${lo}: the network has only ${junctions} junction(s), at most one part each`);
  const hi = Math.min(maxParts, junctions);
  const wanted = workers > 1 ? workers : Math.floor(junctions / MIN_JUNCTIONS_PER_PART);
  const p = Math.min(Math.max(wanted, lo), hi);
  // only --min-parts above the workers gets here with p > workers: every worker the same number of parts
  const up = Math.ceil(p / workers) * workers;
  return up <= hi ? up : p;
}

/** Lane ownership: a normal lane follows the junction it drives into, an internal lane its junction
 *  (one definition, in sim/partition.ts, which the workers use too). */
export const laneOwners = laneOwnersFromJunctions;

/**
 * Partitions with the junctions of each actuated light (and of the lanes its induction loops lie
 * on) kept in one part: a light's decision reads its loops, so the part owning the light must own
 * every lane they read (sim/actuated.ts actuatedJunctionGroups). Each group is contracted into one
 * vertex of the graph handed to the k-way partitioner; without groups the graph is unchanged.
 */
function partitionGrouped(
  net: Network,
  g: JunctionGraph,
  parts: number,
  opts: { imbalance?: number; seed?: number },
): Int32Array {
  const groups = actuatedJunctionGroups(net);
  const n = g.n;
  const vertexOf = new Int32Array(n);
  let m = 0;
  const rootVertex = new Map<number, number>();
  let contracted = false;
  for (let j = 0; j < n; j++) {
    const root = groups[j]!;
    if (root < 0) vertexOf[j] = m++;
    else {
      const have = rootVertex.get(root);
      if (have === undefined) {
        rootVertex.set(root, m);
        vertexOf[j] = m++;
      } else {
        vertexOf[j] = have;
        contracted = true;
      }
    }
  }
  if (!contracted) return partitionKway(g, parts, opts);
  if (parts > m)
    throw new UsageError(
      `--parts ${parts}: with the junctions of each actuated traffic light kept together the network has only ${m} unit(s) to place`,
    );
  const w = new Int32Array(m);
  for (let j = 0; j < n; j++) w[vertexOf[j]!] = Math.min(0x7fffffff, w[vertexOf[j]!]! + g.vertexWeight[j]!);
  const pairs = new Map<number, number>();
  for (let a = 0; a < n; a++) {
    for (let i = g.adjStart[a]!; i < g.adjStart[a + 1]!; i++) {
      const b = g.adj[i]!;
      if (b <= a) continue;
      const va = vertexOf[a]!;
      const vb = vertexOf[b]!;
      if (va === vb) continue;
      const key = va < vb ? va * m + vb : vb * m + va;
      pairs.set(key, (pairs.get(key) ?? 0) + g.adjWeight[i]!);
    }
  }
  const part = partitionKway(fromPairs(m, w, pairs), parts, opts);
  return Int32Array.from(vertexOf, (v) => part[v]!);
}

/** A user's map must keep each actuated light's junctions together (see partitionGrouped). */
function checkGroups(net: Network, junctionPart: Int32Array): void {
  const groups = actuatedJunctionGroups(net);
  const partOfGroup = new Map<number, number>();
  for (let j = 0; j < groups.length; j++) {
    const root = groups[j]!;
    if (root < 0) continue;
    const p = partOfGroup.get(root);
    if (p === undefined) partOfGroup.set(root, junctionPart[j]!);
    else if (p !== junctionPart[j]) {
      throw new UsageError(
        `partition map: junctions "${net.junctionIds[root]}" and "${net.junctionIds[j]}" must be in the same part (an actuated traffic light and the lanes its detectors lie on)`,
      );
    }
  }
}

function fromMap(net: Network, map: Map<string, number>): { parts: number; junctionPart: Int32Array } {
  const known = new Set(net.junctionIds);
  for (const [id, part] of map) {
    if (!known.has(id)) throw new UsageError(`partition map: junction "${id}" is not in the network`);
    if (!Number.isInteger(part) || part < 0)
      throw new UsageError(`partition map: part of junction "${id}" must be a non-negative integer, got ${part}`);
  }
  const missing = net.junctionIds.filter((id) => !map.has(id));
  if (missing.length > 0) {
    const more = missing.length > 1 ? ` (and ${missing.length - 1} more junction(s))` : '';
    throw new UsageError(`partition map: no part given for junction "${missing[0]}"${more}`);
  }
  const junctionPart = Int32Array.from(net.junctionIds, (id) => map.get(id)!);
  let parts = 0;
  for (const p of junctionPart) parts = Math.max(parts, p + 1);
  const used = new Uint8Array(parts);
  for (const p of junctionPart) used[p] = 1;
  const unused = used.indexOf(0);
  if (unused >= 0)
    throw new UsageError(
      `partition map: parts must be numbered 0..${parts - 1} without gaps, but no junction is in part ${unused}`,
    );
  return { parts, junctionPart };
}

function positiveInt(option: string, v: number): void {
  if (!Number.isInteger(v) || v < 1) throw new UsageError(`${option} must be a positive integer, got ${v}`);
}
