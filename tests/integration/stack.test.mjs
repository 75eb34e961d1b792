// End-to-end: the real launcher, broker, frontend and worker against the mock
// upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startStack, chat, sseEvents, until } from './harness.mjs';

// A reply with multi-byte UTF-8, quotes, newlines and markup, so "byte-exact"
// means something.
const REPLY = 'Greetings, Cosmic Traveler! 🌌\n\nHere is "quoted" text, <b>tags</b> & a tab:\tend. Ünïcödé ✓';
const PROMPT = 'explain law to an alien';

let mock, stack;

before(async () => {
  mock = await startMock();
  await mock.rules([
    { match: { equals: PROMPT }, reply: REPLY },
    { match: { contains: 'Give me a person as JSON' }, reply: '```json\n{"name": "Ada", "age": 36}\n```' },
    { match: { contains: 'Describe a person in prose' }, reply: 'Ada is thirty-six.' },
  ]);
  stack = await startStack({ mock });
});

after(async () => {
  const r = await stack?.stop();
  await mock?.stop();
  assert.equal(r?.code, 0, 'launcher exits 0 on SIGTERM');
});

test('non-streaming completion returns the exact upstream text and usage', async () => {
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: [{ role: 'user', content: PROMPT }] });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.ok(r.headers.get('x-request-id'));
  const body = await r.json();
  assert.equal(body.object, 'chat.completion');
  assert.match(body.id, /^chatcmpl-/);
  assert.equal(body.model, 'qwen3-max');
  assert.equal(body.choices.length, 1);
  assert.equal(body.choices[0].message.role, 'assistant');
  assert.equal(body.choices[0].message.content, REPLY);
  assert.equal(body.choices[0].finish_reason, 'stop');
  assert.ok(body.usage.completion_tokens > 0, 'usage comes from upstream counts');
  assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
});

test('streaming completion: role chunk, exact content, finish, [DONE]', async () => {
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', stream: true, messages: [{ role: 'user', content: PROMPT }] });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  const events = [];
  for await (const e of sseEvents(r)) events.push(e);
  assert.equal(events.at(-1), '[DONE]');
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  assert.equal(chunks[0].choices[0].delta.role, 'assistant');
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, chunks[0].id);
  }
  const text = chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');
  assert.equal(text, REPLY);
  assert.ok(chunks.length > 5, 'the answer arrives in several chunks, not one');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('the first chunk reaches the client before the mock has finished the answer', async () => {
  await mock.hold();  // every new stream pauses after its first token until release
  try {
    const r = await chat(stack.baseUrl, { model: 'qwen3-max', stream: true, messages: [{ role: 'user', content: PROMPT }] });
    const it = sseEvents(r)[Symbol.asyncIterator]();
    let first = '';
    while (!first) {
      const { value, done } = await it.next();
      assert.ok(!done, 'stream ended before any content');
      first = JSON.parse(value).choices[0]?.delta?.content ?? '';
    }
    assert.ok(REPLY.startsWith(first));
    const st = await mock.state();
    const rec = st.records.at(-1);
    assert.notEqual(rec.outcome, 'finished', 'the mock is still holding the rest of the answer');
    await mock.release();
    let rest = '';
    for (;;) {
      const { value, done } = await it.next();
      if (done || value === '[DONE]') break;
      rest += JSON.parse(value).choices[0]?.delta?.content ?? '';
    }
    assert.equal(first + rest, REPLY);
  } finally {
    await mock.release().catch(() => {});
  }
});

test('a client that disconnects mid-stream cancels the upstream request', async () => {
  const before = (await mock.state()).counters ?? (await mock.state());
  const abortedBefore = before.completions_aborted ?? 0;
  await mock.hold();
  const ac = new AbortController();
  try {
    const r = await chat(stack.baseUrl, { model: 'qwen3-max', stream: true, messages: [{ role: 'user', content: PROMPT }] }, { signal: ac.signal });
    const it = sseEvents(r)[Symbol.asyncIterator]();
    await it.next();  // role chunk or first content: the stream is live upstream
    ac.abort();
    await until(async () => {
      const s = await mock.state();
      const c = s.counters ?? s;
      return (c.completions_aborted ?? 0) > abortedBefore || (c.stops ?? 0) > (before.stops ?? 0);
    }, { what: 'the mock to see the upstream request aborted' });
  } finally {
    await mock.release().catch(() => {});
  }
});

