import test from 'node:test';
import assert from 'node:assert/strict';
import { createMasterMetrics } from './master-metrics.js';
import type { PlanFigures } from '../cluster/distributed/master-view.js';
import { parsePrometheusText } from './prom-text.js';

test("master metrics: the leader's plan figures per plan; none when not leading", async () => {
  let figures: PlanFigures[] | undefined = [
    { plan: 'a', step: 42, recoveries: 2, paused: true, lastHeardSeconds: new Map([[3, 0.25]]) },
    { plan: 'b', step: 7, recoveries: 0, paused: false, lastHeardSeconds: new Map() },
  ];
  let store = { url: 'redis://db:6379', up: true };
  const m = createMasterMetrics(
    () => figures,
    () => store,
  );
  m.commands.inc({ plan: 'a', type: 'pause' });
  const fams = parsePrometheusText(await m.registry.metrics());
  const value = (name: string, labels: Record<string, string>) =>
    fams.get(name)?.samples.find((s) => Object.entries(labels).every(([k, v]) => s.labels[k] === v))?.value;
  assert.equal(value('tessds_master_leading', {}), 1);
  assert.equal(value('tessds_step', { plan: 'a' }), 42);
  assert.equal(value('tessds_step', { plan: 'b' }), 7);
  assert.equal(value('tessds_paused', { plan: 'a' }), 1);
  assert.equal(value('tessds_paused', { plan: 'b' }), 0);
  assert.equal(value('tessds_recoveries_total', { plan: 'a' }), 2);
  assert.equal(value('tessds_worker_last_heard_seconds', { plan: 'a', worker: '3' }), 0.25);
  assert.equal(value('tessds_commands_total', { plan: 'a', type: 'pause' }), 1);
  assert.equal(value('tessds_store_up', { store: 'redis://db:6379' }), 1);

  figures = undefined; // leadership lost: the plan figures go, the counters of commands stay
  const after = parsePrometheusText(await m.registry.metrics());
  const samples = (name: string) => after.get(name)?.samples ?? [];
  assert.equal(samples('tessds_master_leading')[0]?.value, 0);
  assert.equal(samples('tessds_step').length, 0);
  assert.equal(samples('tessds_paused').length, 0);
  assert.equal(samples('tessds_recoveries_total').length, 0);
  assert.equal(samples('tessds_commands_total').length, 1);

  store = { ...store, up: false }; // leading or not, a master says whether the store answers it
  const down = parsePrometheusText(await m.registry.metrics());
  assert.deepEqual(
    down.get('tessds_store_up')?.samples.map((s) => [s.labels.store, s.value]),
    [['redis://db:6379', 0]],
  );
});
