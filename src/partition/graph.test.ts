import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { loadSumoScenario } from '../io/sumo/config.js';
import { Engine } from '../sim/engine.js';
import { corridor, vehicle } from '../sim/testnets.js';
import { buildJunctionGraph, edgeTraversals, type JunctionGraph } from './graph.js';

const fixture = (name: string) =>
  fileURLToPath(new URL(`../../../test/fixtures/${name}/scenario.sumocfg`, import.meta.url));

/** CSR sanity: symmetric, sorted rows, no self loops, no duplicate neighbours, positive weights. */
function checkCsr(g: JunctionGraph): void {
  assert.equal(g.adjStart.length, g.n + 1);
  assert.equal(g.adjStart[g.n], g.adj.length);
  const weightOf = new Map<number, number>();
  for (let v = 0; v < g.n; v++) {
    assert.ok(g.vertexWeight[v]! >= 1, 'vertex weight at least 1');
    for (let i = g.adjStart[v]!; i < g.adjStart[v + 1]!; i++) {
      const u = g.adj[i]!;
      assert.notEqual(u, v, 'self loop');
      if (i > g.adjStart[v]!) assert.ok(g.adj[i - 1]! < u, 'row sorted, no duplicates');
      assert.ok(g.adjWeight[i]! >= 1);
      weightOf.set(v * g.n + u, g.adjWeight[i]!);
    }
  }
  for (const [key, w] of weightOf) {
    const v = Math.floor(key / g.n);
    const u = key % g.n;
    assert.equal(weightOf.get(u * g.n + v), w, 'symmetric');
  }
}

test('corridor: weights follow the documented formula; a junction without edges is still a vertex', () => {
  const spec = corridor({
    l1: 500,
    l2: 300,
    vehicles: [vehicle('a', 0, ['in', 'out']), vehicle('b', 1, ['in', 'out']), vehicle('c', 2, ['in'])],
  });
  spec.net.junctions.push({ id: 'Z', type: 'priority', x: 0, y: 100, shape: [], yieldsTo: [], foes: [] });
  const e = new Engine(spec);
  const g = buildJunctionGraph(e.net, e.demand);
  checkCsr(g);
  const j = (id: string) => e.net.junctionIds.indexOf(id);
  assert.equal(g.n, 4);
  // B: 500 m of lane drive into it (50) + 3 vehicles use "in"; C: 300 m (30) + 2 use "out"
  assert.equal(g.vertexWeight[j('B')], 50 + 3);
  assert.equal(g.vertexWeight[j('C')], 30 + 2);
  assert.equal(g.vertexWeight[j('A')], 1, 'nothing drives into A: the minimum weight');
  assert.equal(g.vertexWeight[j('Z')], 1);
  assert.equal(g.adjStart[j('Z') + 1]! - g.adjStart[j('Z')]!, 0, 'Z has no neighbours');
  const edge = (a: string, b: string) => {
    for (let i = g.adjStart[j(a)]!; i < g.adjStart[j(a) + 1]!; i++) if (g.adj[i] === j(b)) return g.adjWeight[i];
    return undefined;
  };
  assert.equal(edge('A', 'B'), 1 + 3);
  assert.equal(edge('B', 'C'), 1 + 2);
  assert.equal(edge('A', 'C'), undefined);
});

test('without demand every junction weighs its incoming lane length / 10 and every edge 1', () => {
  const e = new Engine(loadSumoScenario(fixture('grid4')));
  const g = buildJunctionGraph(e.net);
  checkCsr(g);
  for (let v = 0; v < g.n; v++) {
    for (let i = g.adjStart[v]!; i < g.adjStart[v + 1]!; i++) assert.equal(g.adjWeight[i], 1);
  }
});

for (const name of ['grid4', 'spider4', 'rand4']) {
  test(`${name}: junction graph is a valid CSR graph and its weights add up`, () => {
    const e = new Engine(loadSumoScenario(fixture(name)));
    const { net, demand } = e;
    const g = buildJunctionGraph(net, demand);
    checkCsr(g);
    assert.equal(g.n, net.junctionIds.length);
    const trav = edgeTraversals(net, demand);
    // every route edge of every vehicle is counted once
    let expected = 0;
    for (let v = 0; v < demand.count; v++)
      expected += demand.routeStart[demand.route[v]! + 1]! - demand.routeStart[demand.route[v]!]!;
    assert.equal(
      trav.reduce((a, b) => a + b, 0),
      expected,
    );
    // edge weights: one per junction pair plus every traversal of a road between two junctions
    const pairs = new Set<number>();
    let roadTraversals = 0;
    for (let ed = 0; ed < net.edgeCount; ed++) {
      const a = net.edgeFrom[ed]!;
      const b = net.edgeTo[ed]!;
      if (a === b) continue;
      pairs.add(Math.min(a, b) * g.n + Math.max(a, b));
      roadTraversals += trav[ed]!;
    }
    assert.equal(g.adj.length / 2, pairs.size, 'parallel and opposite roads merged');
    assert.equal(g.adjWeight.reduce((a, b) => a + b, 0) / 2, pairs.size + roadTraversals);
  });
}
