// GET /metrics (docs/metrics.md): the frontend serves its own families plus
// the broker's and every worker's, which ride in heartbeats. Known traffic
// against the mock (ok, streamed, invalid, a rate limit that fails over to
// the second account, an upstream error that reaches the client) must move
// each counter by exactly the expected amount; the real output must pass
// `promtool check metrics`. No sleeps: the test polls /metrics until the
// workers' and the broker's heartbeat counters show snapshots taken after
// the traffic.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { startMock, startStack, chat, sseEvents, until } from './harness.mjs';

const MODEL = 'qwen3-max';
const PROMTOOL = '/usr/bin/promtool';
const CHAT = '/v1/chat/completions';

// Prometheus text → [{name, labels, value}] (enough for our own output).
function parse(text) {
  const out = [];
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const m = line.match(/^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/);
    assert.ok(m, `a sample line: ${line}`);
    const labels = {};
    if (m[2]) {
      for (const l of m[2].matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[l[1]] = l[2];
    }
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

function sum(samples, name, want = {}) {
  let s = 0;
  for (const x of samples) {
    if (x.name !== name) continue;
    if (Object.entries(want).every(([k, v]) => x.labels[k] === v)) s += x.value;
  }
  return s;
}

async function scrape(stack, headers = {}) {
  const r = await fetch(`${stack.baseUrl}/metrics`, { headers });
  const text = await r.text();
  assert.equal(r.status, 200, text);
  assert.match(r.headers.get('content-type'), /^text\/plain; version=0\.0\.4/);
  return { text, samples: parse(text) };
}

// Waits until /metrics shows snapshots the broker and every worker took
// after this call: heartbeat counters +2 (broker) and +3 (workers, whose
// snapshots reach the frontend through the broker's next heartbeat).
async function synced(stack, accounts) {
  const hb = (s, labels) => sum(s, 'qwenproxy_heartbeats_total', labels);
  const { samples: s0 } = await scrape(stack);
  const want = [[{ process: 'broker' }, 2], ...accounts.map((a) => [{ process: 'worker', account: a }, 3])];
  const start = want.map(([l]) => hb(s0, l));
  return until(async () => {
    const s = await scrape(stack);
    return want.every(([l, d], i) => hb(s.samples, l) >= start[i] + d) ? s : false;
  }, { what: 'heartbeats carrying fresh metrics' });
}

let mock;
let stack;
before(async () => {
  mock = await startMock();
  stack = await startStack({ mock, accounts: [{ name: 'alice', user: 'alice' }, { name: 'bob', user: 'bob' }] });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

test('known traffic moves every counter by exactly the expected amount', async (t) => {
  // Warm the model list so every request below is admitted the same way.
  const warm = await chat(stack.baseUrl, { model: MODEL, messages: [{ role: 'user', content: 'warm up' }] });
  assert.equal(warm.status, 200);
  await warm.json();
  const { samples: a } = await synced(stack, ['alice', 'bob']);
  const st0 = await mock.state();

  const N = 3, M = 2, K = 2;
  let tokensIn = 0, tokensOut = 0;
  for (let i = 0; i < N; i++) {
    const r = await chat(stack.baseUrl, { model: MODEL, messages: [{ role: 'user', content: `plain ${i}` }] });
    assert.equal(r.status, 200);
    const j = await r.json();
    tokensIn += j.usage.prompt_tokens;
    tokensOut += j.usage.completion_tokens;
  }
  for (let i = 0; i < M; i++) {
    const r = await chat(stack.baseUrl, {
      model: MODEL, stream: true, stream_options: { include_usage: true },
      messages: [{ role: 'user', content: `streamed ${i}` }],
    });
    assert.equal(r.status, 200);
    for await (const e of sseEvents(r)) {
      if (e === '[DONE]') continue;
      const j = JSON.parse(e);
      if (j.usage) {
        tokensIn += j.usage.prompt_tokens;
        tokensOut += j.usage.completion_tokens;
      }
    }
  }
  for (let i = 0; i < K; i++) {
    const r = await chat(stack.baseUrl, { model: MODEL, messages: 'not an array' });
    assert.equal(r.status, 400);
    await r.text();
  }
  const models = await fetch(`${stack.baseUrl}/v1/models`);
  assert.equal(models.status, 200);
  await models.text();

  // An upstream error that reaches the client: internal error twice (the
  // worker retries once in a new chat), then 502.
  await mock.config({ faults: [{ kind: 'internal_error', scope: 'next', count: 2 }] });
  const bad = await chat(stack.baseUrl, { model: MODEL, messages: [{ role: 'user', content: 'doomed' }] });
  assert.equal(bad.status, 502);
  await bad.text();
  await mock.config({ faults: [] });

  // alice is out of quota: of two requests, the one the broker gives her
  // fails over to bob (then alice is marked rate limited and skipped).
  await mock.config({ add_faults: [{ kind: 'rate_limited', scope: 'user', user: 'alice', num: 6 }] });
  for (let i = 0; i < 2; i++) {
    const r = await chat(stack.baseUrl, { model: MODEL, messages: [{ role: 'user', content: `failover ${i}` }] });
    assert.equal(r.status, 200, 'the failover is invisible to the client');
    const j = await r.json();
    tokensIn += j.usage.prompt_tokens;
    tokensOut += j.usage.completion_tokens;
  }

  const { samples: b, text } = await synced(stack, ['alice', 'bob']);
  const st1 = await mock.state();
  const d = (name, labels = {}) => sum(b, name, labels) - sum(a, name, labels);
  const ok = N + M + 2;

  // Frontend: requests by endpoint and outcome, durations, TTFC, tokens, keys.
  assert.equal(d('qwenproxy_requests_total', { endpoint: CHAT, outcome: 'ok', status: '200' }), ok);
  assert.equal(d('qwenproxy_requests_total', { endpoint: CHAT, outcome: 'ok', model: MODEL }), ok);
  assert.equal(d('qwenproxy_requests_total', { endpoint: CHAT, outcome: 'invalid_request_error', status: '400' }), K);
  assert.equal(d('qwenproxy_requests_total', { endpoint: CHAT, status: '502' }), 1);
  assert.equal(d('qwenproxy_requests_total', { endpoint: '/v1/models', outcome: 'ok' }), 1);
  assert.equal(d('qwenproxy_requests_total', { endpoint: CHAT }), ok + K + 1);
  assert.equal(d('qwenproxy_requests_total', { endpoint: CHAT, outcome: 'ok', account: 'bob' }) +
               d('qwenproxy_requests_total', { endpoint: CHAT, outcome: 'ok', account: 'alice' }), ok);
  assert.ok(d('qwenproxy_requests_total', { endpoint: CHAT, outcome: 'ok', account: 'bob' }) >= 2,
    'both failover requests were served by bob');
  assert.equal(d('qwenproxy_request_duration_seconds_count', { endpoint: CHAT }), ok + K + 1);
  assert.equal(d('qwenproxy_request_duration_seconds_count', { endpoint: CHAT, stream: 'true' }), M);
  assert.equal(d('qwenproxy_time_to_first_content_seconds_count', { model: MODEL }), ok);
  assert.ok(tokensIn > 0 && tokensOut > 0);
  assert.equal(d('qwenproxy_tokens_total', { model: MODEL, direction: 'in' }), tokensIn);
  assert.equal(d('qwenproxy_tokens_total', { model: MODEL, direction: 'out' }), tokensOut);
  assert.equal(d('qwenproxy_key_requests_total', { key: '', outcome: 'ok' }), ok + 1);
  assert.equal(d('qwenproxy_key_tokens_total', { key: '', direction: 'out' }), tokensOut);
  assert.equal(sum(b, 'qwenproxy_requests_in_flight'), 0);
  assert.equal(sum(b, 'qwenproxy_broker_connected'), 1);

  // Broker: failover, conversations (per dispatch), queue, accounts.
  assert.equal(d('qwenproxy_failovers_total'), 1);
  assert.equal(d('qwenproxy_requeues_total'), 0);
  const dispatches = N + M + 1 + 2 + 1;  // + the 502's, the two failover requests', the re-dispatch
  assert.equal(d('qwenproxy_conversations_total', { mode: 'new' }), dispatches);
  assert.equal(d('qwenproxy_conversations_total', { mode: 'continued' }), 0);
  assert.equal(sum(b, 'qwenproxy_queue_depth'), 0);
  assert.equal(sum(b, 'qwenproxy_workers'), 2);
  assert.equal(sum(b, 'qwenproxy_accounts', { health: 'ok' }), 1);
  assert.equal(sum(b, 'qwenproxy_accounts', { health: 'rate_limited' }), 1);
  for (const acc of ['alice', 'bob']) {
    const left = sum(b, 'qwenproxy_account_token_expires_in_seconds', { account: acc });
    assert.ok(left > 3600 && left <= 7 * 24 * 3600, `${acc}'s token expiry: ${left}`);
  }

  // Workers: upstream calls match what the mock saw; errors and retries by class.
  assert.equal(d('qwenproxy_upstream_calls_total', { endpoint: 'completion' }),
    st1.completions_requested - st0.completions_requested);
  assert.equal(d('qwenproxy_upstream_calls_total', { endpoint: 'new_chat' }),
    st1.chats_created - st0.chats_created);
  assert.equal(d('qwenproxy_upstream_errors_total', { class: 'internal' }), 2);
  assert.equal(d('qwenproxy_upstream_errors_total', { class: 'rate_limit' }), 1);
  assert.equal(d('qwenproxy_upstream_errors_total', { class: 'rate_limit', account: 'alice' }), 1);
  assert.equal(d('qwenproxy_upstream_errors_total', { class: 'transport' }) +
               d('qwenproxy_upstream_errors_total', { class: 'timeout' }) +
               d('qwenproxy_upstream_errors_total', { class: 'waf' }) +
               d('qwenproxy_upstream_errors_total', { class: 'credentials' }), 0);
  assert.equal(d('qwenproxy_upstream_retries_total', { cause: 'internal_error' }), 1);
  assert.equal(d('qwenproxy_upstream_retries_total'), 1);
  assert.equal(d('qwenproxy_chat_pool_misses_total'), dispatches);
  assert.equal(d('qwenproxy_chat_pool_hits_total'), 0);

  // process_* for every process, labelled by process.
  for (const labels of [{ process: 'frontend' }, { process: 'broker' },
    { process: 'worker', account: 'alice' }, { process: 'worker', account: 'bob' }]) {
    for (const name of ['process_resident_memory_bytes', 'process_open_fds', 'process_max_fds',
      'process_start_time_seconds']) {
      assert.ok(sum(b, name, labels) > 0, `${name} ${JSON.stringify(labels)}`);
    }
    assert.ok(b.some((x) => x.name === 'process_cpu_seconds_total' &&
      Object.entries(labels).every(([k, v]) => x.labels[k] === v)), `cpu ${JSON.stringify(labels)}`);
  }
  // One HELP and one TYPE per family, however many processes report it.
  const types = text.split('\n').filter((l) => l.startsWith('# TYPE '));
  assert.equal(new Set(types).size, types.length);
  assert.ok(!/[0-9a-f]{24}/.test(text), 'no request ids in labels');
  assert.ok(!/plain 0|doomed/.test(text), 'no user text in labels');

  if (!existsSync(PROMTOOL)) {
    t.skip(`promtool not installed at ${PROMTOOL}: the format check is skipped`);
    return;
  }
  const report = execFileSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
  assert.ok(typeof report === 'string');
});

test('a second turn continues its conversation natively; a concurrent one forks', async () => {
  const { samples: a } = await synced(stack, ['alice', 'bob']);
  const history = [{ role: 'user', content: 'remember me' }];
  const first = await (await chat(stack.baseUrl, { model: MODEL, messages: history })).json();
  history.push(first.choices[0].message);
  const next = (text) => ({ model: MODEL, messages: [...history, { role: 'user', content: text }] });
  const second = await chat(stack.baseUrl, next('and now?'));
  assert.equal(second.status, 200);
  await second.json();
  // Two continuations of the same history at once: one continues, one forks.
  await mock.hold();
  const both = [chat(stack.baseUrl, next('branch A')), chat(stack.baseUrl, next('branch B'))];
  await until(async () => (await mock.state()).parked === 2, { what: 'both streams parked' });
  await mock.release();
  for (const r of await Promise.all(both)) {
    assert.equal(r.status, 200);
    await r.json();
  }
  const { samples: b } = await synced(stack, ['alice', 'bob']);
  const d = (mode) => sum(b, 'qwenproxy_conversations_total', { mode }) -
    sum(a, 'qwenproxy_conversations_total', { mode });
  assert.equal(d('new'), 1);
  assert.equal(d('continued'), 2);
  assert.equal(d('forked'), 1);
  assert.equal(d('replayed'), 0);
});

test('access: no admin key on loopback serves it; with an admin key only the bearer gets in', async () => {
  await scrape(stack);  // the shared stack listens on 127.0.0.1 without an admin key
  const m2 = await startMock();
  const s2 = await startStack({ mock: m2, frontend: { admin_key: 'adm-secret-1', api_key: 'client-key-1' } });
  try {
    for (const headers of [{}, { authorization: 'Bearer client-key-1' }, { authorization: 'Bearer adm-secret-2' }]) {
      const r = await fetch(`${s2.baseUrl}/metrics`, { headers });
      assert.equal(r.status, 401);
      const e = (await r.json()).error;
      assert.equal(e.code, 'invalid_api_key');
      assert.equal(e.type, 'invalid_request_error');  // as OpenAI and /v1 answer a wrong key
    }
    const { samples } = await scrape(s2, { authorization: 'Bearer adm-secret-1' });
    assert.ok(samples.some((x) => x.name === 'process_open_fds' && x.labels.process === 'frontend'));
    // A request refused before it reaches a ChatCall (401) is counted too.
    const r = await chat(s2.baseUrl, { model: MODEL, messages: [{ role: 'user', content: 'x' }] });
    assert.equal(r.status, 401);
    await r.text();
    const after = await scrape(s2, { authorization: 'Bearer adm-secret-1' });
    assert.equal(sum(after.samples, 'qwenproxy_requests_total', { endpoint: CHAT, status: '401' }), 1);
    assert.equal(sum(after.samples, 'qwenproxy_unauthenticated_total'), 1);
    const post = await fetch(`${s2.baseUrl}/metrics`, { method: 'POST', headers: { authorization: 'Bearer adm-secret-1' } });
    assert.equal(post.status, 405);
  } finally {
    await s2.stop();
    await m2.stop();
  }
});
