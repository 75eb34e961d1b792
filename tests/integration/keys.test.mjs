// Client keys end to end: `qwenproxy keys add|list|revoke` against a running
// stack, requests with those keys through the OpenAI SDK and raw HTTP, every
// limit (429 + Retry-After in OpenAI's shape), a disallowed model (403), a
// revocation seen without a restart, and the legacy frontend.api_key.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import OpenAI from 'openai';
import { BIN, chat, sseEvents, startMock, startStack, until } from './harness.mjs';

const LEGACY = 'legacy-key-0123456789';
let mock, stack;

before(async () => {
  mock = await startMock();
  stack = await startStack({ mock, env: { QP_API_KEY: LEGACY } });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

function keys(args) {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('QWEN_') || k.startsWith('QP_')) delete clean[k];
  const r = spawnSync(join(BIN, 'qwenproxy'), ['keys', ...args, '--config', stack.configPath], { encoding: 'utf8', env: clean });
  if (r.error) throw r.error;
  return r;
}

function addKey(name, opts = []) {
  const r = keys(['add', name, ...opts]);
  assert.equal(r.status, 0, r.stderr);
  const key = r.stdout.trim();
  assert.match(key, /^qp-[0-9a-f]{64}$/);
  return key;
}

const body = (extra = {}) => ({ model: 'qwen3-max', messages: [{ role: 'user', content: 'hello' }], ...extra });
const withKey = (key, extra) => chat(stack.baseUrl, body(extra), { headers: { authorization: `Bearer ${key}` } });

// Waits until the frontend has (re)loaded the keys file: `key` gets `status`.
async function untilStatus(key, status, extra) {
  return until(async () => {
    const r = await withKey(key, extra);
    const text = await r.text();
    return r.status === status ? { r, text } : null;
  }, { what: `HTTP ${status}` });
}

function assertOpenAIError(text, { type, code }) {
  const j = JSON.parse(text);
  assert.deepEqual(Object.keys(j.error).sort(), ['code', 'message', 'param', 'type']);
  assert.equal(j.error.type, type);
  assert.equal(j.error.code, code);
  assert.equal(j.error.param, null);
  return j.error;
}

test('add prints a key once; the file holds only its hash, mode 0600; list never shows it', async () => {
  const key = addKey('app', ['--rpm', '100']);
  const file = join(stack.dir, 'keys', 'keys.toml');
  assert.equal(statSync(file).mode & 0o777, 0o600);
  const text = readFileSync(file, 'utf8');
  assert.ok(!text.includes(key.slice(3)), 'the key itself is not stored');
  assert.match(text, /hash = "sha256:[0-9a-f]{64}"/);
  const list = keys(['list']);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /^app +[0-9a-f]{8} +100 +- +- .* all$/m);
  assert.ok(!list.stdout.includes(key.slice(3)));
  assert.equal(keys(['add', 'app']).status, 1, 'duplicate name refused');

  const { text: ok } = await untilStatus(key, 200);
  assert.equal(JSON.parse(ok).object, 'chat.completion');
  const client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  const r = await client.chat.completions.create(body());
  assert.ok(r.choices[0].message.content.length > 0);
  // The frontend never logs the key.
  assert.ok(!stack.err.lines.some((l) => l.includes(key.slice(3))));
});

test('a wrong key is 401; the legacy api_key keeps working beside the keys file', async () => {
  const bad = await withKey(`qp-${'0'.repeat(64)}`);
  assert.equal(bad.status, 401);
  assertOpenAIError(await bad.text(), { type: 'invalid_request_error', code: 'invalid_api_key' });
  const legacy = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: LEGACY, maxRetries: 0 });
  const r = await legacy.chat.completions.create(body());
  assert.ok(r.choices[0].message.content.length > 0);
});

test('rpm: 429 with Retry-After, type "requests", code rate_limit_exceeded', async () => {
  const key = addKey('rpm', ['--rpm', '2']);
  await untilStatus(key, 200);
  assert.equal((await withKey(key)).status, 200);
  const r = await withKey(key);
  assert.equal(r.status, 429);
  const retry = Number(r.headers.get('retry-after'));
  assert.ok(retry >= 1 && retry <= 60, `retry-after ${retry}`);
  const e = assertOpenAIError(await r.text(), { type: 'requests', code: 'rate_limit_exceeded' });
  assert.match(e.message, /requests per min \(RPM\): Limit 2, Used 2/);
  // Through the SDK: a RateLimitError.
  const client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  await assert.rejects(client.chat.completions.create(body()), (err) => err.status === 429 && err.code === 'rate_limit_exceeded');
});

test('tpm: the usage of finished requests closes the key (type "tokens")', async () => {
  const key = addKey('tpm', ['--tpm', '1']);
  await untilStatus(key, 200);
  const r = await withKey(key);
  assert.equal(r.status, 429);
  assert.ok(Number(r.headers.get('retry-after')) >= 1);
  const e = assertOpenAIError(await r.text(), { type: 'tokens', code: 'rate_limit_exceeded' });
  assert.match(e.message, /tokens per min \(TPM\): Limit 1, Used \d+/);
});

