import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parsePrometheusText } from './prom-text.js';

test('sample values: numbers, and NaN / ±Inf in any case as Prometheus reads them (prom-client writes "Nan")', () => {
  const text = [
    '# TYPE a gauge',
    'a{k="nan"} Nan',
    'a{k="NaN"} NaN',
    'a{k="inf"} +Inf',
    'a{k="-inf"} -inf',
    'a{k="num"} 1.5e3',
    '',
  ].join('\n');
  const samples = parsePrometheusText(text).get('a')!.samples;
  assert.ok(Number.isNaN(samples[0]!.value) && Number.isNaN(samples[1]!.value));
  assert.deepEqual(
    samples.slice(2).map((s) => s.value),
    [Infinity, -Infinity, 1500],
  );
});

test('anything else is refused with its line', () => {
  assert.throws(() => parsePrometheusText('# TYPE a gauge\na 12abc\n'), /line 2: bad sample value "12abc"/);
  assert.throws(() => parsePrometheusText('# TYPE a gauge\na nanx\n'), /line 2: bad sample value "nanx"/);
  assert.throws(() => parsePrometheusText('b 1\n'), /line 1/);
});
