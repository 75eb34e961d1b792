// OpenAI API conformance over raw HTTP: every response body and stream chunk
// is validated against OpenAI's own JSON Schemas (tests/schemas/openai.json,
// extracted from OpenAI's openapi.yaml), and the HTTP/1.1 framing is checked
// on raw sockets (keep-alive, pipelining, chunked bodies, 100-continue).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startMock, startStack, chat, sseEvents, until } from '../integration/harness.mjs';

// --- schemas -----------------------------------------------------------------

const bundle = JSON.parse(readFileSync(new URL('../schemas/openai.json', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('unixtime', { type: 'number', validate: (n) => Number.isInteger(n) && n > 0 });
ajv.addSchema(bundle, 'openai');
const schema = (name) => {
  const v = ajv.getSchema(`openai#/$defs/${name}`);
  assert.ok(v, `schema ${name} is in the bundle`);
  return v;
};
const V = {
  completion: schema('CreateChatCompletionResponse'),
  chunk: schema('CreateChatCompletionStreamResponse'),
  models: schema('ListModelsResponse'),
  model: schema('Model'),
  error: schema('ErrorResponse'),
};
function valid(validator, value, what) {
  const ok = validator(value);
  assert.ok(ok, `${what} does not match OpenAI's schema: ${ajv.errorsText(validator.errors)}\n${JSON.stringify(value)}`);
}

// The schema must be able to fail: a chunk without `object` is rejected.
test('the schemas reject a non-conforming object', () => {
  assert.equal(V.chunk({ id: 'x', created: 1, model: 'm', choices: [] }), false);
  assert.equal(V.error({ error: { message: 'm', type: 't' } }), false);
  assert.equal(V.completion({ id: 'x', object: 'chat.completion', created: 1, model: 'm', choices: [{ index: 0, message: { role: 'assistant', content: 'a' }, finish_reason: 'done', logprobs: null }] }), false);
});

// --- raw HTTP/1.1 client ------------------------------------------------------

// Parses complete responses off the front of `buf`. Returns {res, used} or null.
function parseResponse(buf, { headRequest = false } = {}) {
  const headEnd = buf.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const lines = buf.subarray(0, headEnd).toString('latin1').split('\r\n');
  const m = lines[0].match(/^HTTP\/1\.1 (\d{3}) ?(.*)$/);
  assert.ok(m, `bad status line ${JSON.stringify(lines[0])}`);
  const status = Number(m[1]);
  const headers = {};
  for (const l of lines.slice(1)) {
    const i = l.indexOf(':');
    const k = l.slice(0, i).trim().toLowerCase();
    const v = l.slice(i + 1).trim();
    headers[k] = headers[k] !== undefined ? `${headers[k]}, ${v}` : v;
  }
  let pos = headEnd + 4;
  if (status < 200 || status === 204 || status === 304 || headRequest) {
    return { res: { status, headers, body: '' }, used: pos };
  }
  if ((headers['transfer-encoding'] || '').toLowerCase().includes('chunked')) {
    const parts = [];
    for (;;) {
      const eol = buf.indexOf('\r\n', pos);
      if (eol < 0) return null;
      const size = parseInt(buf.subarray(pos, eol).toString('latin1'), 16);
      assert.ok(Number.isInteger(size), 'bad chunk size');
      if (size === 0) {
        const end = buf.indexOf('\r\n\r\n', eol);  // no trailers expected
        if (end !== eol) {
          if (buf.length < eol + 4) return null;
          assert.fail('unexpected trailers');
        }
        return { res: { status, headers, body: Buffer.concat(parts).toString('utf8') }, used: eol + 4 };
      }
      if (buf.length < eol + 2 + size + 2) return null;
      parts.push(buf.subarray(eol + 2, eol + 2 + size));
      pos = eol + 2 + size + 2;
    }
  }
  const len = Number(headers['content-length'] ?? 0);
  if (buf.length < pos + len) return null;
  return { res: { status, headers, body: buf.subarray(pos, pos + len).toString('utf8') }, used: pos + len };
}

// One raw TCP connection; responses are read in order.
class RawConn {
  constructor(port) {
    this.buf = Buffer.alloc(0);
    this.closed = false;
    this.waiter = null;
    this.sock = net.connect(port, '127.0.0.1');
    this.sock.on('data', (d) => { this.buf = Buffer.concat([this.buf, d]); this.wake(); });
    this.sock.on('close', () => { this.closed = true; this.wake(); });
    this.sock.on('error', () => {});
    this.ready = new Promise((resolve, reject) => { this.sock.once('connect', resolve); this.sock.once('error', reject); });
  }
  wake() { const w = this.waiter; this.waiter = null; w?.(); }
  write(data) { this.sock.write(data); }
  async response(opts = {}) {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const p = parseResponse(this.buf, opts);
      if (p) {
        this.buf = this.buf.subarray(p.used);
        return p.res;
      }
      if (this.closed) throw new Error(`connection closed; pending bytes: ${JSON.stringify(this.buf.toString('latin1'))}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no complete response; have ${JSON.stringify(this.buf.toString('latin1').slice(0, 500))}`);
      await new Promise((resolve) => {
        this.waiter = resolve;
        setTimeout(resolve, left).unref();
      });
    }
  }
  close() { this.sock.destroy(); }
}

function request(method, path, { body, headers = {} } = {}) {
  const h = { host: '127.0.0.1', ...headers };
  let out = `${method} ${path} HTTP/1.1\r\n`;
  const bytes = body === undefined ? null : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  if (bytes && h['content-length'] === undefined && h['transfer-encoding'] === undefined) h['content-length'] = String(bytes.length);
  if (bytes && h['content-type'] === undefined) h['content-type'] = 'application/json';
  for (const [k, v] of Object.entries(h)) out += `${k}: ${v}\r\n`;
  out += '\r\n';
  return bytes ? Buffer.concat([Buffer.from(out, 'latin1'), bytes]) : Buffer.from(out, 'latin1');
}

function assertOpenAIError(res, status, { type, code, param } = {}) {
  assert.equal(res.status, status, `status of ${res.body}`);
  assert.match(res.headers['content-type'], /^application\/json/);
  const body = JSON.parse(res.body);
  valid(V.error, body, `error ${status}`);
  if (type !== undefined) assert.equal(body.error.type, type);
  if (code !== undefined) assert.equal(body.error.code, code);
  if (param !== undefined) assert.equal(body.error.param, param);
  assert.ok(body.error.message.length > 0);
  return body;
}

// --- stack ------------------------------------------------------------------

const user = (content) => [{ role: 'user', content }];
const SPLIT_STOP_PROMPT = 'split stop please';
const SPLIT_STOP_TOKENS = ['alpha ', 'be', 'ta', ' gamma', ...Array(100).fill(' filler')];
const NEAR_STOP_PROMPT = 'near stop please';
const LIMIT_PROMPT = 'count to five';
const SLOW_PROMPT = 'slow first';

let mock, stack;

before(async () => {
  mock = await startMock();
  await mock.rules([
    // The stop sequence "beta" spans the 2nd and 3rd upstream deltas; the
    // long slow tail proves the upstream is stopped, not read to the end.
    { match: { equals: SPLIT_STOP_PROMPT }, tokens: SPLIT_STOP_TOKENS, delays: { token_delay_ms: 30 } },
    { match: { equals: NEAR_STOP_PROMPT }, tokens: ['ab', 'x', 'y', 'c', 'xy'] },
    { match: { equals: LIMIT_PROMPT }, tokens: ['one', ' two', ' three', ' four', ' five'] },
    { match: { equals: SLOW_PROMPT }, reply: 'slow answer', delays: { first_token_delay_ms: 150 } },
  ]);
  stack = await startStack({ mock });
  // The model list is cached once fetched; unknown models are refused after.
  const r = await fetch(`${stack.baseUrl}/v1/models`);
  assert.equal(r.status, 200);
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function streamChunks(body, init) {
  const r = await chat(stack.baseUrl, { ...body, stream: true }, init);
  assert.equal(r.status, 200);
  const events = [];
  for await (const e of sseEvents(r)) events.push(e);
  assert.equal(events.at(-1), '[DONE]', 'the stream ends with data: [DONE]');
  assert.equal(events.filter((e) => e === '[DONE]').length, 1);
  const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
  chunks.forEach((c, i) => valid(V.chunk, c, `chunk ${i}`));
  return { r, chunks };
}

const contentOf = (chunks) => chunks.map((c) => c.choices[0]?.delta?.content ?? '').join('');

// --- chat completions: shapes --------------------------------------------------

test('stream with include_usage: role chunk, content deltas, finish chunk, usage chunk, [DONE]', async () => {
  const { r, chunks } = await streamChunks({ model: 'qwen3-max', messages: user('hello raw'), stream_options: { include_usage: true } });
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  assert.ok(r.headers.get('x-request-id'));
  assert.equal(r.headers.get('access-control-allow-origin'), '*');
  const first = chunks[0];
  assert.equal(first.choices[0].delta.role, 'assistant');
  assert.equal(first.choices[0].finish_reason, null);
  for (const c of chunks) {
    assert.equal(c.object, 'chat.completion.chunk');
    assert.equal(c.id, first.id);
    assert.equal(c.created, first.created);
    assert.equal(c.model, 'qwen3-max');
  }
  const usageChunk = chunks.at(-1);
  assert.deepEqual(usageChunk.choices, [], 'the usage chunk has choices: []');
  assert.ok(usageChunk.usage.completion_tokens > 0);
  assert.equal(usageChunk.usage.total_tokens, usageChunk.usage.prompt_tokens + usageChunk.usage.completion_tokens);
  const finish = chunks.at(-2);
  assert.equal(finish.choices[0].finish_reason, 'stop');
  assert.deepEqual(finish.choices[0].delta, {});
  const middle = chunks.slice(1, -2);
  assert.ok(middle.length >= 2, 'content arrives as several deltas');
  for (const c of middle) {
    assert.equal(c.choices.length, 1);
    assert.equal(c.choices[0].finish_reason, null);
    assert.equal(typeof c.choices[0].delta.content, 'string');
    assert.equal(c.usage ?? null, null, 'only the last chunk carries usage');
  }
  assert.equal(contentOf(chunks), 'You said: hello raw');
});

test('stream without include_usage has no usage chunk', async () => {
  const { chunks } = await streamChunks({ model: 'qwen3-max', messages: user('no usage') });
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  assert.ok(chunks.every((c) => c.choices.length === 1 && (c.usage ?? null) === null));
  assert.equal(contentOf(chunks), 'You said: no usage');
});

test('non-streaming response matches CreateChatCompletionResponse; x-request-id is echoed', async () => {
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: user('plain') }, { headers: { 'x-request-id': 'conformance-req-1' } });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^application\/json/);
  assert.equal(r.headers.get('x-request-id'), 'conformance-req-1');
  const body = await r.json();
  valid(V.completion, body, 'completion');
  assert.equal(body.choices[0].message.content, 'You said: plain');
  assert.equal(body.choices[0].finish_reason, 'stop');
});

test('models list and model object match the schemas', async () => {
  const r = await fetch(`${stack.baseUrl}/v1/models`);
  assert.equal(r.status, 200);
  const list = await r.json();
  valid(V.models, list, '/v1/models');
  assert.ok(list.data.some((m) => m.id === 'qwen3-max'));
  const one = await fetch(`${stack.baseUrl}/v1/models/qwen3-max`);
  assert.equal(one.status, 200);
  valid(V.model, await one.json(), '/v1/models/qwen3-max');
});

// --- stop and max_tokens ---------------------------------------------------------

test('stop sequence split across upstream deltas: text cut, finish_reason stop, upstream stopped', async () => {
  const before = await mock.state();
  const { chunks } = await streamChunks({ model: 'qwen3-max', messages: user(SPLIT_STOP_PROMPT), stop: ['beta'], stream_options: { include_usage: true } });
  assert.equal(contentOf(chunks), 'alpha ');
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'stop');
  assert.ok(chunks.at(-1).usage.completion_tokens < SPLIT_STOP_TOKENS.length);
  const s = await until(async () => {
    const st = await mock.state();
    return st.stops > before.stops ? st : null;
  }, { what: 'the worker to stop the upstream generation' });
  const rec = s.records.filter((x) => x.content === SPLIT_STOP_PROMPT).at(-1);
  assert.ok(rec, 'the mock recorded the completion');
  assert.ok(['stopped', 'aborted'].includes(rec.outcome), `upstream outcome ${rec.outcome}: not read to its end`);
});

