// Operator console, admin API (docs/api.md, "Admin API") through the whole
// stack (launcher, frontend, broker, one worker per account file) against
// mock-qwen:
//  - access: the admin key is required (401 without, with a wrong one, with a
//    client key), refused on /v1; without a key the API is off when the
//    frontend listens on a non-loopback address (404 + startup warning);
//  - read-only endpoints and their shapes; the event stream sees a streamed
//    request start and end;
//  - actions: import a pasted cURL (file 0600, no secret in the answer),
//    drain/resume, test chat pinned to each account, cancel a live stream,
//    reload, remove.
// Streams are held in flight with the mock's hold/release; waits poll with
// until(), never sleep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, renameSync, readFileSync, statSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { startMock, startStack, chat, sseEvents, until, tempDir, waitHealthy } from './harness.mjs';

const MODEL = 'qwen3-max';

function writeAccount(dir, name, text) {
  mkdirSync(join(dir, 'accounts'), { recursive: true, mode: 0o700 });
  const tmp = join(dir, 'accounts', `.${name}.tmp`);
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, join(dir, 'accounts', `${name}.toml`));
}

const accountToml = (token) => `token = "${token}"\ncookies = "ssxmod_itna=1"\ncapacity = 4\n`;

async function fileStack(mock, names, opts = {}) {
  const dir = tempDir();
  for (const name of names) writeAccount(dir, name, accountToml(mock.token(name)));
  const stack = await startStack({ mock, accounts: [], dir, ...opts });
  await waitHealthy(stack.baseUrl, { accounts: names.length, apiKey: opts.frontend?.api_key });
  return stack;
}

function admin(stack, method, path, { body, key, headers = {} } = {}) {
  const h = { ...headers };
  if (key) h.authorization = `Bearer ${key}`;
  if (body !== undefined) h['content-type'] = h['content-type'] ?? 'application/json';
  return fetch(`${stack.baseUrl}/admin/v1/${path}`, {
    method,
    headers: h,
    body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
  });
}

async function adminJson(stack, method, path, opts = {}) {
  const r = await admin(stack, method, path, opts);
  const text = await r.text();
  return { status: r.status, body: text ? JSON.parse(text) : null, text };
}

// Reads an event stream into a list of {event, data} (parsed), in the background.
function eventLog(response) {
  const events = [];
  const reader = response.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  const done = (async () => {
    for (;;) {
      let r;
      try {
        r = await reader.read();
      } catch {
        return;
      }
      if (r.done) return;
      buf += dec.decode(r.value, { stream: true });
      let i;
      while ((i = buf.indexOf('\n\n')) >= 0) {
        const block = buf.slice(0, i);
        buf = buf.slice(i + 2);
        let event = 'message';
        let data = '';
        for (const l of block.split('\n')) {
          if (l.startsWith('event: ')) event = l.slice(7);
          else if (l.startsWith('data: ')) data += l.slice(6);
        }
        if (data) events.push({ event, data: JSON.parse(data) });
      }
    }
  })();
  return { events, done, cancel: () => reader.cancel().catch(() => {}) };
}

async function openStream(stack, content, headers = {}) {
  const r = await chat(stack.baseUrl, { model: MODEL, stream: true, messages: [{ role: 'user', content }] }, { headers });
  assert.equal(r.status, 200, `stream ${content}`);
  const it = sseEvents(r)[Symbol.asyncIterator]();
  let text = '';
  while (!text) {
    const { value, done } = await it.next();
    assert.ok(!done, 'the stream ended before any content');
    text += JSON.parse(value).choices?.[0]?.delta?.content ?? '';
  }
  return {
    id: r.headers.get('x-request-id'),
    async rest() {
      const all = [];
      for (;;) {
        const { value, done } = await it.next();
        if (done) break;
        all.push(value);
      }
      return all;
    },
  };
}

async function ask(stack, content, headers = {}) {
  const r = await chat(stack.baseUrl, { model: MODEL, messages: [{ role: 'user', content }] }, { headers });
  const text = await r.text();
  assert.equal(r.status, 200, `request ${content}: ${text}`);
  return JSON.parse(text);
}

const parked = (mock, n) => until(async () => ((await mock.state()).parked >= n ? true : false), { what: `${n} parked streams` });

