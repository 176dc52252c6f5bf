/**
 * Structured logs for fluentd/Elasticsearch: one JSON object per line (pino), with `time` in ISO 8601,
 * `level` as a word, and base fields `plan`, `worker`, `part` plus the current `step` on every line.
 *
 * `tessds run` keeps the terminal for its progress line and report, so it logs only when asked:
 * `--log-file FILE` appends JSON lines to FILE, `--log-json` writes them to stderr. The level comes from
 * `--log-level` or the environment variable TESSDS_LOG_LEVEL (default info).
 */
import { createRequire } from 'node:module';
import type { LogFn, Logger as PinoLogger } from 'pino';
import { UsageError } from '../errors.js';
import type { WorkerLogFactory } from '../cluster/protocol.js';

// pino (~30 files) is required only when logging is on: most runs log nothing, and createLogger is
// synchronous.
const require = createRequire(import.meta.url);

/** What TessDS logs with: pino's methods by level. */
export type Logger = Pick<PinoLogger, 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'>;

const ignore: LogFn = () => undefined;
const SILENT: Logger = { fatal: ignore, error: ignore, warn: ignore, info: ignore, debug: ignore, trace: ignore };

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace'] as const;

export interface LogOptions {
  /** append JSON lines to this file */
  file?: string;
  /** JSON lines to stderr (ignored when `file` is given) */
  json?: boolean;
  /** default: TESSDS_LOG_LEVEL, else info */
  level?: string;
  plan?: string;
  worker?: number;
  part?: number;
  /** read for every line: the step to stamp it with */
  step?: () => number;
}

/** A logger as configured; with neither `file` nor `json` it is silent (and costs nothing). */
export function createLogger(o: LogOptions = {}): Logger {
  const enabled = o.file !== undefined || o.json === true;
  const level = o.level ?? process.env.TESSDS_LOG_LEVEL ?? 'info';
  if ((enabled || o.level !== undefined) && !(LOG_LEVELS as readonly string[]).includes(level)) {
    throw new UsageError(
      `${o.level !== undefined ? '--log-level' : 'TESSDS_LOG_LEVEL'} must be one of ${LOG_LEVELS.join(', ')}, got "${level}"`,
    );
  }
  if (!enabled) return SILENT;
  const { pino } = require('pino') as typeof import('pino');
  const base: Record<string, unknown> = { pid: process.pid };
  if (o.plan !== undefined) base.plan = o.plan;
  if (o.worker !== undefined) base.worker = o.worker;
  if (o.part !== undefined) base.part = o.part;
  // synchronous writes: the CLI exits right after a run and must not lose its last lines
  const dest =
    o.file !== undefined
      ? pino.destination({ dest: o.file, sync: true, mkdir: true, append: true })
      : pino.destination({ dest: 2, sync: true });
  const step = o.step;
  return pino(
    {
      level,
      base,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      ...(step ? { mixin: () => ({ step: step() }) } : {}),
    },
    dest,
  );
}

/** The worker processes' loggers (handed down to the cluster layer): same destination as the run's. */
export function workerLogFactory(): WorkerLogFactory {
  return (cfg, worker, step) =>
    createLogger({ file: cfg.file, json: cfg.json, level: cfg.level, plan: cfg.plan, worker, step });
}
