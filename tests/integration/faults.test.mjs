// One test per mock fault switch (docs/mock-qwen.md, "Fault switches"), through
// the whole stack (launcher, frontend, broker, worker) against mock-qwen. Each
// asserts exactly what the client sees (HTTP status, OpenAI error type/code,
// Retry-After, stream events), whether the worker retried (mock counters), and
// the account's health in /health. Faults that change the account's health get
// a stack of their own (health persists in the worker); the others share one
// stack and reset the mock between tests. No sleeps: waits poll with until().
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startStack, chat, sseEvents, until } from './harness.mjs';

const MODEL = 'qwen3-max';
const PROMPT = 'fault test';
const REPLY = `You said: ${PROMPT}`;  // the mock's echo

const body = (extra = {}) => ({ model: MODEL, messages: [{ role: 'user', content: PROMPT }], ...extra });

async function health(stack) {
  const r = await fetch(`${stack.baseUrl}/health`);
  return r.json();
}

async function accountHealth(stack, want) {
  return until(async () => {
    const h = await health(stack);
    return h.accounts[0]?.health === want ? h : false;
  }, { what: `account health ${want}` });
}

// A stack of its own for faults that change the account's health.
async function isolated(fn, { upstream = {} } = {}) {
  const mock = await startMock();
  let stack;
  try {
    stack = await startStack({ mock, upstream });
    await fn(mock, stack);
  } finally {
    await stack?.stop();
    await mock.stop();
  }
}

async function errorBody(r) {
  const text = await r.text();
  const j = JSON.parse(text);
  assert.ok(j.error, `an OpenAI error object: ${text}`);
  return j.error;
}

// Streams a request whose mock stream is held after its first token, checks
// that the first content reached the client, releases the mock and returns
// every remaining event.
async function streamHeldThenRelease(mock, stack) {
  await mock.hold();
  const r = await chat(stack.baseUrl, body({ stream: true }));
  assert.equal(r.status, 200);
  const it = sseEvents(r)[Symbol.asyncIterator]();
  const events = [];
  let first = '';
  while (!first) {
    const { value, done } = await it.next();
    assert.ok(!done, 'stream ended before any content');
    events.push(value);
    first = JSON.parse(value).choices?.[0]?.delta?.content ?? '';
  }
  assert.ok(REPLY.startsWith(first), `first content ${JSON.stringify(first)}`);
  await mock.release();
  for (;;) {
    const { value, done } = await it.next();
    if (done) break;
    events.push(value);
  }
  return { events, first };
}

function assertErrorEventEnd(events) {
  assert.notEqual(events.at(-1), '[DONE]', 'no [DONE] after a mid-stream error');
  assert.ok(!events.includes('[DONE]'), 'no [DONE] anywhere');
  const last = JSON.parse(events.at(-1));
  assert.ok(last.error, `the stream ends with an error event: ${events.at(-1)}`);
  assert.equal(last.error.type, 'server_error');
  assert.equal(last.error.code, 'upstream_error');
  for (const e of events.slice(0, -1)) {
    const c = JSON.parse(e);
    assert.ok(!c.error, 'only the last event is an error');
    for (const ch of c.choices ?? []) assert.equal(ch.finish_reason ?? null, null, 'never a fake finish_reason');
  }
}

describe('faults that change the account health (one stack each)', () => {
  test('quota: 429 + Retry-After num*3600, rate_limited, then fail fast at the broker', async () => {
    await isolated(async (mock, stack) => {
      await mock.config({ faults: [{ kind: 'rate_limited', num: 6 }] });
      const r = await chat(stack.baseUrl, body());
      assert.equal(r.status, 429);
      assert.equal(r.headers.get('retry-after'), String(6 * 3600));
      const e = await errorBody(r);
      assert.equal(e.type, 'rate_limit_error');
      assert.equal(e.code, 'rate_limit_exceeded');
      await accountHealth(stack, 'rate_limited');
      const before = await mock.state();
      assert.equal(before.completions_requested, 1, 'not retried');
      // The broker knows the account is limited: no upstream request at all.
      const r2 = await chat(stack.baseUrl, body({ stream: true }));
      assert.equal(r2.status, 429);
      const ra = Number(r2.headers.get('retry-after'));
      assert.ok(ra > 6 * 3600 - 120 && ra <= 6 * 3600, `Retry-After ${ra}`);
      const e2 = await errorBody(r2);
      assert.equal(e2.type, 'rate_limit_error');
      const afterState = await mock.state();
      assert.equal(afterState.completions_requested, before.completions_requested);
      assert.equal(afterState.chats_created, before.chats_created);
    });
  });

  for (const kind of ['waf_json', 'waf_html']) {
    test(`WAF (${kind === 'waf_json' ? 'a: punish JSON' : 'b: 403 HTML'}): 502 about human verification, needs_verification`, async () => {
      await isolated(async (mock, stack) => {
        await mock.config({ faults: [{ kind }] });
        const r = await chat(stack.baseUrl, body());
        assert.equal(r.status, 502);
        assert.equal(r.headers.get('retry-after'), null);
        const e = await errorBody(r);
        assert.equal(e.type, 'server_error');
        assert.equal(e.code, 'upstream_error');
        assert.match(e.message, /human verification/i);
        assert.doesNotMatch(e.message, /eyJ/, 'no token in the message');
        await accountHealth(stack, 'needs_verification');
        assert.equal((await mock.state()).completions_requested, 1, 'not retried');
      });
    });
  }

  test('expired JWT (401): 503 upstream_auth_failed, credentials_invalid', async () => {
    await isolated(async (mock, stack) => {
      await mock.config({ faults: [{ kind: 'unauthorized' }] });
      const r = await chat(stack.baseUrl, body({ stream: true }));
      assert.equal(r.status, 503);
      const e = await errorBody(r);
      assert.equal(e.type, 'server_error');
      assert.equal(e.code, 'upstream_auth_failed');
      assert.doesNotMatch(e.message, /eyJ/, 'no token in the message');
      await accountHealth(stack, 'credentials_invalid');
      assert.equal((await mock.state()).completions_requested, 1, 'not retried');
    });
  });
});

