import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../errors.js';
import { loadSumoScenario } from '../io/sumo/config.js';
import { Engine } from '../sim/engine.js';
import { buildJunctionGraph, fromPairs, totalWeight, type JunctionGraph } from './graph.js';
import { edgeCut, imbalance, partComponents, partitionKway, partWeights } from './kway.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/${name}/scenario.sumocfg`, import.meta.url));

/** A w×h grid graph, vertex and edge weights 1 (vertex y·w + x). */
function grid(w: number, h: number): JunctionGraph {
  const n = w * h;
  const pairs = new Map<number, number>();
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = y * w + x;
      if (x + 1 < w) pairs.set(v * n + v + 1, 1);
      if (y + 1 < h) pairs.set(v * n + v + w, 1);
    }
  }
  return fromPairs(n, new Int32Array(n).fill(1), pairs);
}

function checkParts(g: JunctionGraph, part: Int32Array, k: number): void {
  assert.equal(part.length, g.n);
  for (const p of part) assert.ok(p >= 0 && p < k, `part ${p} out of 0..${k - 1}`);
  for (const [p, w] of partWeights(g, part, k).entries()) assert.ok(w > 0, `part ${p} is empty`);
}

/** The bound to expect: 5 %, unless one vertex alone is heavier than that allows. */
function imbalanceBound(g: JunctionGraph, k: number): number {
  const heaviest = Math.max(...g.vertexWeight);
  return Math.max(0.05, heaviest / (totalWeight(g) / k) - 1) + 1e-9;
}

test('10×10 grid, k = 2: cut ≤ 12 (optimum 10), within 5 %, both halves connected', () => {
  const g = grid(10, 10);
  const part = partitionKway(g, 2);
  checkParts(g, part, 2);
  assert.ok(edgeCut(g, part) <= 12, `cut ${edgeCut(g, part)}`);
  assert.ok(imbalance(g, part, 2) <= 0.05);
  assert.deepEqual(partComponents(g, part, 2), [1, 1]);
});

test('10×10 grid, k = 4: cut ≤ 24 (optimum 20), within 5 %', (t) => {
  const g = grid(10, 10);
  const part = partitionKway(g, 4);
  checkParts(g, part, 4);
  assert.ok(edgeCut(g, part) <= 24, `cut ${edgeCut(g, part)}`);
  assert.ok(imbalance(g, part, 4) <= 0.05);
  t.diagnostic(`cut ${edgeCut(g, part)}, components per part ${partComponents(g, part, 4).join(' ')}`);
});

test('the imbalance option is honoured', () => {
  const g = grid(12, 12);
  for (const limit of [0, 0.02, 0.1]) {
    const part = partitionKway(g, 3, { imbalance: limit });
    assert.ok(imbalance(g, part, 3) <= limit + 1e-9, `limit ${limit}: ${imbalance(g, part, 3)}`);
  }
});

test('deterministic: the same input gives the same partition; the seed is an input', () => {
  const g = grid(20, 15);
  const a = partitionKway(g, 5, { seed: 7 });
  const b = partitionKway(g, 5, { seed: 7 });
  assert.deepEqual(a, b);
  checkParts(g, a, 5);
});

test('k = 1 puts everything in part 0; k > n and bad k throw', () => {
  const g = grid(3, 3);
  assert.deepEqual(partitionKway(g, 1), new Int32Array(9));
  assert.throws(() => partitionKway(g, 10), UsageError);
  assert.throws(() => partitionKway(g, 0), UsageError);
  assert.throws(() => partitionKway(g, 2.5), UsageError);
  checkParts(g, partitionKway(g, 9), 9); // one vertex per part
});

test('disconnected graphs and vertices without edges are partitioned too', () => {
  // two 6×6 grids side by side with no edge between them, plus 5 isolated vertices
  const a = grid(6, 6);
  const n = 2 * 36 + 5;
  const pairs = new Map<number, number>();
  for (let v = 0; v < 36; v++) {
    for (let i = a.adjStart[v]!; i < a.adjStart[v + 1]!; i++) {
      const u = a.adj[i]!;
      if (u > v) {
        pairs.set(v * n + u, 1);
        pairs.set((v + 36) * n + u + 36, 1);
      }
    }
  }
  const g = fromPairs(n, new Int32Array(n).fill(1), pairs);
  for (const k of [2, 3, 4]) {
    const part = partitionKway(g, k);
    checkParts(g, part, k);
    assert.ok(imbalance(g, part, k) <= 0.05 + 1e-9, `k=${k}: ${imbalance(g, part, k)}`);
  }
  assert.equal(edgeCut(g, partitionKway(g, 2)), 0, 'the two grids are the two halves (+ isolated vertices)');
});

test('metrics: edge cut, part weights and imbalance by hand', () => {
  const g = grid(2, 2); // 0-1, 0-2, 1-3, 2-3
  const part = Int32Array.from([0, 0, 1, 1]);
  assert.equal(edgeCut(g, part), 2);
  assert.deepEqual(partWeights(g, part, 2), [2, 2]);
  assert.equal(imbalance(g, Int32Array.from([0, 0, 0, 1]), 2), 0.5);
  assert.deepEqual(partComponents(g, Int32Array.from([0, 1, 1, 0]), 2), [2, 2], 'diagonals are not connected');
  assert.deepEqual(partComponents(g, Int32Array.from([0, 0, 1, 0]), 2), [1, 1]);
});

// (its speed is measured by bench/partition.ts, never asserted here: timings belong in the bench)
test('a 2000-junction graph: 16 balanced, non-empty parts, cut within 10% of a 4×4 block layout', () => {
  const g = grid(45, 45);
  const part = partitionKway(g, 16);
  checkParts(g, part, 16);
  assert.ok(imbalance(g, part, 16) <= 0.05 + 1e-9);
  // hand-computed reference: a 4×4 block layout of a 45×45 grid cuts 3 lines × 45 edges each way
  assert.ok(edgeCut(g, part) <= 1.1 * (2 * 3 * 45), `cut ${edgeCut(g, part)}`);
});

for (const name of ['grid4', 'spider4', 'rand4']) {
  test(`${name}: k = 2..8 within the balance limit (k ≤ junctions / 4), parts non-empty`, (t) => {
    const e = new Engine(loadSumoScenario(fixture(name)));
    const g = buildJunctionGraph(e.net, e.demand);
    const report: string[] = [];
    for (let k = 2; k <= 8 && k <= g.n / 4; k++) {
      const part = partitionKway(g, k);
      checkParts(g, part, k);
      const imb = imbalance(g, part, k);
      assert.ok(imb <= imbalanceBound(g, k), `k=${k}: imbalance ${imb.toFixed(3)}`);
      const split = partComponents(g, part, k).filter((c) => c > 1).length;
      report.push(`k=${k} cut ${edgeCut(g, part)} imbalance ${(imb * 100).toFixed(1)}% split parts ${split}`);
    }
    t.diagnostic(`${name} (${g.n} junctions): ${report.join('; ')}`);
  });
}
