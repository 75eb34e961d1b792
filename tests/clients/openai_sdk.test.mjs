// The official `openai` npm package against the real processes and the mock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startStack, until } from '../integration/harness.mjs';

const PROMPT = 'Say hello to the SDK';
const REPLY = 'Hello, SDK! Streaming works — ✓ "quotes" and\nnew lines.';
const STOP_PROMPT = 'sdk stop test';
const LIMIT_PROMPT = 'sdk limit test';
let mock, stack, client;

before(async () => {
  mock = await startMock();
  await mock.rules([
    { match: { equals: PROMPT }, reply: REPLY },
    // "STOP" spans the 2nd and 3rd upstream deltas.
    { match: { equals: STOP_PROMPT }, tokens: ['Keep this ', 'ST', 'OP and not this', ' nor this'] },
    { match: { equals: LIMIT_PROMPT }, tokens: ['one', ' two', ' three', ' four', ' five'] },
  ]);
  stack = await startStack({ mock });
  client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

test('non-streaming chat.completions.create', async () => {
  const r = await client.chat.completions.create({ model: 'qwen3-max', messages: [{ role: 'user', content: PROMPT }] });
  assert.equal(r.choices[0].message.content, REPLY);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.ok(r.usage.completion_tokens > 0);
});

test('streaming chat.completions.create', async () => {
  const stream = await client.chat.completions.create({
    model: 'qwen3-max', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: PROMPT }],
  });
  let text = '';
  let finish = null;
  let usage = null;
  let n = 0;
  for await (const chunk of stream) {
    n++;
    if (chunk.usage) usage = chunk.usage;
    const c = chunk.choices[0];
    if (!c) continue;
    text += c.delta?.content ?? '';
    if (c.finish_reason) finish = c.finish_reason;
  }
  assert.equal(text, REPLY);
  assert.equal(finish, 'stop');
  assert.ok(n > 3);
  assert.ok(usage && usage.total_tokens === usage.prompt_tokens + usage.completion_tokens);
});

test('models.list through the SDK', async () => {
  const ids = [];
  for await (const m of client.models.list()) ids.push(m.id);
  assert.ok(ids.includes('qwen3-max'));
});

test('SDK surfaces a validation error as a typed BadRequestError', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'qwen3-max', messages: [] }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'messages',
  );
});

async function collect(stream) {
  const chunks = [];
  for await (const chunk of stream) chunks.push(chunk);
  return {
    chunks,
    text: chunks.map((c) => c.choices[0]?.delta?.content ?? '').join(''),
    finish: chunks.map((c) => c.choices[0]?.finish_reason).filter(Boolean),
  };
}

test('include_usage: the last chunk has choices [] and the usage', async () => {
  const { chunks, text } = await collect(await client.chat.completions.create({
    model: 'qwen3-max', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: LIMIT_PROMPT }],
  }));
  assert.equal(text, 'one two three four five');
  const last = chunks.at(-1);
  assert.deepEqual(last.choices, []);
  assert.ok(last.usage.prompt_tokens > 0);
  assert.equal(last.usage.completion_tokens, 6, 'five tokens and the end-of-sequence token');
  assert.ok(chunks.slice(0, -1).every((c) => c.usage == null));
});

test('max_tokens: the answer is cut with finish_reason length (stream and not)', async () => {
  const r = await client.chat.completions.create({ model: 'qwen3-max', max_tokens: 3, messages: [{ role: 'user', content: LIMIT_PROMPT }] });
  assert.equal(r.choices[0].message.content, 'one two three');
  assert.equal(r.choices[0].finish_reason, 'length');
  assert.equal(r.usage.completion_tokens, 3);
  const s = await collect(await client.chat.completions.create({
    model: 'qwen3-max', stream: true, max_completion_tokens: 1, messages: [{ role: 'user', content: LIMIT_PROMPT }],
  }));
  assert.equal(s.text, 'one');
  assert.deepEqual(s.finish, ['length']);
});

test('stop: a stop sequence split across upstream deltas cuts the answer', async () => {
  const r = await client.chat.completions.create({ model: 'qwen3-max', stop: ['STOP'], messages: [{ role: 'user', content: STOP_PROMPT }] });
  assert.equal(r.choices[0].message.content, 'Keep this ');
  assert.equal(r.choices[0].finish_reason, 'stop');
  const s = await collect(await client.chat.completions.create({
    model: 'qwen3-max', stream: true, stop: 'TOP', messages: [{ role: 'user', content: STOP_PROMPT }],
  }));
  assert.equal(s.text, 'Keep this S');
  assert.deepEqual(s.finish, ['stop']);
});

test('unknown model surfaces as NotFoundError 404', async () => {
  for await (const m of client.models.list()) void m;  // the gateway now knows the model list
  await assert.rejects(
    client.chat.completions.create({ model: 'gpt-nonexistent', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.NotFoundError && e.status === 404 && e.code === 'model_not_found',
  );
});

test('invalid parameters surface as BadRequestError with param', async () => {
  await assert.rejects(
    client.chat.completions.create({ model: 'qwen3-max', n: 2, messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof OpenAI.BadRequestError && e.status === 400 && e.param === 'n' && e.type === 'invalid_request_error',
  );
});

test('aborting a stream mid-way cancels the upstream request', async () => {
  const before = await mock.state();
  await mock.hold();
  try {
    const stream = await client.chat.completions.create({ model: 'qwen3-max', stream: true, messages: [{ role: 'user', content: PROMPT }] });
    for await (const chunk of stream) {
      if (chunk.choices[0]?.delta?.content) break;  // leaving the loop aborts the request
    }
    await until(async () => {
      const s = await mock.state();
      return s.completions_aborted > before.completions_aborted || s.stops > before.stops;
    }, { what: 'the mock to see the upstream request cancelled' });
  } finally {
    await mock.release();
  }
});

test('an upstream failure surfaces as InternalServerError (5xx)', async () => {
  await mock.config({ add_faults: [{ kind: 'internal_error' }] });
  try {
    await assert.rejects(
      client.chat.completions.create({ model: 'qwen3-max', messages: [{ role: 'user', content: PROMPT }] }),
      (e) => e instanceof OpenAI.InternalServerError && e.status >= 500 && e.status <= 599,
    );
  } finally {
    await mock.config({ clear_faults: true });
  }
});

// Last: it leaves the only account rate-limited.
test('an upstream rate limit surfaces as RateLimitError 429', async () => {
  await mock.config({ add_faults: [{ kind: 'rate_limited', scope: 'next', num: 1 }] });
  await assert.rejects(
    client.chat.completions.create({ model: 'qwen3-max', messages: [{ role: 'user', content: PROMPT }] }),
    (e) => e instanceof OpenAI.RateLimitError && e.status === 429 && Number(e.headers.get('retry-after')) > 0,
  );
});
