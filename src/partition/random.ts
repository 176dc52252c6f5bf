/**
 * Seeded randomness for the partitioner. Only visit orders are random (as in METIS); the generator is a
 * pure function of the seed, so a partition is a pure function of (graph, k, options).
 */

/** mulberry32: small, fast, and good enough to shuffle visit orders. */
export function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
}

export type Rng = ReturnType<typeof rng>;

/** A random permutation of 0..n-1 (Fisher–Yates). */
export function permutation(n: number, next: Rng): Int32Array {
  const p = new Int32Array(n);
  for (let i = 0; i < n; i++) p[i] = i;
  for (let i = n - 1; i > 0; i--) {
    const j = next() % (i + 1);
    const t = p[i]!;
    p[i] = p[j]!;
    p[j] = t;
  }
  return p;
}
