// Deep research (docs/api.md "Deep research") and reasoning tokens
// (docs/api.md "Usage") end to end against the mock: the -deep-research
// variant runs on the deep_research chat type, its phases stream as
// reasoning, its report as content, its sources as url_citation annotations;
// keep-alive comments cover the silent steps in the middle of the stream;
// the run outlives the per-chat time bounds; usage carries reasoning_tokens.
// Through the official openai client where it has the call, raw fetch where
// the bytes matter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startStack, chat } from './harness.mjs';

const KEEPALIVE_MS = 100;
// The per-chat bounds are short; deep research gets the long ones. A research
// run here lasts longer than both short bounds.
const REQUEST_TIMEOUT_MS = 2500;
const IDLE_TIMEOUT_MS = 600;
const MODEL = 'qwen3-max-deep-research';
const PROMPT = 'history of tea';
const REPORT = '# Tea\n\nA short report on tea.';
const SOURCES = ['1/1', '1/2', '2/1', '2/2'].map((p) => `https://example.com/mock-research/${p}`);

let mock, stack, client;
before(async () => {
  mock = await startMock();
  stack = await startStack({
    mock,
    frontend: { sse_keepalive_ms: KEEPALIVE_MS, request_timeout_ms: REQUEST_TIMEOUT_MS, long_request_timeout_ms: 60000 },
    upstream: { first_byte_timeout_ms: IDLE_TIMEOUT_MS, idle_timeout_ms: IDLE_TIMEOUT_MS, long_idle_timeout_ms: 30000 },
  });
  client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function setup(config = {}) {
  await mock.reset();
  await mock.rules([
    { match: { contains: 'tea' }, reply: REPORT },
    { match: { contains: 'think about it' }, reply: 'Thought through.', thinking: 'Let me think: step one, step two.' },
    { reply: 'Plain answer.' },
  ]);
  await mock.config({ research_clarify: false, research_rounds: 2, research_delay_ms: 0, ...config });
}
const lastRecord = async () => (await mock.state()).records.at(-1);

function checkAnnotations(annotations, content) {
  assert.ok(Array.isArray(annotations), `annotations: ${JSON.stringify(annotations)}`);
  assert.deepEqual(annotations.map((a) => a.url_citation.url), SOURCES);
  for (const a of annotations) {
    assert.equal(a.type, 'url_citation');
    assert.match(a.url_citation.title, /^Research source \d\.\d: history of tea$/);
    assert.equal(a.url_citation.end_index, [...content].length);
  }
}

test('/v1/models: deep_research in qwen_capabilities and the -deep-research variant', async () => {
  const list = await client.models.list();
  const byId = new Map(list.data.map((m) => [m.id, m]));
  assert.ok(byId.get('qwen3-max').qwen_capabilities.includes('deep_research'));
  assert.ok(byId.has('qwen3-max-deep-research'));
  assert.ok(byId.has('qwen3-vl-plus-deep-research'));
  assert.ok(!byId.has('qwen3-max-deep-research-deep-research'));
});

test('streaming: research phases as reasoning deltas, then the report, annotations on the final delta, reasoning_tokens', async () => {
  // Two rounds, each with a silent step longer than the per-chat idle bound,
  // the whole run longer than the per-request timeout.
  await setup({ research_delay_ms: 1400 });
  const s = await client.chat.completions.create({
    model: MODEL, stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: PROMPT }],
  });
  let reasoning = '', content = '', firstContentAt = -1, lastReasoningAt = -1, usage = null;
  const chunks = [];
  for await (const c of s) {
    chunks.push(c);
    const d = c.choices[0]?.delta ?? {};
    if (d.reasoning_content) { reasoning += d.reasoning_content; lastReasoningAt = chunks.length; }
    if (d.content) { content += d.content; if (firstContentAt < 0) firstContentAt = chunks.length; }
    if (c.usage) usage = c.usage;
  }
  assert.equal(content, REPORT);
  assert.ok(lastReasoningAt > 0 && lastReasoningAt < firstContentAt, 'all reasoning before the report');
  assert.match(reasoning, /^Research plan: 1\. Background of history of tea\./);
  assert.match(reasoning, /\n\nRound 1: find sources on history of tea\.\n\nRound 2: find sources on history of tea\.$/);
  const final = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(final.length, 1);
  assert.equal(final[0].choices[0].finish_reason, 'stop');
  checkAnnotations(final[0].choices[0].delta.annotations, content);
  assert.ok(usage, 'usage chunk');
  const rt = usage.completion_tokens_details.reasoning_tokens;
  assert.ok(rt > 0 && rt < usage.completion_tokens, `reasoning ${rt} of ${usage.completion_tokens}`);
  const rec = await lastRecord();
  assert.equal(rec.chat_type, 'deep_research');
  assert.equal(rec.model, 'qwen3-max');
});

test('raw stream: keep-alive comments during a silent research step in the middle of the stream', async () => {
  await setup({ research_delay_ms: KEEPALIVE_MS * 8, research_rounds: 1 });
  const r = await chat(stack.baseUrl, { model: MODEL, stream: true, messages: [{ role: 'user', content: PROMPT }] });
  assert.equal(r.status, 200);
  const raw = await r.text();
  const firstReasoning = raw.indexOf('"reasoning_content":"Research');
  const keepAlive = raw.indexOf(': keep-alive\n\n', firstReasoning);
  const firstContent = raw.indexOf('"delta":{"content":"#');
  assert.ok(firstReasoning >= 0, raw.slice(0, 600));
  assert.ok(keepAlive > firstReasoning, 'a comment after reasoning began');
  assert.ok(firstContent > keepAlive, 'and before the report');
  assert.ok(raw.endsWith('data: [DONE]\n\n'));
  for (const b of raw.split('\n\n').filter(Boolean)) {
    if (b === ': keep-alive' || b === 'data: [DONE]') continue;
    assert.ok(b.startsWith('data: '), `block ${b}`);
    JSON.parse(b.slice(6));
  }
});

