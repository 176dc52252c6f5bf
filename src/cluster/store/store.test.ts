import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UsageError } from '../../errors.js';
import { checkRedisUrl, fileDir, openStore, redactUrl } from './store.js';

const ns = { project: 'p', plan: 'q' };

test('bad store URLs are UsageErrors naming the URL', async () => {
  for (const url of [
    '',
    'data',
    'ftp://x',
    'file:',
    'file://host/dir',
    'redis://',
    'redis://h:1/x',
    'redis://h:1?db=2',
    'rediss:h',
    'redis:h',
  ]) {
    await assert.rejects(openStore(url, ns), (e: unknown) => {
      assert.ok(e instanceof UsageError, `${url}: ${String(e)}`);
      assert.ok(e.message.startsWith(`bad store URL "${url}"`), e.message);
      assert.ok(!e.message.includes('\n'));
      return true;
    });
  }
});

test('good store URLs', () => {
  assert.equal(fileDir('file:data'), 'data');
  assert.equal(fileDir('file:/var/tessds'), '/var/tessds');
  assert.equal(fileDir('file:///var/tess%20ds'), '/var/tess ds');
  for (const url of [
    'redis://localhost:6379',
    'redis://10.0.0.1:7000/3',
    'redis://:secret@h:1/',
    'redis://h',
    'rediss://h:6380',
    'rediss://user:pw@h:1/2',
  ]) {
    assert.equal(checkRedisUrl(url), url);
  }
});

test('a password in a store URL is never shown', async () => {
  assert.equal(redactUrl('redis://user:s3cret@h:1/2'), 'redis://user:***@h:1/2');
  assert.equal(redactUrl('rediss://:s3cret@h:1'), 'rediss://:***@h:1');
  assert.equal(redactUrl('redis://h:1'), 'redis://h:1');
  await assert.rejects(
    openStore('redis://u:s3cret@h:1/x', ns),
    (e: Error) => !e.message.includes('s3cret') && /bad store URL "redis:\/\/u:\*\*\*@h:1\/x"/.test(e.message),
  );
  await assert.rejects(
    openStore('redis://u:s3cret@127.0.0.1:1', ns, { connectTimeoutMs: 300 }),
    (e: Error) => !e.message.includes('s3cret') && /cannot reach redis:\/\/127\.0\.0\.1:1/.test(e.message),
  );
});

test('project and plan names that could overlap another namespace are UsageErrors', async () => {
  for (const bad of [
    { project: 'a:b', plan: 'q' },
    { project: 'p', plan: '{x}' },
    { project: 'p', plan: '..' },
    { project: '', plan: 'q' },
    { project: 'p', plan: 'a/b' },
  ]) {
    await assert.rejects(openStore('file:/nonexistent', bad), UsageError);
  }
});
