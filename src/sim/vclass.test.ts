import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALL_CLASSES, permissionMask, permits, vClassMask, VCLASSES } from './vclass.js';

test('allow lists only the named classes; disallow everything but them; neither: all', () => {
  const sidewalk = permissionMask(['pedestrian'], undefined);
  assert.equal(permits(sidewalk, vClassMask('pedestrian')), true);
  assert.equal(permits(sidewalk, vClassMask('passenger')), false);
  const noTrucks = permissionMask(undefined, ['truck', 'trailer']);
  assert.equal(permits(noTrucks, vClassMask('truck')), false);
  assert.equal(permits(noTrucks, vClassMask('bus')), true);
  assert.equal(permissionMask(undefined, undefined), ALL_CLASSES);
  assert.equal(permissionMask(['all'], undefined), ALL_CLASSES);
});

test('unknown names are reported, not silently allowed', () => {
  const unknown: string[] = [];
  const m = permissionMask(['bus', 'hovercraft'], undefined, unknown);
  assert.deepEqual(unknown, ['hovercraft']);
  assert.equal(m, vClassMask('bus'));
  assert.equal(vClassMask('hovercraft'), 0);
});

test('every class has its own bit; ignoring may use any lane', () => {
  const bits = new Set(VCLASSES.map((c) => vClassMask(c)));
  assert.equal(bits.size, VCLASSES.length);
  assert.equal(permits(permissionMask(['pedestrian'], undefined), vClassMask('ignoring')), true);
});
