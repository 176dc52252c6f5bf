/**
 * An indexed max-heap of vertices keyed by gain, as FM refinement needs: insert, change a key, remove
 * any vertex, take the best. Equal keys go to the smaller vertex index, so the order of moves (and the
 * partition) never depends on insertion history.
 */
export class GainHeap {
  private readonly heap: Int32Array;
  /** position of a vertex in `heap`, -1 when absent */
  private readonly pos: Int32Array;
  private readonly key: Float64Array;
  private size = 0;

  constructor(capacity: number) {
    this.heap = new Int32Array(capacity);
    this.pos = new Int32Array(capacity).fill(-1);
    this.key = new Float64Array(capacity);
  }

  get length(): number {
    return this.size;
  }

  has(v: number): boolean {
    return this.pos[v]! >= 0;
  }

  /** The best vertex, or -1 when empty. */
  top(): number {
    return this.size > 0 ? this.heap[0]! : -1;
  }

  topKey(): number {
    return this.size > 0 ? this.key[this.heap[0]!]! : -Infinity;
  }

  /** Insert v, or change its key if it is already in. */
  set(v: number, k: number): void {
    const p = this.pos[v]!;
    if (p < 0) {
      this.key[v] = k;
      this.heap[this.size] = v;
      this.pos[v] = this.size++;
      this.up(this.size - 1);
    } else {
      const old = this.key[v]!;
      this.key[v] = k;
      if (k > old) this.up(p);
      else this.down(p);
    }
  }

  remove(v: number): void {
    const p = this.pos[v]!;
    if (p < 0) return;
    this.pos[v] = -1;
    const last = this.heap[--this.size]!;
    if (p === this.size) return;
    this.heap[p] = last;
    this.pos[last] = p;
    this.up(p);
    this.down(this.pos[last]!);
  }

  pop(): number {
    const v = this.top();
    if (v >= 0) this.remove(v);
    return v;
  }

  /** Empty the heap in O(size), not O(capacity): it is reused every pass. */
  clear(): void {
    for (let i = 0; i < this.size; i++) this.pos[this.heap[i]!] = -1;
    this.size = 0;
  }

  private better(a: number, b: number): boolean {
    const ka = this.key[a]!;
    const kb = this.key[b]!;
    return ka > kb || (ka === kb && a < b);
  }

  private up(i: number): void {
    const h = this.heap;
    const v = h[i]!;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const p = h[parent]!;
      if (!this.better(v, p)) break;
      h[i] = p;
      this.pos[p] = i;
      i = parent;
    }
    h[i] = v;
    this.pos[v] = i;
  }

  private down(i: number): void {
    const h = this.heap;
    const v = h[i]!;
    for (;;) {
      let c = 2 * i + 1;
      if (c >= this.size) break;
      if (c + 1 < this.size && this.better(h[c + 1]!, h[c]!)) c++;
      const child = h[c]!;
      if (!this.better(child, v)) break;
      h[i] = child;
      this.pos[child] = i;
      i = c;
    }
    h[i] = v;
    this.pos[v] = i;
  }
}
