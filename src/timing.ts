/**
 * Where a run's time goes, for benchmarks and diagnosis: with TESSDS_TIMING set, processes write
 * `[timing] …` lines to stderr (bench/cluster.ts reads them). Off, it costs one call to a no-op.
 */
const on = !!process.env.TESSDS_TIMING;

export function timing(message: () => string): void {
  if (on) process.stderr.write(`[timing] ${message()}\n`);
}

/** ms since this process started, for timing lines */
export function sinceStart(): string {
  return `${performance.now().toFixed(0)} ms`;
}
