// The frontend against slow and greedy clients, and /health's levels:
// - slowloris: connections that trickle a request head byte by byte are
//   refused past the per-address cap and closed at the head deadline, so a
//   new client is still served;
// - partial bodies: connections holding most of a declared body exhaust the
//   body budget, later ones get 503 with Retry-After, the frontend's memory
//   stays bounded;
// - /health without the API key shows only the status; with it, the details;
//   before the broker answers, 503 "starting" with Retry-After.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, startMock, startStack, tempDir, until } from './harness.mjs';

// A raw client that sends `first` at once and then one byte of `rest` per
// interval; records what the server answers and when it closes.
function trickler(port, { first = '', rest = '', intervalMs = 100, localAddress } = {}) {
  const c = { data: '', closed: false, sent: 0 };
  const s = net.connect({ host: '127.0.0.1', port, localAddress });
  c.socket = s;
  s.setEncoding('latin1');
  s.on('data', (d) => { c.data += d; });
  s.on('error', () => {});
  s.on('close', () => { c.closed = true; clearInterval(c.timer); });
  s.on('connect', () => {
    if (first) s.write(first);
    c.timer = setInterval(() => {
      if (c.sent < rest.length && !s.destroyed) s.write(rest[c.sent++]);
    }, intervalMs);
  });
  c.status = () => Number((c.data.match(/^HTTP\/1\.1 (\d{3})/) || [])[1] || 0);
  c.destroy = () => { clearInterval(c.timer); s.destroy(); };
  return c;
}

function get(port, path, { localAddress, headers = {} } = {}) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, localAddress, headers, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.setTimeout(5000, () => req.destroy(new Error('timeout')));
  });
}

function rssBytes(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/VmRSS:\s+(\d+) kB/);
  return Number(m[1]) * 1024;
}

