/**
 * Prometheus metrics of a run (`GET /metrics`), in their own registry so that tests and several runs in
 * one process do not share counters. Names are `tessds_*`; units are in the names (seconds, bytes).
 * A single-process run fills step, step time, vehicles, commands and checkpoints; a multi-worker master
 * also border traffic, recoveries, lease ages and whether its checkpoint store answers.
 */
import { createRequire } from 'node:module';
import type { Counter, Gauge, Histogram, Registry } from 'prom-client';

// prom-client (with @opentelemetry/api, ~80 files) is required when metrics are made, not imported at
// the top: every run loads this module, few serve metrics, and createMetrics must stay synchronous.
const require = createRequire(import.meta.url);

export interface Metrics {
  registry: Registry;
  /** steps completed (the slowest part's, in a partitioned run) */
  step: Gauge;
  /** wall seconds per simulation step */
  stepSeconds: Histogram;
  running: Gauge;
  arrived: Gauge;
  /** 1 while paused */
  paused: Gauge;
  /** border messages sent, by sending part */
  borderMessages: Counter<'part'>;
  borderBytes: Counter<'part'>;
  /** wall seconds to write one checkpoint */
  checkpointSeconds: Histogram;
  /** lost workers replaced */
  recoveries: Counter;
  /** seconds since a worker last renewed its lease, by worker id */
  leaseAge: Gauge<'worker'>;
  /** commands accepted, by type */
  commands: Counter<'type'>;
  /** 1 while the checkpoint store answers, else 0, by store (no sample: the run has no store) */
  storeUp: Gauge<'store'>;
  /** called before every scrape, to bring figures up to date (set by a backend) */
  beforeScrape?: () => void;
}

export function createMetrics(o: { processMetrics?: boolean } = {}): Metrics {
  const { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } =
    require('prom-client') as typeof import('prom-client');
  const registry = new Registry();
  const registers = [registry];
  if (o.processMetrics) collectDefaultMetrics({ register: registry, prefix: 'tessds_process_' });
  return {
    registry,
    step: new Gauge({ name: 'tessds_step', help: 'Simulation steps completed', registers }),
    stepSeconds: new Histogram({
      name: 'tessds_step_seconds',
      help: 'Wall-clock seconds per simulation step',
      buckets: [0.0001, 0.0003, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1],
      registers,
    }),
    running: new Gauge({ name: 'tessds_running_vehicles', help: 'Vehicles currently in the network', registers }),
    arrived: new Gauge({
      name: 'tessds_arrived_vehicles',
      help: 'Vehicles that reached their destination so far',
      registers,
    }),
    paused: new Gauge({ name: 'tessds_paused', help: '1 while the run is paused, else 0', registers }),
    borderMessages: new Counter({
      name: 'tessds_border_messages_total',
      help: 'Border messages sent between parts, by sending part',
      labelNames: ['part'],
      registers,
    }),
    borderBytes: new Counter({
      name: 'tessds_border_bytes_total',
      help: 'Bytes of border messages sent between parts, by sending part',
      labelNames: ['part'],
      registers,
    }),
    checkpointSeconds: new Histogram({
      name: 'tessds_checkpoint_seconds',
      help: 'Wall-clock seconds to write one checkpoint',
      buckets: [0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10],
      registers,
    }),
    recoveries: new Counter({
      name: 'tessds_recoveries_total',
      help: 'Lost workers replaced during the run',
      registers,
    }),
    leaseAge: new Gauge({
      name: 'tessds_worker_lease_age_seconds',
      help: 'Seconds since each worker last renewed its lease',
      labelNames: ['worker'],
      registers,
    }),
    commands: new Counter({
      name: 'tessds_commands_total',
      help: 'Commands accepted through the control API, by type',
      labelNames: ['type'],
      registers,
    }),
    storeUp: new Gauge({
      name: 'tessds_store_up',
      help: '1 while the checkpoint store answers, else 0 (a worker lost it and none reached it again yet)',
      labelNames: ['store'],
      registers,
    }),
  };
}
