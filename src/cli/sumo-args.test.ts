/**
 * SUMO's command line as clients pass it (traci.start, sumo-rl): aliases, `--name=value`, booleans
 * alone or with a value, negative numbers as values, unknown options as warnings.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../errors.js';
import { parseSumoArgs, sumoHelp, SUMO_OPTIONS } from './sumo-args.js';

test('what traci.start and sumo-rl pass', () => {
  const a = parseSumoArgs([
    '-n',
    'net.net.xml',
    '-r',
    'a.rou.xml,b.rou.xml',
    '--max-depart-delay',
    '100000',
    '--waiting-time-memory',
    '10000',
    '--time-to-teleport',
    '-1',
    '--no-step-log',
    '--random',
    '--remote-port',
    '51234',
    '--num-clients',
    '1',
    '-W',
    '--begin=25200',
    '--end',
    '28800',
    '--step-length',
    '0.5',
  ]);
  assert.equal(a.netFile, 'net.net.xml');
  assert.deepEqual(a.routeFiles, ['a.rou.xml', 'b.rou.xml']);
  assert.equal(a.timeToTeleport, -1);
  assert.equal(a.random, true);
  assert.equal(a.remotePort, 51234);
  assert.equal(a.noWarnings, true);
  assert.equal(a.begin, 25200);
  assert.equal(a.end, 28800);
  assert.equal(a.stepLength, 0.5);
  // the unknown option and its value: one warning, the value not taken for a config file
  assert.deepEqual(a.warnings, ['option --max-depart-delay is not supported by tessds-sumo; ignored']);
  assert.equal(a.configFile, undefined);
});

test('booleans alone or with a value; the lone argument is the config', () => {
  assert.equal(parseSumoArgs(['--no-warnings', 'false', 'x.sumocfg']).noWarnings, false);
  assert.equal(parseSumoArgs(['--no-warnings', 'false', 'x.sumocfg']).configFile, 'x.sumocfg');
  assert.equal(parseSumoArgs(['--random=true']).random, true);
  assert.equal(parseSumoArgs(['-c', 'a.sumocfg', '--start', '--quit-on-end']).configFile, 'a.sumocfg');
});

test('bad values are UsageErrors naming the option', () => {
  assert.throws(
    () => parseSumoArgs(['--seed', '1.5']),
    (e: Error) => e instanceof UsageError && /--seed/.test(e.message),
  );
  assert.throws(() => parseSumoArgs(['--remote-port', '70000']), /--remote-port: 70000 is not a TCP port/);
  assert.throws(() => parseSumoArgs(['--end', 'soon']), /--end: "soon" is not a number/);
  assert.throws(() => parseSumoArgs(['-c']), /-c needs a value/);
  assert.throws(() => parseSumoArgs(['--random=maybe']), /--random: "maybe" is not true or false/);
});

test('--help lists every option', () => {
  const help = sumoHelp();
  for (const o of SUMO_OPTIONS) for (const n of o.names) assert.ok(help.includes(n), n);
});
