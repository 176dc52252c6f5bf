/**
 * Counter-based randomness (DESIGN.md): a draw is a pure hash of (seed, entity, step, purpose), never
 * a stream shared by many entities, so the result does not depend on which process draws it or in
 * which order. The mixer is SplitMix32-style finalisation applied to each word in turn.
 */

function mix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** 32-bit hash of four integers. */
export function hash4(seed: number, entity: number, step: number, purpose: number): number {
  let h = mix32(seed ^ 0x9e3779b9);
  h = mix32(h ^ Math.imul(entity | 0, 0x27d4eb2f));
  h = mix32(h ^ Math.imul(step | 0, 0x165667b1));
  h = mix32(h ^ Math.imul(purpose | 0, 0x61c88647));
  return h;
}

/** The part of `hash4` that depends on (seed, entity) only: kept per entity, a draw per step mixes half as much. */
export function hashPrefix(seed: number, entity: number): number {
  return mix32(mix32(seed ^ 0x9e3779b9) ^ Math.imul(entity | 0, 0x27d4eb2f)) | 0;
}

/** `uniform(seed, entity, step, purpose)` from `hashPrefix(seed, entity)`: the same number. */
export function uniformFrom(prefix: number, step: number, purpose: number): number {
  // the two mix32 rounds written out: a smaller function, which V8 inlines into the car-following loop
  let h = prefix ^ Math.imul(step | 0, 0x165667b1);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  h = h ^ (h >>> 16) ^ Math.imul(purpose | 0, 0x61c88647);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** Uniform in [0, 1) from (seed, entity, step, purpose). */
export function uniform(seed: number, entity: number, step: number, purpose: number): number {
  return hash4(seed, entity, step, purpose) / 4294967296;
}

/** Purposes: one constant per kind of draw, so draws for different decisions never coincide. */
export const Purpose = {
  flowProbability: 1,
  departLane: 2,
  departPos: 3,
  departSpeed: 4,
  arrivalPos: 5,
  /** Krauss σ dawdling: one draw per vehicle (demand index) and step */
  dawdle: 16,
  /** a vehicle's speed factor: draws 0, 1, … per demand index (the step slot counts the attempts) */
  speedFactor: 17,
  // demand (sim/demand.ts): per vehicle, or per flow and vehicle number (+ 1000)
  vTypeChoice: 21,
  routeChoice: 22,
  arrivalLane: 23,
  flowExp: 24,
  /** departPos random_free: the k-th of ten positions tried in a step (step · 16 + k) */
  departPosFree: 25,
} as const;