test('stop (non-streaming, string form) cuts the message content', async () => {
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: user(SPLIT_STOP_PROMPT), stop: 'ta g' });
  const body = await r.json();
  valid(V.completion, body, 'completion');
  assert.equal(body.choices[0].message.content, 'alpha be');
  assert.equal(body.choices[0].finish_reason, 'stop');
});

test('a partial stop-sequence match that fails is released intact', async () => {
  const { chunks } = await streamChunks({ model: 'qwen3-max', messages: user(NEAR_STOP_PROMPT), stop: ['xyz', 'q'] });
  assert.equal(contentOf(chunks), 'abxycxy');
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
});

test('max_tokens ends the answer with finish_reason length', async () => {
  const before = await mock.state();
  const { chunks } = await streamChunks({ model: 'qwen3-max', messages: user(LIMIT_PROMPT), max_tokens: 2, stream_options: { include_usage: true } });
  assert.equal(contentOf(chunks), 'one two');
  assert.equal(chunks.at(-2).choices[0].finish_reason, 'length');
  assert.equal(chunks.at(-1).usage.completion_tokens, 2);
  await until(async () => (await mock.state()).stops > before.stops, { what: 'the worker to stop the upstream generation' });

  const r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: user(LIMIT_PROMPT), max_completion_tokens: 3 });
  const body = await r.json();
  valid(V.completion, body, 'completion');
  assert.equal(body.choices[0].message.content, 'one two three');
  assert.equal(body.choices[0].finish_reason, 'length');
  assert.equal(body.usage.completion_tokens, 3);
});

