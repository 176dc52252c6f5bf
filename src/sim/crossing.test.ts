import { test } from 'node:test';
import assert from 'node:assert/strict';
import { foeClearPosition, lastCrossingAlong, shapeLength } from './crossing.js';

test('a path crossing a straight foe lane: the distance along the foe, by hand', () => {
  // foe from (0,0) east to (20,0); path from (8,-5) north to (8,5): crosses at 8 m
  assert.equal(lastCrossingAlong([0, 0, 20, 0], [8, -5, 8, 5]), 8);
  // a bent path crossing twice (x = 4 going up, x = 12 coming down): the last crossing along the foe
  assert.equal(lastCrossingAlong([0, 0, 20, 0], [4, -5, 4, 5, 12, 5, 12, -5]), 12);
  assert.equal(lastCrossingAlong([0, 0, 20, 0], [0, 5, 20, 5]), -1); // parallel
  assert.equal(lastCrossingAlong([0, 0, 20, 0], [25, -5, 25, 5]), -1); // beyond its end
  assert.equal(shapeLength([0, 0, 3, 4, 3, 10]), 11);
});

test('a foe is past the crossing once its back is the half width beyond it and a width further', () => {
  // crossing at 8 m along a 20 m shape of a 20 m lane, width 3.2: 8 - 1.6 + 3.2
  assert.ok(Math.abs(foeClearPosition([0, 0, 20, 0], 20, [8, -5, 8, 5], 3.2) - 9.6) < 1e-9);
  // the lane is 10% longer than its shape: geometric positions scale (SUMO interpolateGeometryPosToLanePos)
  assert.ok(Math.abs(foeClearPosition([0, 0, 20, 0], 22, [8, -5, 8, 5], 3.2) - (6.4 * 1.1 + 3.2)) < 1e-9);
  // a crossing within the half width of the foe's start clamps to its start
  assert.equal(foeClearPosition([0, 0, 20, 0], 20, [1, -5, 1, 5], 3.2), 3.2);
  // shapes that do not cross: every foe vehicle counts as past (SUMO's crossing at -10000 m)
  assert.equal(foeClearPosition([0, 0, 20, 0], 20, [0, 5, 20, 5], 3.2), -Infinity);
});
