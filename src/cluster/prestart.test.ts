/**
 * What a pre-started worker reads from its stdin (prestart.ts): an optional preload line, megabytes
 * long and cut anywhere by the pipe, then the master's address.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { readMasterAddress } from './prestart.js';

test('a preload line cut into pieces is handed over whole, then the address resolves', async () => {
  const input = new PassThrough();
  const preloads: unknown[] = [];
  const address = readMasterAddress((p) => preloads.push(p), input);
  const preload = { digest: 'd-1', file: '/tmp/x.json', filler: 'x'.repeat(200_000) };
  const text = `${JSON.stringify({ preload })}\n127.0.0.1:4567\n`;
  // cut at odd places: inside the JSON, right at the newline, inside the address
  const cuts = [0, 7, 65_536, 131_071, text.indexOf('\n'), text.indexOf('\n') + 1, text.length - 3, text.length];
  for (let i = 1; i < cuts.length; i++) input.write(text.slice(cuts[i - 1], cuts[i]));
  assert.equal(await address, '127.0.0.1:4567');
  assert.deepEqual(preloads, [preload]);
});

test('an address without a preload, and stdin closing first', async () => {
  const a = new PassThrough();
  const got = readMasterAddress(undefined, a);
  a.end('10.0.0.2:80\n');
  assert.equal(await got, '10.0.0.2:80');

  const b = new PassThrough();
  const preloads: unknown[] = [];
  const none = readMasterAddress((p) => preloads.push(p), b);
  b.end(`${JSON.stringify({ preload: { digest: 'd', file: 'f' } })}\n`);
  assert.equal(await none, undefined, 'the master went away after the preload: no address');
  assert.equal(preloads.length, 1);
});
