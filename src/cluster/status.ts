/**
 * The status object of DESIGN.md — `{ step, state, workers: [{ id, pid, host, parts, step, state }],
 * leader }` plus what operators and the chaos tool need (recoveries, the committed checkpoint, a
 * timeline of events) — kept current and rewritten to a file at least once a second (atomically:
 * write then rename, so a reader never sees half a file). The same object is what `GET /api/status`
 * serves.
 */
import { renameSync, writeFileSync } from 'node:fs';

export const WorkerState = ['starting', 'running', 'lost', 'recovering', 'finished', 'failed'] as const;
export type WorkerState = (typeof WorkerState)[number];

export interface WorkerStatus {
  id: number;
  pid: number;
  host: string;
  parts: number[];
  /** the slowest hosted part's completed steps */
  step: number;
  state: WorkerState;
  /** ms since the master last heard from the worker */
  heartbeatAgeMs?: number;
}

export type RunEventType =
  | 'worker-lost'
  | 'worker-recovered'
  | 'checkpoint'
  | 'command'
  | 'leader'
  | 'store-down'
  | 'store-up'
  | 'paused'
  | 'resumed';

/** One entry of the run's timeline. */
export interface RunEvent {
  /** ms since the epoch */
  at: number;
  type: RunEventType;
  worker?: number;
  pid?: number;
  step?: number;
  /** free text, or JSON for machine readers (worker-recovered: {"replayedSteps": n, "lostAt": ms}) */
  detail?: string;
}

export interface RunStatus {
  plan?: string;
  step: number;
  state: 'starting' | 'running' | 'paused' | 'finished' | 'failed';
  workers: WorkerStatus[];
  leader: { pid: number; host: string; epoch: number };
  /** lost workers replaced so far */
  recoveries?: number;
  /** step of the last checkpoint every part has written (0: none) */
  committedCheckpoint?: number;
  /** the last events, oldest first (at most MAX_EVENTS) */
  events?: RunEvent[];
  /** set when the run failed */
  error?: string;
}

const MAX_EVENTS = 500;

export class StatusWriter {
  readonly status: RunStatus = {
    step: 0,
    state: 'starting',
    workers: [],
    leader: { pid: process.pid, host: '', epoch: 0 },
    events: [],
  };
  private timer?: NodeJS.Timeout;
  private lastWrite = 0;
  /** called after every update (e.g. to mirror the status into the store) */
  onUpdate?: (s: RunStatus) => void;

  constructor(private readonly file?: string) {
    if (file) this.timer = setInterval(() => this.write(), 400);
  }

  update(patch: Partial<RunStatus>): void {
    Object.assign(this.status, patch);
    if (this.file && Date.now() - this.lastWrite > 200) this.write();
    this.onUpdate?.(this.status);
  }

  /** Records an event that happens now, or at `at` (one noticed elsewhere, reported a little later). */
  event(e: Omit<RunEvent, 'at'> & { at?: number }): void {
    const events = (this.status.events ??= []);
    const { at, ...rest } = e;
    insertByTime(events, { at: at ?? Date.now(), ...rest });
    if (events.length > MAX_EVENTS) events.splice(0, events.length - MAX_EVENTS);
    this.write();
    this.onUpdate?.(this.status);
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
    this.write();
  }

  /** Writes the file now (an event: readers time failures by it). */
  flush(): void {
    this.write();
  }

  private write(): void {
    if (!this.file) return;
    const tmp = `${this.file}.tmp`;
    writeFileSync(tmp, JSON.stringify(this.status, null, 2) + '\n');
    renameSync(tmp, this.file);
    this.lastWrite = Date.now();
  }
}

/** Inserts `e` into `events` (oldest first) at its time: an event may be recorded after later ones. */
export function insertByTime(events: RunEvent[], e: RunEvent): void {
  let i = events.length;
  while (i > 0 && events[i - 1]!.at > e.at) i--;
  events.splice(i, 0, e);
}
