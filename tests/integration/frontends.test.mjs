// frontend.processes = 2 under `qwenproxy up` (docs/configuration.md,
// [frontend] processes; docs/architecture.md, "Processes"): the launcher
// binds the port once and both frontend processes accept connections from
// that one socket, each named towards the broker and in /health and
// /metrics; one killed with -9 leaves the port served by the other, and the
// launcher restarts it.
//
// Which process accepts a connection is the kernel's choice, so the test
// makes it deterministic: with one process stopped (SIGSTOP), every new
// connection can only be accepted by the other.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { startMock, startStack, until } from './harness.mjs';

let mock, stack;

before(async () => {
  mock = await startMock();
  stack = await startStack({ mock, frontend: { processes: 2 } });
});

after(async () => {
  for (const name of ['frontend:0', 'frontend:1']) {
    const pid = stack?.pid(name);
    if (pid) try { process.kill(pid, 'SIGCONT'); } catch { /* gone */ }
  }
  await stack?.stop();
  await mock?.stop();
});

// One request on a connection of its own (never fetch(): its pool would
// reuse a kept-alive connection to a process this test has frozen).
function request(method, path, body = null) {
  return new Promise((resolve, reject) => {
    const headers = { connection: 'close' };
    if (body !== null) Object.assign(headers, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
    const req = http.request(`${stack.baseUrl}${path}`, { method, agent: false, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d) => { text += d; });
      res.on('end', () => resolve({ status: res.statusCode, body: text }));
    });
    req.setTimeout(10_000, () => req.destroy(new Error(`${method} ${path}: no answer in 10 s`)));
    req.on('error', reject);
    req.end(body ?? undefined);
  });
}
const get = (path) => request('GET', path);

// Which process answered /health on a new connection, once that process is
// up (a process that has not reached the broker yet answers 503 "starting").
async function servedBy() {
  const r = await until(async () => {
    const h = await get('/health');
    return h.status === 200 ? h : null;
  }, { what: '/health 200' });
  return JSON.parse(r.body).frontend;
}

async function chatOnce(content) {
  const r = await request('POST', '/v1/chat/completions',
    JSON.stringify({ model: 'qwen3-max', messages: [{ role: 'user', content }] }));
  assert.equal(r.status, 200, r.body);
  return JSON.parse(r.body);
}

// While `stopped` is frozen, only the other process can accept: run fn().
async function withOnlyOther(stopped, fn) {
  const pid = stack.pid(stopped);
  assert.ok(pid, `${stopped} has a pid`);
  process.kill(pid, 'SIGSTOP');
  try {
    return await fn();
  } finally {
    process.kill(pid, 'SIGCONT');
  }
}

test('two frontend processes: frontend:0 and frontend:1, one port', () => {
  const a = stack.pid('frontend:0');
  const b = stack.pid('frontend:1');
  assert.ok(a && b && a !== b, `pids ${a} ${b}`);
  assert.equal(stack.pid('frontend'), null, 'with two processes there is no plain "frontend" child');
});

test('each process accepts connections from the one socket and serves requests through the broker', async () => {
  for (const [stopped, index, other] of [['frontend:0', 1, 'frontend:1'], ['frontend:1', 0, 'frontend:0']]) {
    await withOnlyOther(stopped, async () => {
      const who = await servedBy();
      assert.deepEqual(who, { index, pid: stack.pid(other) });
      // A job from this process reaches a worker and its answer comes back
      // (the broker routes by this process's routing id).
      const c = await chatOnce(`hello from ${other}`);
      assert.ok(c.choices[0].message.content.length > 0);
      const m = await get('/metrics');
      assert.equal(m.status, 200, m.body);
      assert.match(m.body, new RegExp(`\\{process="frontend",frontend="${index}"`));
    });
  }
});

test('a frontend killed with -9: the port stays served by the other, the launcher restarts it', async () => {
  const old = stack.pid('frontend:1');
  process.kill(old, 'SIGKILL');
  await stack.out.waitFor(/^qwenproxy: frontend:1 exited \(signal 9/);
  // From its death until it is back, every connection is answered (never
  // refused or reset): 200 by frontend:0, or, once the new frontend:1 has
  // started, possibly 503 "starting" by it until it has reached the broker
  // (docs/configuration.md, "Frontend processes").
  const seen = new Set();
  await until(async () => {
    const r = await get('/health');
    const h = JSON.parse(r.body);
    if (r.status !== 200) {
      assert.equal(r.status, 503, r.body);
      assert.equal(h.status, 'starting', r.body);
      assert.notEqual(h.frontend.pid, old, r.body);
    }
    seen.add(h.frontend.index);
    const now = stack.pid('frontend:1');
    return now && now !== old;
  }, { what: 'the launcher to restart frontend:1' });
  assert.ok(seen.has(0), [...seen].join());
  // The new process serves the same port.
  await withOnlyOther('frontend:0', async () => {
    assert.deepEqual(await servedBy(), { index: 1, pid: stack.pid('frontend:1') });
    const c = await chatOnce('after the restart');
    assert.ok(c.choices[0].message.content.length > 0);
  });
});
