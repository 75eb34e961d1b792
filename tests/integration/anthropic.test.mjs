// End to end: the Anthropic Messages API (POST /v1/messages,
// /v1/messages/count_tokens) through the official `@anthropic-ai/sdk` and
// through raw fetch replaying Claude Code's request shapes
// (tests/testdata/anthropic/). The mock is scripted like the OpenAI tool tests:
// it answers with the tool-call markup the gateway's prompt asks for. The
// mock's records are the evidence that a Claude Code session continues the same
// upstream chat (chat_id + parent_id) turn after turn.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Anthropic from '@anthropic-ai/sdk';
import { startMock, startStack } from './harness.mjs';

const KEY = 'sk-ant-test-key';
const FIRST = JSON.parse(readFileSync(new URL('../testdata/anthropic/claude_code_first.json', import.meta.url), 'utf8'));
const WEATHER_TOOL = {
  name: 'get_weather',
  description: 'Current weather for a city',
  input_schema: {
    type: 'object',
    properties: { city: { type: 'string' }, days: { type: 'integer' } },
    required: ['city'],
  },
};

let mock, stack, client;
before(async () => {
  mock = await startMock();
  await mock.rules([
    { match: { contains: 'weather in Paris' }, reply: 'Let me check.\n<tool_call>\n<function=fn_get_weather>\n<parameter=city>Paris</parameter>\n<parameter=days>2</parameter>\n</function>\n</tool_call>' },
    { match: { contains: 'sunny, 24' }, reply: 'It is sunny in Paris, 24 °C.' },
    { match: { contains: 'CC-MARKER-1' }, reply: "I'll list them.\n<tool_call>\n<function=fn_Bash>\n<parameter=path>ls -la</parameter>\n<parameter=limit>10</parameter>\n</function>\n</tool_call>" },
    { match: { contains: 'CC-MARKER-2' }, reply: 'There are 2 files.' },
    { match: { contains: 'think about it' }, reply: 'Thought through.', thinking: 'Let me think: step one.' },
    { match: { contains: 'hello claude' }, reply: 'Hello from Qwen!' },
    // "STOP" spans two upstream deltas.
    { match: { contains: 'anthropic stop test' }, tokens: ['Keep this ', 'ST', 'OP and not this', ' nor this'] },
  ]);
  stack = await startStack({ mock, frontend: { api_key: KEY } });
  client = new Anthropic({ baseURL: stack.baseUrl, apiKey: KEY, maxRetries: 0 });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function records() {
  return (await mock.state()).records;
}

function post(path, body, headers = {}) {
  return fetch(`${stack.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': KEY, 'anthropic-version': '2023-06-01', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

// Every SSE event of a response as {event, data}; checks each has its
// `event:` line and that it matches data.type.
async function sse(response) {
  const text = await response.text();
  assert.ok(text.endsWith('\n\n'), 'the stream ends with a complete event');
  return text.trim().split('\n\n').map((block) => {
    const lines = block.split('\n');
    assert.match(lines[0], /^event: /, `every event has its event: line: ${block}`);
    assert.match(lines[1], /^data: /);
    const event = lines[0].slice(7);
    const data = JSON.parse(lines[1].slice(6));
    assert.equal(data.type, event);
    return { event, data };
  });
}

// The event names, with runs of the same delta type collapsed ("text_delta*").
function shape(events) {
  const out = [];
  for (const { event, data } of events) {
    let name = event;
    if (event === 'content_block_delta') name = `${data.delta.type}*`;
    if (event === 'content_block_start') name = `start:${data.content_block.type}`;
    if (out.at(-1) !== name || !name.endsWith('*')) out.push(name);
  }
  return out;
}

test('SDK non-streaming: one message object; a Claude model name maps to the default Qwen model', async () => {
  const r = await client.messages.create({
    model: 'claude-sonnet-4-5', max_tokens: 1024,
    system: [{ type: 'text', text: 'Be brief.', cache_control: { type: 'ephemeral' } }],
    messages: [{ role: 'user', content: 'hello claude (n)' }],
  });
  assert.equal(r.type, 'message');
  assert.equal(r.role, 'assistant');
  assert.equal(r.model, 'claude-sonnet-4-5', 'the model is echoed as asked');
  assert.match(r.id, /^msg_/);
  assert.deepEqual(r.content, [{ type: 'text', text: 'Hello from Qwen!' }]);
  assert.equal(r.stop_reason, 'end_turn');
  assert.equal(r.stop_sequence, null);
  assert.ok(r.usage.output_tokens > 0);
  assert.ok(r.usage.input_tokens > 0);
  const rec = (await records()).at(-1);
  assert.equal(rec.model, 'qwen3-coder-plus');
  assert.match(rec.content, /Be brief\./, 'the system prompt goes upstream');
});

test('SDK streaming: text events and the final message', async () => {
  const s = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 512, messages: [{ role: 'user', content: 'hello claude (s)' }] });
  let text = '';
  s.on('text', (t) => { text += t; });
  const final = await s.finalMessage();
  assert.equal(text, 'Hello from Qwen!');
  assert.deepEqual(final.content, [{ type: 'text', text: 'Hello from Qwen!' }]);
  assert.equal(final.stop_reason, 'end_turn');
});

for (const stream of [false, true]) {
  test(`SDK stop_sequences (${stream ? 'streaming' : 'non-streaming'}): stop_reason stop_sequence names the match`, async () => {
    const params = { model: 'claude-opus-5-5', max_tokens: 100, stop_sequences: ['NEVER', 'STOP'], messages: [{ role: 'user', content: 'anthropic stop test' }] };
    const r = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
    assert.deepEqual(r.content, [{ type: 'text', text: 'Keep this ' }]);
    assert.equal(r.stop_reason, 'stop_sequence');
    assert.equal(r.stop_sequence, 'STOP');
  });
}

test('SDK thinking: a Qwen model with a thinking variant streams a thinking block with a signature, then the text', async () => {
  const s = client.messages.stream({
    model: 'qwen3-vl-plus', max_tokens: 2048, thinking: { type: 'enabled', budget_tokens: 1024 },
    messages: [{ role: 'user', content: 'think about it' }],
  });
  const final = await s.finalMessage();
  assert.equal(final.content.length, 2);
  assert.equal(final.content[0].type, 'thinking');
  assert.equal(final.content[0].thinking, 'Let me think: step one.');
  assert.ok(final.content[0].signature.length > 0);
  assert.deepEqual(final.content[1], { type: 'text', text: 'Thought through.' });
  const rec = (await records()).at(-1);
  assert.equal(rec.model, 'qwen3-vl-plus');
  assert.equal(rec.thinking_enabled, true);
  assert.equal(rec.thinking_budget, 1024, 'budget_tokens becomes feature_config.thinking_budget');
});

for (const stream of [false, true]) {
  test(`SDK tool loop (${stream ? 'streaming' : 'non-streaming'}): tool_use, tool_result, answer; the second turn continues the chat`, async () => {
    const messages = [{ role: 'user', content: `What is the weather in Paris? (${stream ? 's' : 'n'})` }];
    const params = { model: 'claude-opus-5-5', max_tokens: 4096, tools: [WEATHER_TOOL], messages };
    const r = stream ? await client.messages.stream(params).finalMessage() : await client.messages.create(params);
    assert.equal(r.stop_reason, 'tool_use');
    assert.equal(r.content[0].type, 'text');
    assert.match(r.content[0].text, /Let me check\./);
    const use = r.content.find((b) => b.type === 'tool_use');
    assert.equal(use.name, 'get_weather');
    assert.deepEqual(use.input, { city: 'Paris', days: 2 });
    assert.ok(use.id);

    messages.push({ role: 'assistant', content: r.content });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'sunny, 24 °C' }] });
    const r2 = await client.messages.create({ ...params, messages });
    assert.equal(r2.stop_reason, 'end_turn');
    assert.deepEqual(r2.content, [{ type: 'text', text: 'It is sunny in Paris, 24 °C.' }]);

    const [first, second] = (await records()).slice(-2);
    assert.match(first.content, /get_weather/, 'the tools are described upstream');
    assert.equal(second.chat_id, first.chat_id, 'the tool result continues the same chat');
    assert.equal(second.parent_id, first.response_id);
    assert.match(second.content, /sunny, 24/);
    assert.doesNotMatch(second.content, /What is the weather/, 'only the new message goes upstream');
  });
}

test('SDK typed errors: BadRequestError (Anthropic shape), AuthenticationError', async () => {
  await assert.rejects(
    client.messages.create({ model: 'claude-opus-5-5', max_tokens: 10, messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo=' } }] }] }),
    (e) => {
      assert.ok(e instanceof Anthropic.BadRequestError, `got ${e.constructor.name}`);
      assert.equal(e.status, 400);
      assert.equal(e.error.type, 'error');
      assert.equal(e.error.error.type, 'invalid_request_error');
      assert.match(e.error.error.message, /messages\.0\.content\.0/);
      return true;
    });
  await assert.rejects(
    client.messages.create({ model: 'claude-opus-5-5', messages: [{ role: 'user', content: 'x' }] }),
    (e) => e instanceof Anthropic.BadRequestError && /max_tokens/.test(e.error.error.message));
  const wrong = new Anthropic({ baseURL: stack.baseUrl, apiKey: 'sk-wrong', maxRetries: 0 });
  await assert.rejects(
    wrong.messages.create({ model: 'claude-opus-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
    (e) => {
      assert.ok(e instanceof Anthropic.AuthenticationError, `got ${e.constructor.name}`);
      assert.equal(e.status, 401);
      assert.equal(e.error.error.type, 'authentication_error');
      return true;
    });
  // Authorization: Bearer works as well as x-api-key.
  const bearer = new Anthropic({ baseURL: stack.baseUrl, authToken: KEY, apiKey: null, maxRetries: 0 });
  const ok = await bearer.messages.create({ model: 'claude-opus-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'hello claude (bearer)' }] });
  assert.equal(ok.content[0].text, 'Hello from Qwen!');
  const missing = await post('/v1/messages', { model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.type, 'not_found_error');
});

test('count_tokens: an estimate from the prompt size, without max_tokens', async () => {
  const small = await client.messages.countTokens({ model: 'claude-opus-5-5', messages: [{ role: 'user', content: 'x'.repeat(400) }] });
  assert.equal(small.input_tokens, 100);
  const { max_tokens, stream, ...body } = FIRST;
  const big = await post('/v1/messages/count_tokens?beta=true', body, { 'anthropic-beta': 'token-counting-2024-11-01,some-future-beta' });
  assert.equal(big.status, 200);
  const n = (await big.json()).input_tokens;
  assert.ok(n > 10000 && n < 25000, `a 75 KB prompt is about 18k tokens, got ${n}`);
});

test("Claude Code's first request replayed (75 KB, ?beta=true): exact SSE event order; the next turn continues the chat", async () => {
  const before = (await records()).length;
  const r = await post('/v1/messages?beta=true', FIRST, { 'anthropic-beta': 'claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,unknown-beta-2099' });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /^text\/event-stream/);
  const events = await sse(r);
  assert.deepEqual(shape(events), [
    'message_start', 'ping',
    'start:text', 'text_delta*', 'content_block_stop',
    'start:tool_use', 'input_json_delta*', 'content_block_stop',
    'message_delta', 'message_stop',
  ]);
  const start = events[0].data.message;
  assert.equal(start.model, 'claude-opus-5-5');
  assert.deepEqual(start.content, []);
  const toolStart = events.find((e) => e.event === 'content_block_start' && e.data.content_block.type === 'tool_use').data;
  assert.deepEqual(toolStart.content_block.input, {}, 'tool input only as input_json_delta');
  assert.equal(toolStart.content_block.name, 'Bash');
  const json = events.filter((e) => e.data.delta?.type === 'input_json_delta').map((e) => e.data.delta.partial_json).join('');
  assert.deepEqual(JSON.parse(json), { path: 'ls -la', limit: 10 });
  const indexes = events.filter((e) => e.event.startsWith('content_block')).map((e) => e.data.index);
  assert.deepEqual([...new Set(indexes)], [0, 1]);
  const delta = events.find((e) => e.event === 'message_delta').data;
  assert.equal(delta.delta.stop_reason, 'tool_use');
  assert.ok(delta.usage.output_tokens > 0);
  const text = events.filter((e) => e.data.delta?.type === 'text_delta').map((e) => e.data.delta.text).join('');
  assert.match(text, /I'll list them\./);
  const first = (await records()).slice(before)[0];
  assert.equal(first.model, 'qwen3-coder-plus', 'claude-opus-5-5 → the default model');

  // Turn 2 as Claude Code sends it: the whole history again (same system
  // blocks and tools), thinking sent back, the tool result with
  // cache_control, an environment system message between turns.
  const turn2 = {
    ...FIRST,
    thinking: { type: 'enabled', budget_tokens: 31999 },
    messages: [
      ...FIRST.messages,
      { role: 'assistant', content: [
        { type: 'thinking', thinking: 'omitted', signature: 'sig' },
        { type: 'text', text, cache_control: { type: 'ephemeral' } },
        { type: 'tool_use', id: toolStart.content_block.id, name: 'Bash', input: JSON.parse(json) },
      ] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolStart.content_block.id, content: [{ type: 'text', text: 'a.txt\nb.txt' }], cache_control: { type: 'ephemeral' } }] },
      { role: 'system', content: FIRST.messages[0].content },
      { role: 'user', content: 'CC-MARKER-2 and now count them' },
    ],
  };
  const r2 = await post('/v1/messages?beta=true', turn2);
  assert.equal(r2.status, 200);
  const events2 = await sse(r2);
  assert.deepEqual(shape(events2), ['message_start', 'ping', 'start:text', 'text_delta*', 'content_block_stop', 'message_delta', 'message_stop']);
  const second = (await records()).at(-1);
  assert.equal(second.chat_id, first.chat_id, 'the Claude Code session continues the same chat');
  assert.equal(second.parent_id, first.response_id);
  assert.match(second.content, /a\.txt/);
  assert.doesNotMatch(second.content, /CC-MARKER-1/, 'only the new messages go upstream');
});

test('an upstream failure before any output: 529 overloaded_error (OverloadedError) when no account can serve', async () => {
  const m2 = await startMock();
  const s2 = await startStack({ mock: m2 });
  try {
    await m2.config({ faults: [{ kind: 'unauthorized' }] });
    const c2 = new Anthropic({ baseURL: s2.baseUrl, apiKey: 'unused', maxRetries: 0 });
    await assert.rejects(
      c2.messages.create({ model: 'claude-opus-5-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }),
      (e) => {
        assert.ok(e instanceof Anthropic.OverloadedError, `got ${e.constructor.name}`);
        assert.equal(e.status, 529);
        assert.equal(e.error.error.type, 'overloaded_error');
        assert.doesNotMatch(e.error.error.message, /eyJ/, 'no token in the message');
        return true;
      });
  } finally {
    await s2.stop();
    await m2.stop();
  }
});