test('models come from the upstream list', async () => {
  const r = await fetch(`${stack.baseUrl}/v1/models`);
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.equal(body.object, 'list');
  const ids = body.data.map((m) => m.id);
  assert.ok(ids.includes('qwen3-max'), ids.join(','));
  for (const m of body.data) {
    assert.equal(m.object, 'model');
    assert.equal(typeof m.created, 'number');
    assert.equal(typeof m.owned_by, 'string');
  }
  const one = await fetch(`${stack.baseUrl}/v1/models/qwen3-max`);
  assert.equal(one.status, 200);
  assert.equal((await one.json()).id, 'qwen3-max');
  const missing = await fetch(`${stack.baseUrl}/v1/models/gpt-nope`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'model_not_found');
});

test('health reports the account and its token expiry', async () => {
  const r = await fetch(`${stack.baseUrl}/health`);
  assert.equal(r.status, 200);
  const h = await r.json();
  assert.equal(h.status, 'ok');
  assert.equal(h.broker.connected, true);
  assert.equal(h.accounts.length, 1);
  assert.equal(h.accounts[0].name, 'alice');
  assert.equal(h.accounts[0].health, 'ok');
  assert.ok(h.accounts[0].token_expires_in_s > 6 * 24 * 3600);
});

test('errors are OpenAI-shaped', async () => {
  const bad = await fetch(`${stack.baseUrl}/v1/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"model":' });
  assert.equal(bad.status, 400);
  const e = await bad.json();
  assert.equal(e.error.type, 'invalid_request_error');
  assert.ok('param' in e.error && 'code' in e.error);
  const unknown = await fetch(`${stack.baseUrl}/v1/nope`);
  assert.equal(unknown.status, 404);
  const wrong = await fetch(`${stack.baseUrl}/v1/chat/completions`);
  assert.equal(wrong.status, 405);
  const missingModel = await chat(stack.baseUrl, { messages: [{ role: 'user', content: 'x' }] });
  assert.equal(missingModel.status, 400);
  assert.equal((await missingModel.json()).error.param, 'model');
});

test('response_format json_object: the model is instructed, fenced JSON is unwrapped, validity is reported', async () => {
  const r = await chat(stack.baseUrl, {
    model: 'qwen3-max', response_format: { type: 'json_object' },
    messages: [{ role: 'user', content: 'Give me a person as JSON' }],
  });
  assert.equal(r.status, 200);
  const body = await r.json();
  assert.deepEqual(JSON.parse(body.choices[0].message.content), { name: 'Ada', age: 36 });
  assert.equal(body.qwen_json_valid, true);
  const rec = (await mock.state()).records.at(-1);
  assert.match(rec.content, /Give me a person as JSON[\s\S]*\[Output format\] Reply with one valid JSON object/);

  const prose = await chat(stack.baseUrl, {
    model: 'qwen3-max', stream: true,
    response_format: { type: 'json_schema', json_schema: { name: 'person', schema: { type: 'object' } } },
    messages: [{ role: 'user', content: 'Describe a person in prose' }],
  });
  const events = [];
  for await (const e of sseEvents(prose)) events.push(e);
  const finish = JSON.parse(events.at(-2));
  assert.equal(finish.choices[0].finish_reason, 'stop');
  assert.equal(finish.qwen_json_valid, false, 'prose is reported as not JSON');
  assert.match((await mock.state()).records.at(-1).content, /Schema name: person/);

  const bad = await chat(stack.baseUrl, { model: 'qwen3-max', response_format: { type: 'yaml' }, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(bad.status, 400);
  assert.equal((await bad.json()).error.param, 'response_format.type');
});

test('no worker capacity: a request past capacity and queue gets an OpenAI 503 with Retry-After', async () => {
  const m2 = await startMock();
  // One account with capacity 1 and no waiting room.
  const s2 = await startStack({ mock: m2, accounts: [{ name: 'solo', user: 'solo', capacity: 1 }], extraConfig: 'queue_limit = 0' });
  try {
    await m2.hold();
    const first = await chat(s2.baseUrl, { model: 'qwen3-max', stream: true, messages: [{ role: 'user', content: 'occupy the worker' }] });
    const it = sseEvents(first)[Symbol.asyncIterator]();
    await it.next();  // the only slot is now busy upstream
    const second = await chat(s2.baseUrl, { model: 'qwen3-max', messages: [{ role: 'user', content: 'one too many' }] });
    assert.equal(second.status, 503);
    assert.ok(Number(second.headers.get('retry-after')) > 0);
    const e = await second.json();
    assert.equal(e.error.type, 'server_error');
    assert.equal(e.error.code, 'service_unavailable');
    assert.match(e.error.message, /busy/);
    await m2.release();
    for (;;) {
      const { done, value } = await it.next();
      if (done || value === '[DONE]') break;
    }
  } finally {
    await m2.release().catch(() => {});
    await s2.stop();
    await m2.stop();
  }
});
