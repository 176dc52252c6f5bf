import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashPrefix, uniform, uniformFrom } from './rng.js';

test('a draw from the kept (seed, entity) prefix is the very number uniform draws', () => {
  // seeds and entities across the sign bit and beyond the ones a test scenario uses
  for (const seed of [0, 1, 42, 0x7fffffff, 0xffffffff, -5])
    for (const entity of [0, 1, 7, 3030, 1 << 20, 0x7fffffff])
      for (const step of [0, 1, 359, 3600, 1 << 24])
        for (const purpose of [1, 16, 25]) {
          const got = uniformFrom(hashPrefix(seed, entity), step, purpose);
          assert.equal(got, uniform(seed, entity, step, purpose), `seed ${seed} entity ${entity} step ${step}`);
        }
});

test('the draws spread over [0, 1) (a prefix that dropped the entity would repeat them)', () => {
  const seen = new Set<number>();
  for (let entity = 0; entity < 1000; entity++) seen.add(uniformFrom(hashPrefix(42, entity), 7, 16));
  assert.equal(seen.size, 1000);
});
