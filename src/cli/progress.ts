/**
 * A one-line progress display on a terminal: simulation time, steps per second, running vehicles,
 * ETA. Silent when stderr is not a terminal (CI logs, pipes), so outputs stay clean.
 */
export class Progress {
  private lastDraw = 0;
  private readonly started = performance.now();
  private readonly enabled: boolean;

  constructor(
    private readonly totalSteps: number | undefined,
    enabled = process.stderr.isTTY === true,
  ) {
    this.enabled = enabled;
  }

  update(step: number, simTime: number, running: number, arrived: number): void {
    if (!this.enabled) return;
    const now = performance.now();
    if (now - this.lastDraw < 200) return;
    this.lastDraw = now;
    const elapsed = (now - this.started) / 1000;
    const rate = step / Math.max(elapsed, 1e-9);
    let eta = '';
    if (this.totalSteps !== undefined && rate > 0) {
      const left = Math.max(0, this.totalSteps - step) / rate;
      eta = `  ETA ${formatDuration(left)}`;
      const pct = ((100 * step) / Math.max(1, this.totalSteps)).toFixed(0).padStart(3);
      eta = `  ${pct}%${eta}`;
    }
    process.stderr.write(
      `\r\x1b[2Kt=${simTime.toFixed(1)}s  step ${step}${this.totalSteps !== undefined ? `/${this.totalSteps}` : ''}` +
        `  ${formatRate(rate)} steps/s  ${running} running  ${arrived} arrived${eta}`,
    );
  }

  done(): void {
    if (this.enabled) process.stderr.write('\r\x1b[2K');
  }
}

function formatRate(r: number): string {
  return r >= 1000 ? `${(r / 1000).toFixed(1)}k` : r.toFixed(0);
}

export function formatDuration(s: number): string {
  const m = Math.floor(s / 60);
  const sec = Math.floor(s % 60);
  return `${m}:${String(sec).padStart(2, '0')}`;
}