test('non-streaming: the report with reasoning_content and url_citation annotations', async () => {
  await setup();
  const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: PROMPT }] });
  const m = r.choices[0].message;
  assert.equal(m.content, REPORT);
  assert.match(m.reasoning_content, /^Research plan:/);
  checkAnnotations(m.annotations, m.content);
  assert.ok(r.usage.completion_tokens_details.reasoning_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.prompt_tokens + r.usage.completion_tokens);
});

test('the first turn asks back; the reply in the same conversation runs the research', async () => {
  await setup({ research_clarify: true });
  const first = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: PROMPT }] });
  const question = first.choices[0].message.content;
  assert.match(question, /^Before I start the research on "history of tea"/);
  assert.deepEqual(first.choices[0].message.annotations, []);
  assert.equal(first.usage.completion_tokens_details.reasoning_tokens, 0);
  const second = await client.chat.completions.create({
    model: MODEL,
    messages: [
      { role: 'user', content: PROMPT },
      { role: 'assistant', content: question },
      { role: 'user', content: 'tea in China, the last century' },
    ],
  });
  assert.equal(second.choices[0].message.content, REPORT);
  assert.equal(second.choices[0].message.annotations.length, 4);
  const rec = await lastRecord();
  assert.equal(rec.chat_type, 'deep_research');
  assert.ok(rec.parent_id, 'continued natively in the same upstream chat');
});

test('deep research outlives the per-chat bounds; a plain chat does not', async () => {
  // The research test above ran past both short bounds. A plain chat whose
  // first token is later than the idle bound fails.
  await setup({ first_token_delay_ms: IDLE_TIMEOUT_MS * 3 });
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: [{ role: 'user', content: 'hello' }] });
  assert.ok(r.status >= 500, `status ${r.status}`);
  await r.body?.cancel();
});

test('reasoning_tokens: non-zero for a thinking model, zero for a plain one (stream and not)', async () => {
  await setup();
  const think = await client.chat.completions.create({ model: 'qwen3-vl-plus-thinking', messages: [{ role: 'user', content: 'think about it' }] });
  assert.equal(think.choices[0].message.reasoning_content, 'Let me think: step one, step two.');
  const rt = think.usage.completion_tokens_details.reasoning_tokens;
  assert.ok(rt > 0 && rt < think.usage.completion_tokens, `reasoning ${rt} of ${think.usage.completion_tokens}`);
  const plain = await client.chat.completions.create({ model: 'qwen3-max', messages: [{ role: 'user', content: 'think about it' }] });
  assert.equal(plain.usage.completion_tokens_details.reasoning_tokens, 0);
  const s = await client.chat.completions.create({
    model: 'qwen3-vl-plus', reasoning_effort: 'high', stream: true, stream_options: { include_usage: true },
    messages: [{ role: 'user', content: 'think about it' }],
  });
  let usage = null;
  for await (const c of s) if (c.usage) usage = c.usage;
  assert.equal(usage.completion_tokens_details.reasoning_tokens, rt, 'same count streamed');
});

test('Responses: output_tokens_details.reasoning_tokens, and deep research as a reasoning summary', async () => {
  await setup();
  const r = await client.responses.create({ model: 'qwen3-vl-plus', reasoning: { effort: 'high' }, input: 'think about it' });
  assert.ok(r.usage.output_tokens_details.reasoning_tokens > 0);
  assert.ok(r.usage.output_tokens_details.reasoning_tokens < r.usage.output_tokens);
  const plain = await client.responses.create({ model: 'qwen3-max', input: 'think about it' });
  assert.equal(plain.usage.output_tokens_details.reasoning_tokens, 0);

  const dr = await client.responses.create({ model: MODEL, input: PROMPT });
  assert.deepEqual(dr.output.map((o) => o.type), ['reasoning', 'message']);
  assert.match(dr.output[0].summary[0].text, /^Research plan:/);
  assert.equal(dr.output_text, REPORT);
  assert.ok(dr.usage.output_tokens_details.reasoning_tokens > 0);
});

test('Responses stream: keep-alive comments during a silent research step', async () => {
  await setup({ research_delay_ms: KEEPALIVE_MS * 8, research_rounds: 1 });
  const r = await fetch(`${stack.baseUrl}/v1/responses`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: MODEL, input: PROMPT, stream: true }),
  });
  assert.equal(r.status, 200);
  const raw = await r.text();
  const firstReasoning = raw.indexOf('response.reasoning_summary_text.delta');
  const keepAlive = raw.indexOf(': keep-alive\n\n', firstReasoning);
  assert.ok(firstReasoning >= 0);
  assert.ok(keepAlive > firstReasoning, 'a comment after reasoning began');
  assert.ok(raw.indexOf('response.completed') > keepAlive);
});

test('Anthropic: the research phases become a thinking block before the report', async () => {
  await setup();
  const r = await fetch(`${stack.baseUrl}/v1/messages`, {
    method: 'POST', headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
    body: JSON.stringify({ model: MODEL, max_tokens: 4096, messages: [{ role: 'user', content: PROMPT }] }),
  });
  assert.equal(r.status, 200);
  const m = await r.json();
  assert.deepEqual(m.content.map((c) => c.type), ['thinking', 'text']);
  assert.match(m.content[0].thinking, /^Research plan:/);
  assert.equal(m.content[1].text, REPORT);
});