test('concurrency: a second request while one streams is 429; the slot comes back', async () => {
  const key = addKey('conc', ['--concurrency', '1']);
  await untilStatus(key, 200);
  await mock.hold();
  let released = false;
  try {
    const first = await withKey(key, { stream: true });
    assert.equal(first.status, 200);  // headers sent: it is in flight
    const second = await withKey(key);
    assert.equal(second.status, 429);
    assert.equal(second.headers.get('retry-after'), '1');
    const e = assertOpenAIError(await second.text(), { type: 'requests', code: 'rate_limit_exceeded' });
    assert.match(e.message, /concurrent requests: Limit 1, Used 1/);
    await mock.release();
    released = true;
    for await (const _ of sseEvents(first)) { /* drain */ }
  } finally {
    if (!released) await mock.release();
  }
  assert.equal((await withKey(key)).status, 200);

  // A client that disconnects gives its slot back too: while the mock holds
  // every stream, a new streamed request is admitted (200 after its first
  // token) only once the aborted one has released the slot.
  await mock.hold();
  const streamed = (signal) => chat(stack.baseUrl, body({ stream: true }), { headers: { authorization: `Bearer ${key}` }, signal });
  const controllers = [];
  try {
    const ac = new AbortController();
    controllers.push(ac);
    assert.equal((await streamed(ac.signal)).status, 200);
    ac.abort();
    await until(async () => {
      const c = new AbortController();
      controllers.push(c);
      const r = await streamed(c.signal);
      if (r.status !== 200) await r.text();
      return r.status === 200;
    }, { what: 'the slot of the aborted request' });
  } finally {
    for (const c of controllers) c.abort();
    await mock.release();
  }
  await untilStatus(key, 200);
});

test('models: a disallowed model is 403 model_not_found; /v1/models lists only the allowed', async () => {
  const key = addKey('narrow', ['--models', 'qwen3-max']);
  await untilStatus(key, 200);
  const r = await withKey(key, { model: 'qwen-plus' });
  assert.equal(r.status, 403);
  const e = assertOpenAIError(await r.text(), { type: 'invalid_request_error', code: 'model_not_found' });
  assert.match(e.message, /does not have access to model `qwen-plus`/);
  const client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: key, maxRetries: 0 });
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.deepEqual(ids, ['qwen3-max']);
  await assert.rejects(client.models.retrieve('qwen-plus'), (err) => err.status === 404);
});

test('revoke: the key gets 401 without a restart; a bad file keeps the keys', async () => {
  const key = addKey('gone');
  await untilStatus(key, 200);
  const pid = stack.pid('frontend');
  const rv = keys(['revoke', 'gone']);
  assert.equal(rv.status, 0, rv.stderr);
  const { text } = await untilStatus(key, 401);
  assertOpenAIError(text, { type: 'invalid_request_error', code: 'invalid_api_key' });
  assert.equal(stack.pid('frontend'), pid, 'no restart');
  assert.equal(keys(['revoke', 'gone']).status, 1);

  // A broken file (here: not TOML) keeps the previous keys and says why.
  const kept = addKey('kept');
  await untilStatus(kept, 200);
  const file = join(stack.dir, 'keys', 'keys.toml');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, '[[keys]\n', { mode: 0o600 });
  await stack.err.waitFor(/event=keys.invalid .*not valid TOML/);
  assert.equal((await withKey(kept)).status, 200);
  writeFileSync(file, good, { mode: 0o600 });
});

test('/health: full detail with any valid key (client key or legacy), only the status otherwise', async () => {
  const key = addKey('probe', ['--models', 'qwen3-max', '--rpm', '2']);
  await untilStatus(key, 200);  // the first of the key's two requests this minute
  const health = async (authorization) => {
    const r = await fetch(`${stack.baseUrl}/health`, { headers: authorization ? { authorization } : {} });
    assert.equal(r.status, 200);
    return r.json();
  };
  // A limited key sees everything, and /health does not count against its rpm.
  for (const auth of [`Bearer ${key}`, `bearer  ${key}`, `BEARER\t${key}`, `Bearer ${LEGACY}`]) {
    const h = await health(auth);
    assert.ok(Array.isArray(h.accounts) && h.accounts.length >= 1, `${auth.split(' ')[0]}: ${JSON.stringify(h)}`);
    assert.equal(typeof h.broker.connected, 'boolean');
  }
  for (const auth of [undefined, `Bearer qp-${'0'.repeat(64)}`, `Basic ${key}`, key]) {
    assert.deepEqual(Object.keys(await health(auth)), ['status']);
  }
  assert.equal((await withKey(key)).status, 200, 'the second request of the minute');
  assert.equal((await withKey(key)).status, 429);
  // A revoked key is a stranger again.
  assert.equal(keys(['revoke', 'probe']).status, 0);
  await untilStatus(key, 401);
  assert.deepEqual(Object.keys(await health(`Bearer ${key}`)), ['status']);
});