test('max_tokens above the answer length finishes with stop', async () => {
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: user(LIMIT_PROMPT), max_tokens: 100 });
  const body = await r.json();
  assert.equal(body.choices[0].message.content, 'one two three four five');
  assert.equal(body.choices[0].finish_reason, 'stop');
});

// --- errors --------------------------------------------------------------------

test('an error after the first chunk is an ErrorResponse event, then the stream ends', async () => {
  await mock.config({ faults: [{ kind: 'mid_stream_error', after: 1, scope: 'next' }] });
  await mock.hold();  // the first token reaches the client before the error
  let released = false;
  try {
    const r = await chat(stack.baseUrl, { model: 'qwen3-max', stream: true, messages: user('error midway please') });
    assert.equal(r.status, 200);
    const events = [];
    for await (const e of sseEvents(r)) {
      events.push(e);
      if (!released && e !== '[DONE]' && JSON.parse(e).choices?.[0]?.delta?.content) {
        released = true;
        await mock.release();
      }
    }
    assert.ok(released, 'content arrived before the error');
    assert.ok(!events.includes('[DONE]'), 'no [DONE] after an error');
    const last = JSON.parse(events.at(-1));
    valid(V.error, last, 'mid-stream error event');
    events.slice(0, -1).forEach((e, i) => valid(V.chunk, JSON.parse(e), `chunk ${i}`));
    assert.ok(events.slice(0, -1).every((e) => JSON.parse(e).choices[0].finish_reason === null), 'no fake finish_reason');
  } finally {
    if (!released) await mock.release().catch(() => {});
    await mock.config({ clear_faults: true });
  }
});