describe('faults the worker absorbs or reports per request (shared stack)', () => {
  let mock, stack;
  const FIRST_BYTE_MS = 1500;

  before(async () => {
    mock = await startMock();
    stack = await startStack({ mock, upstream: { first_byte_timeout_ms: FIRST_BYTE_MS } });
  });
  after(async () => {
    await stack?.stop();
    await mock?.stop();
  });
  beforeEach(async () => {
    await mock.reset();
    await accountHealth(stack, 'ok');
  });

  test('chat in progress: stop, back off, retry in the same chat: success', async () => {
    await mock.config({ faults: [{ kind: 'chat_in_progress', scope: 'next' }] });
    const r = await chat(stack.baseUrl, body());
    assert.equal(r.status, 200);
    const j = await r.json();
    assert.equal(j.choices[0].message.content, REPLY);
    assert.equal(j.choices[0].finish_reason, 'stop');
    const st = await until(async () => {
      const s = await mock.state();
      return s.stops >= 1 ? s : false;
    }, { what: 'the stop request' });
    assert.equal(st.stops, 1);
    assert.equal(st.chats_created, 1, 'the same chat');
    assert.equal(st.completions_rejected, 1);
    assert.equal(st.completions_finished, 1);
    const recs = st.records;
    assert.equal(recs.length, 2);
    assert.equal(recs[0].chat_id, recs[1].chat_id);
    assert.equal(recs[0].error_details, 'The chat is in progress!');
    assert.equal(recs[1].outcome, 'finished');
    assert.equal((await health(stack)).accounts[0].health, 'ok');
  });

  test('internal error before the stream: retried in a new chat: success', async () => {
    await mock.config({ faults: [{ kind: 'internal_error', scope: 'next' }] });
    const r = await chat(stack.baseUrl, body({ stream: true }));
    assert.equal(r.status, 200);
    const events = [];
    for await (const e of sseEvents(r)) events.push(e);
    assert.equal(events.at(-1), '[DONE]');
    const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
    assert.equal(chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join(''), REPLY);
    assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
    const st = await mock.state();
    assert.equal(st.chats_created, 2, 'a second chat for the retry');
    assert.equal(st.completions_rejected, 1);
    assert.equal(st.completions_finished, 1);
    assert.equal(st.records.length, 2);
    assert.notEqual(st.records[0].chat_id, st.records[1].chat_id);
    assert.equal(st.records[0].error_details, 'Internal error');
    assert.equal(st.records[1].parent_id, null);
  });

  test('internal error twice: no third try, 502', async () => {
    await mock.config({ faults: [{ kind: 'internal_error', scope: 'next', count: 2 }] });
    const r = await chat(stack.baseUrl, body());
    assert.equal(r.status, 502);
    const e = await errorBody(r);
    assert.equal(e.code, 'upstream_error');
    assert.match(e.message, /Internal error/);
    const st = await mock.state();
    assert.equal(st.chats_created, 2);
    assert.equal(st.completions_requested, 2);
    assert.equal((await health(stack)).accounts[0].health, 'ok');
  });

  test('internal error mid-stream (after the first chunk): error event, no [DONE], no finish_reason', async () => {
    await mock.config({ faults: [{ kind: 'mid_stream_error', after: 1 }] });
    const { events } = await streamHeldThenRelease(mock, stack);
    assertErrorEventEnd(events);
    assert.match(JSON.parse(events.at(-1)).error.message, /Internal error/);
    const st = await mock.state();
    assert.equal(st.completions_requested, 1, 'no retry once a chunk was forwarded');
    assert.equal(st.chats_created, 1);
    assert.equal((await health(stack)).accounts[0].health, 'ok');
  });

  test('slow first byte beyond the first-byte timeout: 504 upstream_timeout', async () => {
    await mock.config({ faults: [{ kind: 'slow_first_byte', delay_ms: FIRST_BYTE_MS * 4, scope: 'next' }] });
    const t0 = Date.now();
    const r = await chat(stack.baseUrl, body({ stream: true }));
    assert.equal(r.status, 504);
    const e = await errorBody(r);
    assert.equal(e.type, 'server_error');
    assert.equal(e.code, 'upstream_timeout');
    assert.match(e.message, /first-byte timeout/);
    assert.ok(Date.now() - t0 < FIRST_BYTE_MS * 4, 'the worker gave up before the mock answered');
    assert.equal((await mock.state()).chats_created, 1, 'a timeout is not retried');
    assert.equal((await health(stack)).accounts[0].health, 'ok');
  });

  test('dropped connection mid-stream: error event, no [DONE], no finish_reason', async () => {
    await mock.config({ faults: [{ kind: 'drop_mid_stream', after: 1 }] });
    const { events } = await streamHeldThenRelease(mock, stack);
    assertErrorEventEnd(events);
    const st = await until(async () => {
      const s = await mock.state();
      return s.records[0]?.outcome === 'error' || s.records[0]?.error_code === 'dropped' ? s : false;
    }, { what: 'the mock to record the drop' });
    assert.equal(st.records[0].error_code, 'dropped');
    assert.equal(st.completions_requested, 1);
    assert.equal((await health(stack)).accounts[0].health, 'ok');
  });
});