test('access: admin key required, client keys refused, admin key refused on /v1', async () => {
  const mock = await startMock();
  const stack = await fileStack(mock, ['alice'], { frontend: { api_key: 'client-key', admin_key: 'admin-key-123' } });
  try {
    for (const key of [undefined, 'wrong', 'client-key']) {
      const r = await adminJson(stack, 'GET', 'overview', { key });
      assert.equal(r.status, 401, `key ${key}`);
      assert.equal(r.body.error.code, 'invalid_api_key');
      assert.ok(!r.text.includes('admin-key-123'));
    }
    const ok = await adminJson(stack, 'GET', 'overview', { key: 'admin-key-123' });
    assert.equal(ok.status, 200, ok.text);
    const v1 = await chat(stack.baseUrl, { model: MODEL, messages: [{ role: 'user', content: 'hi' }] }, { headers: { authorization: 'Bearer admin-key-123' } });
    assert.equal(v1.status, 401);
    assert.equal((await v1.json()).error.code, 'invalid_api_key');
    await ask(stack, 'hi', { authorization: 'Bearer client-key' });
    // Unknown admin URL, wrong method, body type.
    assert.equal((await admin(stack, 'GET', 'nope', { key: 'admin-key-123' })).status, 404);
    assert.equal((await admin(stack, 'POST', 'overview', { key: 'admin-key-123' })).status, 405);
    const r415 = await admin(stack, 'POST', 'accounts/alice/drain', { key: 'admin-key-123', body: '{}', headers: { 'content-type': 'text/plain' } });
    assert.equal(r415.status, 415);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('no admin key on a non-loopback address: the admin API is off, with a startup warning', async () => {
  const mock = await startMock();
  const stack = await fileStack(mock, ['alice'], { frontend: { host: '0.0.0.0' } });
  try {
    const r = await adminJson(stack, 'GET', 'overview');
    assert.equal(r.status, 404);
    assert.match(r.body.error.message, /admin key/);
    await until(() => [...stack.err.lines, ...stack.out.lines].some((l) => l.includes('admin.disabled')), { what: 'admin.disabled warning' });
    await ask(stack, 'still serving');
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('read-only endpoints, events, live requests and cancel', async () => {
  const mock = await startMock();
  const stack = await fileStack(mock, ['alice', 'bob']);
  try {
    const ov = await adminJson(stack, 'GET', 'overview');
    assert.equal(ov.status, 200, ov.text);
    assert.equal(typeof ov.body.version, 'string');
    assert.equal(ov.body.broker.connected, true);
    assert.equal(ov.body.series.bucket_s, 60);
    assert.equal(ov.body.series.points.length, 60);
    assert.ok(Array.isArray(ov.body.notices));

    const acc = await adminJson(stack, 'GET', 'accounts');
    assert.deepEqual(acc.body.accounts.map((a) => a.name).sort(), ['alice', 'bob']);
    const alice = acc.body.accounts.find((a) => a.name === 'alice');
    assert.equal(alice.health, 'ok');
    assert.equal(alice.draining, false);
    assert.ok(alice.token_expires_unix_s > Date.now() / 1000);
    assert.deepEqual(Object.keys(alice.last_hour).sort(), ['errors', 'requests', 'tokens_in', 'tokens_out']);
    assert.equal(alice.last_error, null);
    assert.equal(alice.worker.pid, stack.pid('worker:alice'));
    assert.ok(alice.worker.started_unix_ms > 0);

    const wk = await adminJson(stack, 'GET', 'workers');
    assert.equal(wk.body.workers.length, 2);
    for (const w of wk.body.workers) {
      assert.equal(w.pid, stack.pid(`worker:${w.account}`));
      assert.ok(w.uptime_s >= 0);
      assert.equal(typeof w.instance, 'string');
    }
    assert.deepEqual((await adminJson(stack, 'GET', 'requests')).body, { requests: [] });
    assert.deepEqual((await adminJson(stack, 'GET', 'errors')).body, { errors: [] });

    // Events: hello, then a streamed request's start and end.
    const ev = await fetch(`${stack.baseUrl}/admin/v1/events`);
    assert.equal(ev.status, 200);
    assert.match(ev.headers.get('content-type'), /text\/event-stream/);
    const log = eventLog(ev);
    await until(() => log.events.some((e) => e.event === 'hello'), { what: 'hello event' });
    assert.equal(log.events[0].event, 'hello');
    assert.equal(log.events[0].data.accounts.length, 2);

    const s = await openStream(stack, 'watched');
    const rest = await s.rest();
    assert.equal(rest.at(-1), '[DONE]');
    const start = await until(() => log.events.find((e) => e.event === 'request.start' && e.data.id === s.id), { what: 'request.start' });
    assert.equal(start.data.stream, true);
    assert.equal(start.data.model, MODEL);
    const end = await until(() => log.events.find((e) => e.event === 'request.end' && e.data.id === s.id), { what: 'request.end' });
    assert.equal(end.data.status, 200);
    assert.ok(['alice', 'bob'].includes(end.data.account));
    assert.ok(end.data.chunks >= 1);
    assert.ok(end.data.tokens_out > 0);

    // A live stream is listed with its account, then cancelled by the operator.
    await mock.hold();
    const live = await openStream(stack, 'cancel me');
    await parked(mock, 1);
    const reqs = await adminJson(stack, 'GET', 'requests');
    assert.equal(reqs.body.requests.length, 1);
    const lr = reqs.body.requests[0];
    assert.equal(lr.id, live.id);
    assert.equal(lr.stream, true);
    assert.ok(['alice', 'bob'].includes(lr.account), `account while streaming: ${lr.account}`);
    assert.ok(lr.chunks >= 1);
    assert.ok(lr.age_ms >= 0);
    assert.equal((await admin(stack, 'POST', `requests/${live.id}/cancel`, { body: {} })).status, 202);
    const events = await live.rest();
    const errEvent = events.map((e) => JSON.parse(e)).find((e) => e.error);
    assert.ok(errEvent, `an error event: ${events}`);
    assert.equal(errEvent.error.type, 'cancelled');
    assert.equal(errEvent.error.message, 'The request was cancelled by an operator.');
    await mock.release();
    assert.equal((await admin(stack, 'POST', 'requests/nope/cancel', { body: {} })).status, 404);
    await until(async () => (await adminJson(stack, 'GET', 'requests')).body.requests.length === 0, { what: 'no live request' });

    const errs = await adminJson(stack, 'GET', 'errors');
    assert.equal(errs.body.errors.length, 1);
    const e0 = errs.body.errors[0];
    assert.equal(e0.request_id, live.id);
    assert.equal(e0.type, 'cancelled');
    assert.equal(e0.account, lr.account);
    assert.ok(e0.at_unix_ms > 0);
    await until(() => log.events.some((e) => e.event === 'error' && e.data.request_id === live.id), { what: 'error event' });
    const accAfter = await adminJson(stack, 'GET', 'accounts');
    const served = accAfter.body.accounts.find((a) => a.name === lr.account);
    assert.equal(served.last_error.type, 'cancelled');
    assert.ok(served.last_hour.errors >= 1);
    log.cancel();
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('actions: drain and resume, test chat pinned to each account, reload', async () => {
  const mock = await startMock();
  // Info logs: the worker's reload is checked in them.
  const stack = await fileStack(mock, ['alice', 'bob'], { env: { LOG_LEVEL: 'info' } });
  try {
    assert.equal((await admin(stack, 'POST', 'accounts/alice/drain', { body: {} })).status, 202);
    await until(async () => (await adminJson(stack, 'GET', 'accounts')).body.accounts.find((a) => a.name === 'alice').draining, { what: 'alice draining' });
    const before = (await mock.state()).records.length;
    for (let i = 0; i < 4; i++) await ask(stack, `drained ${i}`);
    const recs = (await mock.state()).records.slice(before);
    assert.equal(recs.length, 4);
    for (const r of recs) assert.equal(r.user_id, 'bob');

    // A test chat pinned to the drained account still reaches it.
    for (const name of ['alice', 'bob']) {
      const n = (await mock.state()).records.length;
      const t = await adminJson(stack, 'POST', `accounts/${name}/test`, { body: {} });
      assert.equal(t.status, 200, t.text);
      assert.equal(t.body.account, name);
      assert.equal(t.body.model, MODEL);
      assert.ok(t.body.content.length > 0);
      assert.ok(t.body.duration_ms >= 0);
      const rec = (await mock.state()).records.slice(n);
      assert.equal(rec.length, 1);
      assert.equal(rec[0].user_id, name);
      assert.equal(rec[0].content.includes('Reply with the word ok.'), true);
    }
    assert.equal((await admin(stack, 'POST', 'accounts/nobody/test', { body: {} })).status, 404);

    assert.equal((await admin(stack, 'POST', 'accounts/alice/resume', { body: {} })).status, 202);
    await until(async () => !(await adminJson(stack, 'GET', 'accounts')).body.accounts.find((a) => a.name === 'alice').draining, { what: 'alice resumed' });
    const n2 = (await mock.state()).records.length;
    for (let i = 0; i < 4; i++) await ask(stack, `resumed ${i}`);
    const after = (await mock.state()).records.slice(n2);
    assert.ok(after.some((r) => r.user_id === 'alice'), `alice serves again: ${after.map((r) => r.user_id)}`);

    assert.equal((await admin(stack, 'POST', 'accounts/alice/reload', { body: {} })).status, 202);
    const reloaded = (l) => /account\.reload_unchanged|account\.reloaded/.test(l) && l.includes('account=alice') && l.includes('admin request');
    await until(() => [...stack.out.lines, ...stack.err.lines].some(reloaded), { what: 'alice reloads its account file' });
    const bobReloaded = (l) => /account\.reload/.test(l) && l.includes('account=bob') && l.includes('admin request');
    assert.ok(![...stack.out.lines, ...stack.err.lines].some(bobReloaded), 'only alice reloads');
    assert.equal((await admin(stack, 'POST', 'accounts/nobody/drain', { body: {} })).status, 404);
    assert.equal((await admin(stack, 'POST', 'accounts/bad.name/drain', { body: {} })).status, 404);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('actions: import a pasted cURL (0600, no secret echoed), conflicts, bad input, remove', async () => {
  const mock = await startMock();
  const stack = await fileStack(mock, ['alice']);
  try {
    const token = mock.token('carol');
    const curl = `curl 'https://chat.qwen.ai/api/v2/chats/new' \\\n  -H 'authorization: Bearer ${token}' \\\n  -H 'content-type: application/json' \\\n  -b 'token=${token}; ssxmod_itna=abc' \\\n  --data-raw '{}'`;
    const r = await adminJson(stack, 'POST', 'accounts/import', { body: { text: curl, name: 'carol' } });
    assert.equal(r.status, 201, r.text);
    assert.equal(r.body.name, 'carol');
    assert.equal(r.body.user_id, 'carol');
    assert.ok(r.body.expires_unix_s > Date.now() / 1000);
    const file = join(stack.dir, 'accounts', 'carol.toml');
    assert.equal(r.body.file, file);
    assert.ok(!r.text.includes(token), 'no token in the answer');
    assert.ok(!r.text.includes('ssxmod_itna=abc'), 'no cookie in the answer');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes(`token = "${token}"`));
    assert.ok(text.includes('ssxmod_itna=abc'));

    const again = await adminJson(stack, 'POST', 'accounts/import', { body: { text: curl, name: 'carol' } });
    assert.equal(again.status, 409);
    assert.ok(!again.text.includes(token));
    const replaced = await adminJson(stack, 'POST', 'accounts/import', { body: { text: curl, name: 'carol', replace: true } });
    assert.equal(replaced.status, 201);

    const bad = await adminJson(stack, 'POST', 'accounts/import', { body: { text: "curl 'https://chat.qwen.ai/' -H 'cookie: a=b'", name: 'dave' } });
    assert.equal(bad.status, 400);
    const badName = await adminJson(stack, 'POST', 'accounts/import', { body: { text: curl, name: '../x' } });
    assert.equal(badName.status, 400);
    const notJson = await admin(stack, 'POST', 'accounts/import', { body: 'nope' });
    assert.equal(notJson.status, 400);

    const rm = await adminJson(stack, 'POST', 'accounts/carol/remove', { body: {} });
    assert.equal(rm.status, 202, rm.text);
    assert.match(rm.body.moved_to, /carol\.toml\.removed-\d+$/);
    assert.ok(!existsSync(file));
    assert.ok(existsSync(rm.body.moved_to));
    assert.equal((await admin(stack, 'POST', 'accounts/carol/remove', { body: {} })).status, 404);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});
