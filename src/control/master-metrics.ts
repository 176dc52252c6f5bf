/**
 * Prometheus metrics of a `tessds master` (`GET /metrics` on its --http port), in their own registry.
 * The leader fills the per-plan figures of every plan it coordinates, read at each scrape from its
 * plan runs; a standby (or a master between terms) has none of them, only `tessds_master_leading 0`
 * and the counters it kept from terms it led.
 *
 *   tessds_master_leading                         1 while this master leads, else 0
 *   tessds_store_up{store}                        1 while the store answers this master, else 0
 *   tessds_step{plan}                             steps completed (the slowest slot's)
 *   tessds_paused{plan}                           1 while the plan is paused
 *   tessds_recoveries_total{plan}                 lost workers replaced (carried over between leaders)
 *   tessds_worker_last_heard_seconds{plan,worker} seconds since the leader last heard from the worker
 *   tessds_commands_total{plan,type}              commands this master accepted, by type
 */
import { Counter, Gauge, Registry } from 'prom-client';
import type { PlanFigures } from '../cluster/distributed/master-view.js';

export interface MasterMetrics {
  registry: Registry;
  /** commands accepted, by plan and type (incremented by the command route) */
  commands: Counter<'plan' | 'type'>;
}

/** `figures` is read at every scrape: undefined while this master does not lead; so is `store`. */
export function createMasterMetrics(
  figures: () => PlanFigures[] | undefined,
  store?: () => { url: string; up: boolean },
): MasterMetrics {
  const registry = new Registry();
  const registers = [registry];
  if (store) {
    new Gauge({
      name: 'tessds_store_up',
      help: '1 while the store answers, else 0 (it went down and did not come back yet)',
      labelNames: ['store'],
      registers,
      collect() {
        const s = store();
        this.reset();
        this.set({ store: s.url }, s.up ? 1 : 0);
      },
    });
  }
  new Gauge({
    name: 'tessds_master_leading',
    help: '1 while this master leads, else 0',
    registers,
    collect() {
      this.set(figures() ? 1 : 0);
    },
  });
  new Gauge({
    name: 'tessds_step',
    help: 'Simulation steps completed, by plan',
    labelNames: ['plan'],
    registers,
    collect() {
      this.reset();
      for (const f of figures() ?? []) this.set({ plan: f.plan }, f.step);
    },
  });
  new Gauge({
    name: 'tessds_paused',
    help: '1 while the plan is paused, else 0',
    labelNames: ['plan'],
    registers,
    collect() {
      this.reset();
      for (const f of figures() ?? []) this.set({ plan: f.plan }, f.paused ? 1 : 0);
    },
  });
  new Counter({
    name: 'tessds_recoveries_total',
    help: 'Lost workers replaced during the run, by plan',
    labelNames: ['plan'],
    registers,
    collect() {
      this.reset();
      for (const f of figures() ?? []) this.inc({ plan: f.plan }, f.recoveries);
    },
  });
  new Gauge({
    name: 'tessds_worker_last_heard_seconds',
    help: 'Seconds since the leader last heard from each worker hosting the plan',
    labelNames: ['plan', 'worker'],
    registers,
    collect() {
      this.reset();
      for (const f of figures() ?? [])
        for (const [w, s] of f.lastHeardSeconds) this.set({ plan: f.plan, worker: String(w) }, s);
    },
  });
  const commands = new Counter({
    name: 'tessds_commands_total',
    help: 'Commands this master accepted through its control API, by plan and type',
    labelNames: ['plan', 'type'],
    registers,
  });
  return { registry, commands };
}