test('validation errors are OpenAI errors with the offending param', async () => {
  const cases = [
    [{ model: 'qwen3-max', messages: user('x'), n: 2 }, 'n'],
    [{ model: 'qwen3-max', messages: [] }, 'messages'],
    [{ messages: user('x') }, 'model'],
    [{ model: 'qwen3-max', messages: user('x'), temperature: 3 }, 'temperature'],
    [{ model: 'qwen3-max', messages: user('x'), max_tokens: 0 }, 'max_tokens'],
    [{ model: 'qwen3-max', messages: user('x'), stop: ['a', 'b', 'c', 'd', 'e'] }, 'stop'],
    [{ model: 'qwen3-max', messages: user('x'), stop: 5 }, 'stop'],
  ];
  for (const [body, param] of cases) {
    const r = await chat(stack.baseUrl, body);
    assertOpenAIError({ status: r.status, headers: { 'content-type': r.headers.get('content-type') }, body: await r.text() }, 400,
      { type: 'invalid_request_error', param });
  }
});

test('unknown model → 404 model_not_found', async () => {
  const r = await chat(stack.baseUrl, { model: 'no-such-model', messages: user('x') });
  assertOpenAIError({ status: r.status, headers: { 'content-type': r.headers.get('content-type') }, body: await r.text() }, 404,
    { type: 'invalid_request_error', code: 'model_not_found', param: 'model' });
  const m = await fetch(`${stack.baseUrl}/v1/models/no-such-model`);
  assertOpenAIError({ status: m.status, headers: { 'content-type': m.headers.get('content-type') }, body: await m.text() }, 404,
    { code: 'model_not_found' });
});

