/**
 * The status object of DESIGN.md — `{ step, state, workers: [{ id, pid, host, parts, step, state }],
 * leader }` — kept current and rewritten to a file at least once a second (atomically: write then
 * rename, so a reader never sees half a file). The same object is what `GET /api/status` serves.
 */
import { renameSync, writeFileSync } from 'node:fs';

export interface WorkerStatus {
  id: number;
  pid: number;
  host: string;
  parts: number[];
  step: number;
  state: 'starting' | 'running' | 'finished' | 'failed';
}

export interface RunStatus {
  step: number;
  state: 'starting' | 'running' | 'finished' | 'failed';
  workers: WorkerStatus[];
  leader: { pid: number; host: string; epoch: number };
}

export class StatusWriter {
  readonly status: RunStatus = { step: 0, state: 'starting', workers: [], leader: { pid: process.pid, host: '', epoch: 0 } };
  private timer?: NodeJS.Timeout;
  private lastWrite = 0;

  constructor(private readonly file?: string) {
    if (file) this.timer = setInterval(() => this.write(), 500);
  }

  update(patch: Partial<RunStatus>): void {
    Object.assign(this.status, patch);
    if (this.file && Date.now() - this.lastWrite > 200) this.write();
  }

  close(): void {
    if (this.timer) clearInterval(this.timer);
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
