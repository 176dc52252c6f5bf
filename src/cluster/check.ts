/**
 * The debug checks of a partitioned run (`--check`): after every step, every part reports the
 * vehicles it holds (including those it sent and that are not yet received) and its counters; once
 * all parts reported a step, no vehicle may be held twice and inserted = running + arrived.
 */
export class CheckCollector {
  private readonly steps = new Map<
    number,
    { parts: number; ids: Int32Array[]; inserted: number; arrived: number; running: number }
  >();

  constructor(private readonly parts: number) {}

  /** Adds one part's report; returns a description of the first violation found, if any. */
  add(payload: Buffer): string | undefined {
    const step = payload.readInt32LE(4);
    const n = payload.readInt32LE(20);
    const ids = new Int32Array(n);
    for (let i = 0; i < n; i++) ids[i] = payload.readInt32LE(24 + 4 * i);
    let s = this.steps.get(step);
    if (!s) this.steps.set(step, (s = { parts: 0, ids: [], inserted: 0, arrived: 0, running: 0 }));
    s.parts++;
    s.ids.push(ids);
    s.inserted += payload.readInt32LE(8);
    s.arrived += payload.readInt32LE(12);
    s.running += payload.readInt32LE(16);
    if (s.parts < this.parts) return undefined;
    this.steps.delete(step);
    const all = new Int32Array(s.ids.reduce((a, x) => a + x.length, 0));
    let o = 0;
    for (const x of s.ids) {
      all.set(x, o);
      o += x.length;
    }
    all.sort();
    for (let i = 1; i < all.length; i++)
      if (all[i] === all[i - 1]) return `step ${step}: vehicle ${all[i]} is held by two parts`;
    if (s.inserted !== s.running + s.arrived)
      return `step ${step}: inserted ${s.inserted} ≠ running ${s.running} + arrived ${s.arrived}`;
    if (all.length !== s.running)
      return `step ${step}: ${all.length} vehicles held but ${s.running} counted as running`;
    return undefined;
  }
}
