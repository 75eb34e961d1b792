// The official `openai` npm package against the real processes and the mock.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startStack } from '../integration/harness.mjs';

const PROMPT = 'Say hello to the SDK';
const REPLY = 'Hello, SDK! Streaming works — ✓ "quotes" and\nnew lines.';
let mock, stack, client;

before(async () => {
  mock = await startMock();
  await mock.rules([{ match: { equals: PROMPT }, reply: REPLY }]);
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