test('raw errors: malformed JSON 400, wrong method 405, unknown route 404, body too large 413', async () => {
  const c = new RawConn(stack.port);
  await c.ready;
  c.write(request('POST', '/v1/chat/completions', { body: '{"model": "qwen3-max", "messages": [' }));
  assertOpenAIError(await c.response(), 400, { type: 'invalid_request_error', param: null });

  c.write(request('GET', '/v1/chat/completions'));
  const m = await c.response();
  assertOpenAIError(m, 405, { type: 'invalid_request_error' });
  assert.match(m.headers.allow, /POST/);

  c.write(request('DELETE', '/v1/models'));
  assertOpenAIError(await c.response(), 405);

  c.write(request('GET', '/v1/nothing-here'));
  assertOpenAIError(await c.response(), 404, { type: 'invalid_request_error', code: 'unknown_url' });
  c.close();

  // Declared length over the limit: refused before any body byte is sent.
  const big = new RawConn(stack.port);
  await big.ready;
  big.write(request('POST', '/v1/chat/completions', { headers: { 'content-type': 'application/json', 'content-length': String(64 * 1024 * 1024) } }));
  assertOpenAIError(await big.response(), 413, { type: 'invalid_request_error' });
  big.close();
});

// --- HTTP/1.1 framing --------------------------------------------------------------

test('CORS preflight: OPTIONS → 204 with allow headers', async () => {
  const c = new RawConn(stack.port);
  await c.ready;
  c.write(request('OPTIONS', '/v1/chat/completions', {
    headers: { origin: 'http://example.test', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, x-stainless-os' },
  }));
  const r = await c.response();
  assert.equal(r.status, 204);
  assert.equal(r.headers['access-control-allow-origin'], '*');
  assert.match(r.headers['access-control-allow-methods'], /POST/);
  assert.match(r.headers['access-control-allow-headers'], /authorization/i);
  assert.match(r.headers['access-control-allow-headers'], /x-stainless-os/i);
  c.close();
});

test('keep-alive: several requests on one socket', async () => {
  const c = new RawConn(stack.port);
  await c.ready;
  c.write(request('GET', '/v1/models'));
  const a = await c.response();
  assert.equal(a.status, 200);
  valid(V.models, JSON.parse(a.body), 'models');
  for (const word of ['one', 'two']) {
    c.write(request('POST', '/v1/chat/completions', { body: { model: 'qwen3-max', messages: user(`keep ${word}`) } }));
    const r = await c.response();
    assert.equal(r.status, 200);
    assert.equal(JSON.parse(r.body).choices[0].message.content, `You said: keep ${word}`);
  }
  c.write(request('POST', '/v1/chat/completions', { body: { model: 'qwen3-max', stream: true, messages: user('keep stream') } }));
  const s = await c.response();
  assert.equal(s.status, 200);
  assert.match(s.headers['transfer-encoding'], /chunked/);
  assert.ok(s.body.endsWith('data: [DONE]\n\n'));
  c.write(request('GET', '/health'));
  assert.equal((await c.response()).status, 200);
  assert.equal(c.closed, false, 'the connection stays open');
  c.close();
});

test('pipelining: two requests written at once get two responses in order', async () => {
  const c = new RawConn(stack.port);
  await c.ready;
  // The first answer is slower upstream; the responses still come in order.
  c.write(Buffer.concat([
    request('POST', '/v1/chat/completions', { body: { model: 'qwen3-max', messages: user(SLOW_PROMPT) } }),
    request('POST', '/v1/chat/completions', { body: { model: 'qwen3-max', messages: user('fast second') } }),
  ]));
  const a = await c.response();
  const b = await c.response();
  assert.equal(JSON.parse(a.body).choices[0].message.content, 'slow answer');
  assert.equal(JSON.parse(b.body).choices[0].message.content, 'You said: fast second');
  c.close();
});

test('chunked request body', async () => {
  const c = new RawConn(stack.port);
  await c.ready;
  const json = JSON.stringify({ model: 'qwen3-max', messages: user('chunked body ✓') });
  const bytes = Buffer.from(json);
  const head = 'POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n';
  c.write(head);
  for (let i = 0; i < bytes.length; i += 7) {
    const part = bytes.subarray(i, i + 7);
    c.write(Buffer.concat([Buffer.from(`${part.length.toString(16)}\r\n`), part, Buffer.from('\r\n')]));
  }
  c.write('0\r\n\r\n');
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).choices[0].message.content, 'You said: chunked body ✓');
  c.close();
});

test('Expect: 100-continue', async () => {
  const c = new RawConn(stack.port);
  await c.ready;
  const body = Buffer.from(JSON.stringify({ model: 'qwen3-max', messages: user('continue') }));
  c.write(`POST /v1/chat/completions HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${body.length}\r\nexpect: 100-continue\r\n\r\n`);
  const interim = await c.response();
  assert.equal(interim.status, 100, 'the server asks for the body');
  c.write(body);
  const r = await c.response();
  assert.equal(r.status, 200);
  assert.equal(JSON.parse(r.body).choices[0].message.content, 'You said: continue');
  c.close();
});
