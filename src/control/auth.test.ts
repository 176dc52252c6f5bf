import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { WebSocket } from 'ws';
import { startControlledRun, waitFor } from './testing.js';
import { checkBind, isLoopback } from './auth.js';

const TOKEN = 'test-token-0123456789abcdef';
const JSON_TYPE = { 'content-type': 'application/json' };

async function call(base: string, path: string, init: RequestInit & { token?: string } = {}) {
  const headers: Record<string, string> = { ...(init.headers as Record<string, string>) };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const r = await fetch(base + path, { ...init, headers });
  const text = await r.text();
  return { status: r.status, text, www: r.headers.get('www-authenticate') };
}

/** Opens the stream; resolves with the first binary frame's size, or the close code. */
function openStream(
  port: number,
  o: { header?: string; first?: object; origin?: string } = {},
): Promise<{ frame?: number; close?: number; status?: number }> {
  return new Promise((resolve) => {
    const headers: Record<string, string> = {};
    if (o.header) headers.authorization = `Bearer ${o.header}`;
    const ws = new WebSocket(`ws://127.0.0.1:${port}/api/stream`, {
      headers,
      ...(o.origin ? { origin: o.origin } : {}),
    });
    ws.on('open', () => {
      if (o.first) ws.send(JSON.stringify(o.first));
    });
    ws.on('message', (data, binary) => {
      if (!binary) return;
      resolve({ frame: (data as Buffer).length });
      ws.close();
    });
    ws.on('unexpected-response', (_req, res) => {
      resolve({ status: res.statusCode });
      ws.terminate();
    });
    ws.on('close', (code) => resolve({ close: code }));
    ws.on('error', () => undefined);
  });
}

test('with a token: every route but /metrics, /healthz, /readyz and the viewer files is 401 without it and with a wrong one, 200 with it', async () => {
  const c = await startControlledRun({ token: TOKEN });
  try {
    const protectedRoutes: [string, RequestInit][] = [
      ['/api/status', {}],
      ['/api/network', {}],
      ['/api/timeline', {}],
      ['/api/commands', { method: 'POST', headers: JSON_TYPE, body: JSON.stringify({ type: 'pause' }) }],
    ];
    for (const [path, init] of protectedRoutes) {
      const none = await call(c.base, path, init);
      assert.equal(none.status, 401, `${path} without a token`);
      assert.match(JSON.parse(none.text).error, /needs a token/);
      assert.equal(none.www, 'Bearer realm="tessds"');
      const wrong = await call(c.base, path, { ...init, token: 'not-the-token-at-all-000' });
      assert.equal(wrong.status, 401, `${path} with a wrong token`);
      assert.doesNotMatch(wrong.text, new RegExp(TOKEN), 'the token is never echoed');
      const short = await call(c.base, path, { ...init, token: 'x' });
      assert.equal(short.status, 401, `${path} with a token of another length`);
      const ok = await call(c.base, path, { ...init, token: TOKEN });
      assert.equal(ok.status, 200, `${path} with the token: ${ok.text}`);
    }
    for (const path of ['/metrics', '/healthz', '/readyz', '/', '/viewer.js']) {
      assert.equal((await call(c.base, path)).status, 200, `${path} is open`);
    }
    assert.equal(
      c.run.engine.step >= 0 && JSON.parse((await call(c.base, '/api/status', { token: TOKEN })).text).paused,
      true,
      'the one accepted pause applied',
    );
    // the stream: the token in a header, or as the first message; without it or wrong, closed
    const port = c.server.port;
    assert.ok((await openStream(port, { header: TOKEN })).frame, 'a frame with the token in a header');
    assert.ok(
      (await openStream(port, { first: { token: TOKEN } })).frame,
      'a frame with the token as the first message',
    );
    assert.equal((await openStream(port, { header: 'not-the-token-at-all-000' })).status, 401);
    assert.equal((await openStream(port, { first: { token: 'not-the-token-at-all-000' } })).close, 4401);
    assert.equal(
      (await openStream(port, { first: { viewport: [0, 0, 1, 1] } })).close,
      4401,
      'a viewport before the token',
    );
  } finally {
    await c.close();
  }
});

test('cross-site Origin on POST and on the stream is 403; a POST not application/json is 415 (the text/plain CSRF of issue 13)', async () => {
  const c = await startControlledRun();
  try {
    const stop = JSON.stringify({ type: 'stop' });
    const evil = await call(c.base, '/api/commands', {
      method: 'POST',
      headers: { origin: 'http://evil.example', 'content-type': 'text/plain' },
      body: stop,
    });
    assert.equal(evil.status, 403);
    assert.match(JSON.parse(evil.text).error, /Origin http:\/\/evil\.example is not this server's/);
    const evilJson = await call(c.base, '/api/commands', {
      method: 'POST',
      headers: { origin: 'http://evil.example', ...JSON_TYPE },
      body: stop,
    });
    assert.equal(evilJson.status, 403);
    const plain = await call(c.base, '/api/commands', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: stop,
    });
    assert.equal(plain.status, 415);
    const form = await call(c.base, '/api/commands', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: 'type=stop',
    });
    assert.equal(form.status, 415);
    assert.equal(JSON.parse((await call(c.base, '/api/status')).text).state, 'running', 'nothing stopped the run');
    const same = await call(c.base, '/api/commands', {
      method: 'POST',
      headers: { origin: c.base, ...JSON_TYPE },
      body: JSON.stringify({ type: 'pause' }),
    });
    assert.equal(same.status, 200, "the page's own origin may post");
    assert.equal((await openStream(c.server.port, { origin: 'http://evil.example' })).status, 403);
    assert.ok((await openStream(c.server.port, { origin: c.base })).frame);
  } finally {
    await c.close();
  }
});

