/**
 * Checkpoint commits, shared by the embedded master and the distributed leader: checkpoint c is
 * committed once every part has written it (DESIGN.md "Fault tolerance"), and then the checkpoints
 * older than c are deleted (R11). Key layout of checkpoints in a plan's store: checkpointKey below.
 */
import type { Store } from './store/store.js';

/** The store key of part `part`'s checkpoint at `step`. */
export function checkpointKey(step: number, part: number): string {
  return `checkpoint/${String(step).padStart(9, '0')}/part-${part}`;
}

/** The step and part of a checkpoint key, or undefined for other keys. */
export function parseCheckpointKey(k: string): { step: number; part: number } | undefined {
  const m = /^checkpoint\/(\d+)\/part-(\d+)$/.exec(k);
  return m ? { step: Number(m[1]), part: Number(m[2]) } : undefined;
}

/** Which parts wrote which checkpoint; the newest one all parts wrote is the committed one. */
export class CheckpointCommits {
  /** checkpoint step → parts that wrote it (only steps above `committed`) */
  private readonly written = new Map<number, Set<number>>();

  constructor(
    private readonly parts: number,
    /** the committed checkpoint's step (0: none) */
    public committed = 0,
  ) {}

  /** Notes that `part` wrote checkpoint `step`; true when that commits `step`. */
  note(part: number, step: number): boolean {
    if (step <= this.committed) return false;
    let set = this.written.get(step);
    if (!set) this.written.set(step, (set = new Set()));
    set.add(part);
    if (set.size < this.parts) return false;
    this.committed = step;
    for (const k of [...this.written.keys()]) if (k <= step) this.written.delete(k);
    return true;
  }
}

/**
 * R11: deletes the checkpoints older than `step` (committed) from a plan's store. Only ever below a
 * committed step, so even a late call from a deposed master cannot remove one still needed. A failed
 * clean-up is left for the next commit.
 */
export function deleteCheckpointsBefore(store: Store, step: number): void {
  store
    .list('checkpoint/')
    .then((keys) => store.delete(keys.filter((k) => (parseCheckpointKey(k)?.step ?? Infinity) < step)))
    .catch(() => undefined);
}