test('slowloris: trickled heads cannot take every slot, and are closed at the head deadline', async () => {
  const mock = await startMock();
  const stack = await startStack({
    mock,
    frontend: { max_connections: 20, max_connections_per_address: 10, loopback_exempt: false, header_timeout_ms: 1500 },
  });
  const clients = [];
  try {
    // 20 connections from 127.0.0.1, each trickling a ~200-byte head at one
    // byte per 100 ms (it would take 20 s to complete).
    const head = 'GET /v1/models HTTP/1.1\r\nHost: x\r\nX-Pad: ' + 'a'.repeat(160) + '\r\n\r\n';
    for (let i = 0; i < 20; i++) clients.push(trickler(stack.port, { first: 'G', rest: head.slice(1) }));
    // Past the per-address cap: 503 at once, and the server closes them
    // (a refused connection holds its slot until then).
    await until(() => clients.filter((c) => c.status() === 503 && c.closed).length >= 10,
      { what: '10 refused and closed tricklers' });
    const refused = clients.find((c) => c.status() === 503);
    assert.match(refused.data, /\r\nretry-after: 1\r\n/i);
    assert.match(refused.data, /"error":\{"message":"too many connections from this address"/);
    // Another address is served while the tricklers are held.
    const other = await get(stack.port, '/health', { localAddress: '127.0.0.2' });
    assert.equal(other.status, 200);
    // The admitted tricklers get 408 at the head deadline, long before their
    // heads are complete; then 127.0.0.1 is served again.
    await until(() => clients.every((c) => c.closed), { what: 'every trickler closed', timeoutMs: 10_000 });
    const timedOut = clients.filter((c) => c.status() === 408);
    assert.ok(timedOut.length >= 1, 'some tricklers were admitted and timed out');
    for (const c of timedOut) {
      assert.ok(c.sent < head.length - 1, 'closed before the head was complete');
      assert.match(c.data, /request headers not received in time/);
    }
    const again = await get(stack.port, '/health');
    assert.equal(again.status, 200);
  } finally {
    for (const c of clients) c.destroy();
    await stack.stop();
    await mock.stop();
  }
});

test('partial bodies: the body budget refuses new bodies with 503 and memory stays bounded', async () => {
  const mock = await startMock();
  const declared = 2_000_100;
  const stack = await startStack({
    mock,
    frontend: { max_body_bytes: 4_000_000, max_buffered_body_bytes: 8 * 1024 * 1024, body_timeout_ms: 120_000 },
  });
  const clients = [];
  try {
    const pid = stack.pid('frontend');
    const before = rssBytes(pid);
    const n = 40;
    const partial = 'x'.repeat(2_000_000);
    const flushed = [];
    for (let i = 0; i < n; i++) {
      const c = trickler(stack.port);
      clients.push(c);
      flushed.push(new Promise((resolve) => {
        c.socket.on('connect', () => {
          c.socket.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${declared}\r\n\r\n`);
          c.socket.write(partial, () => resolve());
        });
        c.socket.on('close', resolve);
      }));
    }
    // 8 MiB holds 4 declared bodies; every later one is refused.
    await until(() => clients.filter((c) => c.status() === 503).length >= n - 4, { what: `${n - 4} refused bodies` });
    await Promise.all(flushed);
    const refused = clients.find((c) => c.status() === 503);
    assert.match(refused.data, /\r\nretry-after: \d+\r\n/i);
    assert.match(refused.data, /"type":"server_error"/);
    assert.match(refused.data, /busy receiving other request bodies/);
    const held = clients.filter((c) => !c.closed && c.status() === 0).length;
    assert.ok(held <= 4, `at most 4 bodies held, got ${held}`);
    // 40 x 2 MB would be 80 MB; the budget keeps it near 8 MiB.
    const growth = rssBytes(pid) - before;
    assert.ok(growth < 32 * 1024 * 1024, `frontend RSS grew by ${growth} bytes`);
    // Giving the held bodies up frees the budget: a new body is accepted.
    for (const c of clients) c.destroy();
    await until(async () => {
      const r = await fetch(`${stack.baseUrl}/v1/chat/completions`, {
        method: 'POST', headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'qwen3-max', messages: [{ role: 'user', content: 'hi' }, { role: 'user', content: 'p'.repeat(3_000_000) }] }),
      });
      await r.text();
      return r.status !== 503;
    }, { what: 'a big body accepted after the holders left' });
  } finally {
    for (const c of clients) c.destroy();
    await stack.stop();
    await mock.stop();
  }
});

test('/health: the status for everyone, the details only with the API key; account status sends it', async () => {
  const mock = await startMock();
  const key = 'sk-test-' + Math.random().toString(36).slice(2);
  const stack = await startStack({ mock, frontend: { api_key: key } });
  try {
    const open = await get(stack.port, '/health');
    assert.equal(open.status, 200);
    assert.deepEqual(JSON.parse(open.body), { status: 'ok' });
    const wrong = await get(stack.port, '/health', { headers: { authorization: 'Bearer nope' } });
    assert.deepEqual(JSON.parse(wrong.body), { status: 'ok' });
    const full = await get(stack.port, '/health', { headers: { authorization: `Bearer ${key}` } });
    const h = JSON.parse(full.body);
    assert.equal(h.status, 'ok');
    assert.equal(h.accounts[0].name, 'alice');
    assert.ok('token_expires_in_s' in h.accounts[0]);
    // `qwenproxy account status` reads the key from the same configuration.
    const clean = { ...process.env };
    for (const k of Object.keys(clean)) if (k.startsWith('QWEN_') || k.startsWith('QP_')) delete clean[k];
    const r = spawnSync(join(BIN, 'qwenproxy'), ['account', 'status', '--config', stack.configPath], { encoding: 'utf8', env: clean });
    assert.equal(r.status, 0, r.stderr);
    assert.match(r.stdout, /alice/);
    assert.doesNotMatch(r.stdout + r.stderr, new RegExp(key));
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('/health before the broker ever answered: 503 "starting" with Retry-After', async () => {
  const dir = tempDir();
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('QWEN_') || k.startsWith('QP_')) delete clean[k];
  const proc = spawn(join(BIN, 'qp-frontend'), [], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...clean, LOG_LEVEL: 'info', QP_RUNTIME_DIR: dir, QP_STATE_DIR: dir, QP_PORT: '0', QP_BROKER_FRONTEND_ENDPOINT: `ipc://${dir}/no-broker.sock` },
  });
  try {
    let out = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { out += d; });
    const port = await until(() => Number((out.match(/frontend\.listening port=(\d+)/) || [])[1] || 0), { what: 'the frontend port' });
    const r = await get(port, '/health');
    assert.equal(r.status, 503);
    assert.equal(r.headers['retry-after'], '1');
    assert.equal(JSON.parse(r.body).status, 'starting');
  } finally {
    proc.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  }
});
