/**
 * TLS on cluster links (src/cluster/link-tls.ts): certificates made here with openssl, a CA and a
 * leaf for 127.0.0.1, and a second CA's leaf as the stranger. Real sockets; a real partitioned run.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { connect, FrameKind, listen, type FramedSocket } from '../src/cluster/frames.js';
import { setLinkTls, type LinkTls } from '../src/cluster/link-tls.js';

const root = fileURLToPath(new URL('../../', import.meta.url));
const cli = join(root, 'dist/src/cli/main.js');
const grid4 = join(root, 'test/fixtures/grid4/scenario.sumocfg');

/** A CA and a leaf certificate it signed for 127.0.0.1 / localhost, as files in `dir`. */
function makeCerts(dir: string, name: string): { cert: string; key: string; ca: string } {
  const f = (x: string) => join(dir, `${name}-${x}`);
  const ssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
  ssl(
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-days',
    '2',
    '-subj',
    `/CN=${name} test CA`,
    '-keyout',
    f('ca.key'),
    '-out',
    f('ca.pem'),
  );
  ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', f('key.pem'), '-out', f('csr.pem'));
  writeFileSync(f('ext.cnf'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n');
  ssl(
    'x509',
    '-req',
    '-in',
    f('csr.pem'),
    '-CA',
    f('ca.pem'),
    '-CAkey',
    f('ca.key'),
    '-CAcreateserial',
    '-days',
    '2',
    '-extfile',
    f('ext.cnf'),
    '-out',
    f('cert.pem'),
  );
  return { cert: f('cert.pem'), key: f('key.pem'), ca: f('ca.pem') };
}

const dir = mkdtempSync(join(tmpdir(), 'tessds-tls-'));
const good = makeCerts(dir, 'good');
const rogue = makeCerts(dir, 'rogue');
const material = (c: { cert: string; key: string; ca: string }): LinkTls => ({
  cert: readFileSync(c.cert),
  key: readFileSync(c.key),
  ca: readFileSync(c.ca),
});

test('TLS links: frames pass between two ends of one CA; plain bytes and a certificate of another CA are refused, the listener goes on', async () => {
  setLinkTls(material(good));
  const rejected: string[] = [];
  const got: string[] = [];
  const { server, port } = await listen(
    '127.0.0.1',
    0,
    (s: FramedSocket) => s.on('frame', (_k, p) => got.push(p.toString())),
    { onReject: (why) => rejected.push(why) },
  );
  try {
    // plain TCP: a framed message's bytes, and four zero bytes that are not even a TLS record
    // header (closed by the TLS handshake timeout): each closed, one line
    for (const bytes of [Buffer.from('\u0011\u0000\u0000\u0000\u0001{"type":"hello"}'), Buffer.alloc(4)]) {
      const raw = net.connect(port, '127.0.0.1');
      await new Promise((r) => raw.once('connect', r));
      raw.on('error', () => undefined);
      raw.write(bytes);
      await new Promise((r) => raw.once('close', r));
    }
    // a client whose certificate another CA signed (and which does not trust ours): refused
    setLinkTls(material(rogue));
    await assert.rejects(connect('127.0.0.1', port, 300));
    // the listener still serves a good client
    setLinkTls(material(good));
    const c = await connect('127.0.0.1', port, 2000);
    c.send(FrameKind.control, Buffer.from('{"type":"hello"}'));
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.deepEqual(got, ['{"type":"hello"}']);
    c.close();
    assert.ok(
      rejected.length >= 1 && rejected.every((r) => r.startsWith('TLS: ')),
      `rejections: ${rejected.join(' | ')}`,
    );
  } finally {
    server.close();
    setLinkTls(null);
  }
});

function hashOf(...args: string[]): string {
  const r = spawnSync(process.execPath, [cli, 'run', grid4, '--summary', '-', '-q', ...args], {
    encoding: 'utf8',
    env: { ...process.env, TESSDS_TLS_CERT: '', TESSDS_TLS_KEY: '', TESSDS_TLS_CA: '' },
  });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(r.stdout).stateHash as string;
}

test('tessds run --workers 2 over TLS links ends in the hash of the plain run; TLS flags go together (exit 2, one line)', () => {
  const plain = hashOf('--workers', '2');
  assert.equal(hashOf('--workers', '2', '--tls-cert', good.cert, '--tls-key', good.key, '--tls-ca', good.ca), plain);
  // the links really are TLS: workers that do not trust each other's CA cannot connect, and say so
  const untrusted = spawnSync(
    process.execPath,
    [cli, 'run', grid4, '--workers', '2', '-q', '--tls-cert', good.cert, '--tls-key', good.key, '--tls-ca', rogue.ca],
    { encoding: 'utf8', timeout: 60_000 },
  );
  assert.notEqual(untrusted.status, 0);
  assert.match(untrusted.stderr, /TLS: unable to verify the first certificate/);
  const r = spawnSync(process.execPath, [cli, 'run', grid4, '--workers', '2', '--tls-cert', good.cert], {
    encoding: 'utf8',
  });
  assert.equal(r.status, 2);
  assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
  assert.match(r.stderr, /--tls-cert, --tls-key and --tls-ca go together/);
  const missing = spawnSync(
    process.execPath,
    [
      cli,
      'run',
      grid4,
      '--workers',
      '2',
      '--tls-cert',
      good.cert,
      '--tls-key',
      good.key,
      '--tls-ca',
      join(dir, 'nope.pem'),
    ],
    { encoding: 'utf8' },
  );
  assert.equal(missing.status, 2);
  assert.match(missing.stderr, /--tls-ca .*nope\.pem: cannot read it \(ENOENT\)/);
  // garbage in place of a PEM file, or a key that is not the certificate's: one line naming the flags, exit 2
  const garbage = join(dir, 'garbage.pem');
  writeFileSync(garbage, 'not a certificate\n');
  for (const [cert, key, ca, flag] of [
    [garbage, good.key, good.ca, '--tls-cert'],
    [good.cert, good.key, garbage, '--tls-ca'],
    [good.cert, rogue.key, good.ca, '--tls-key'],
  ] as const) {
    const bad = spawnSync(
      process.execPath,
      [cli, 'run', grid4, '--workers', '2', '--tls-cert', cert, '--tls-key', key, '--tls-ca', ca],
      { encoding: 'utf8' },
    );
    assert.equal(bad.status, 2, bad.stderr);
    assert.equal(bad.stderr.trim().split('\n').length, 1, bad.stderr);
    assert.match(bad.stderr, new RegExp(`${flag} .*not usable`));
  }
});
