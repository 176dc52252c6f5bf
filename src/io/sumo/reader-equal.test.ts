import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import { withFullXmlParser } from '../xml.js';
import { loadSumoScenario } from './config.js';

const FIXTURES = fileURLToPath(new URL('../../../../test/fixtures', import.meta.url));
/** The shared real networks of the benchmarks, where this machine has them (not part of CI). */
const REAL =
  process.env.TESSDS_REAL_SCENARIOS ?? fileURLToPath(new URL('../../../../../shared/scenarios/real', import.meta.url));

function configs(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? configs(join(dir, e.name)) : e.name.endsWith('.sumocfg') ? [join(dir, e.name)] : [],
  );
}

function sameScenario(cfg: string): void {
  const scanned = loadSumoScenario(cfg);
  const full = withFullXmlParser(() => loadSumoScenario(cfg));
  assert.ok(isDeepStrictEqual(scanned, full), `${cfg}: the scenario differs between the two XML readers`);
}

test('every CI fixture scenario reads the same with the scanner as with the full parser alone', () => {
  const cfgs = configs(FIXTURES);
  assert.ok(cfgs.length >= 8, `found only ${cfgs.length} scenarios`);
  cfgs.forEach(sameScenario);
});

test('so do the shared real scenarios', { skip: !existsSync(REAL) && 'no shared real scenarios here' }, () => {
  configs(REAL).forEach(sameScenario);
});