test('a slow body is 408, nesting past 32 levels is 400 (no stack overflow), and the server goes on', async () => {
  const c = await startControlledRun({ bodyTimeoutMs: 300 });
  try {
    const answer = await new Promise<string>((resolve) => {
      const s = net.connect(c.server.port, '127.0.0.1');
      let got = '';
      s.on('data', (d) => (got += d));
      s.on('close', () => resolve(got));
      s.on('error', () => undefined);
      s.write(
        'POST /api/commands HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n{"type"',
      );
    });
    assert.match(answer, /^HTTP\/1\.1 408/);
    assert.match(answer, /did not arrive within 0\.3 s/);
    const deep = '['.repeat(100_000) + ']'.repeat(100_000);
    const r = await call(c.base, '/api/commands', { method: 'POST', headers: JSON_TYPE, body: deep });
    assert.equal(r.status, 400);
    assert.match(JSON.parse(r.text).error, /nests deeper than 32 levels/);
    const p = await call(c.base, '/api/commands', {
      method: 'POST',
      headers: JSON_TYPE,
      body: JSON.stringify({ type: 'pause' }),
    });
    assert.equal(p.status, 200);
  } finally {
    await c.close();
  }
});

/** A WebSocket opened by hand, for frames the ws client would never send. */
async function rawStream(port: number): Promise<net.Socket> {
  const s = net.connect(port, '127.0.0.1');
  s.on('error', () => undefined);
  await new Promise((r) => s.once('connect', r));
  s.write(
    `GET /api/stream HTTP/1.1\r\nhost: 127.0.0.1:${port}\r\nupgrade: websocket\r\nconnection: Upgrade\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\nsec-websocket-version: 13\r\n\r\n`,
  );
  await new Promise<void>((resolve) => {
    let got = '';
    const on = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.includes('\r\n\r\n')) {
        s.off('data', on);
        resolve();
      }
    };
    s.on('data', on);
  });
  return s;
}

function wsFrame(opcode: number, payload: Buffer, o: { mask?: boolean; rsv?: number; length?: number } = {}): Buffer {
  const mask = o.mask ?? true;
  const len = o.length ?? payload.length;
  const head: number[] = [0x80 | ((o.rsv ?? 0) << 4) | opcode];
  if (len < 126) head.push((mask ? 0x80 : 0) | len);
  else if (len < 65536) head.push((mask ? 0x80 : 0) | 126, len >> 8, len & 0xff);
  else {
    head.push((mask ? 0x80 : 0) | 127, 0, 0, 0, 0);
    head.push((len >>> 24) & 0xff, (len >>> 16) & 0xff, (len >>> 8) & 0xff, len & 0xff);
  }
  const key = Buffer.from([1, 2, 3, 4]);
  const body = Buffer.from(payload);
  if (mask) for (let i = 0; i < body.length; i++) body[i]! ^= key[i % 4]!;
  return Buffer.concat([Buffer.from(head), mask ? key : Buffer.alloc(0), body]);
}

test('each bad WebSocket frame (unmasked, RSV bit, bad opcode, bad UTF-8, over 64 KiB) closes that socket only; the run and a good stream go on', async () => {
  const c = await startControlledRun();
  try {
    const good = new WebSocket(`ws://127.0.0.1:${c.server.port}/api/stream`);
    let goodFrames = 0;
    good.on('message', (_d, binary) => binary && goodFrames++);
    await new Promise((r) => good.once('open', r));
    const cases: [string, Buffer][] = [
      ['unmasked', wsFrame(1, Buffer.from('{}'), { mask: false })],
      ['RSV bit', wsFrame(1, Buffer.from('{}'), { rsv: 4 })],
      ['bad opcode', wsFrame(3, Buffer.from('{}'))],
      ['bad UTF-8', wsFrame(1, Buffer.from([0xff, 0xfe, 0xc3, 0x28]))],
      ['over 64 KiB', wsFrame(1, Buffer.alloc(70_000, 0x20))],
      ['over 64 KiB announced', wsFrame(1, Buffer.alloc(10), { length: 1 << 30 })],
    ];
    for (const [name, bytes] of cases) {
      const s = await rawStream(c.server.port);
      const closed = new Promise((r) => s.once('close', r));
      s.write(bytes);
      await Promise.race([
        closed,
        new Promise((_r, reject) => setTimeout(() => reject(new Error(`${name}: the socket stayed open`)), 3000)),
      ]);
      const before = goodFrames;
      await waitFor(() => goodFrames > before, `a frame on the good stream after "${name}"`);
    }
    const step = c.run.engine.step;
    await waitFor(() => c.run.engine.step > step, 'the run to go on');
    good.close();
  } finally {
    await c.close();
  }
});

test('without a token only loopback: another host is refused naming why', () => {
  for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) assert.ok(isLoopback(h), h);
  for (const h of ['0.0.0.0', '::', '10.0.0.1', 'example.com']) assert.ok(!isLoopback(h), h);
  assert.throws(
    () => checkBind('0.0.0.0', undefined),
    /--http-host 0\.0\.0\.0: without a token \(TESSDS_TOKEN or --token-file\) the control API listens on loopback only/,
  );
  checkBind('0.0.0.0', TOKEN);
});
