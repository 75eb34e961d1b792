// End to end: web search (web_search_options or the -search suffix) with its
// sources as OpenAI url_citation annotations, in both upstream search formats,
// streamed and not; SSE keep-alive comments during a slow search;
// reasoning_effort reaching the upstream as feature_config thinking settings.
// Through the official openai client where it has the call, raw fetch where the
// bytes matter.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import OpenAI from 'openai';
import { startMock, startStack, chat } from './harness.mjs';

const bundle = JSON.parse(readFileSync(new URL('../schemas/openai.json', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('unixtime', { type: 'number', validate: (n) => Number.isInteger(n) && n > 0 });
ajv.addSchema(bundle, 'openai');
const V = {
  completion: ajv.getSchema('openai#/$defs/CreateChatCompletionResponse'),
  chunk: ajv.getSchema('openai#/$defs/CreateChatCompletionStreamResponse'),
  // The stream delta schema has no annotations of its own: the final delta's
  // are checked against the message's annotation item schema.
  annotation: ajv.getSchema('openai#/$defs/ChatCompletionResponseMessage/properties/annotations/items'),
};
function valid(validator, value, what) {
  assert.ok(validator, `schema for ${what}`);
  assert.ok(validator(value), `${what} does not match OpenAI's schema: ${ajv.errorsText(validator.errors)}\n${JSON.stringify(value)}`);
}

const KEEPALIVE_MS = 100;
const PROMPT = 'latest qwen news';
const ANSWER = 'Qwen shipped a new model. Sources follow.';
const QUERY_TITLE = `Mock result for ${PROMPT}`;
const SOURCES = [
  { url: 'https://example.com/mock-search/1', title: QUERY_TITLE },
  { url: 'https://example.org/mock-search/2?q=1&r=2', title: `Second mock result for ${PROMPT}` },
];
const TOOLS = [{
  type: 'function',
  function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } },
}];

let mock, stack, client;
before(async () => {
  mock = await startMock();
  stack = await startStack({ mock, frontend: { sse_keepalive_ms: KEEPALIVE_MS } });
  client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function setup(config = {}) {
  await mock.reset();
  await mock.rules([{ match: { contains: PROMPT }, reply: ANSWER }, { reply: 'Plain answer.' }]);
  await mock.config(config);
}
const lastRecord = async () => (await mock.state()).records.at(-1);

// titles: false when the mock's query (the prompt sent upstream) is not the
// user's text alone (with tools, the tool section comes first).
function checkAnnotations(annotations, content, titles = true) {
  assert.ok(Array.isArray(annotations), 'annotations is an array');
  assert.deepEqual(annotations.map((a) => a.url_citation.url), SOURCES.map((s) => s.url));
  if (titles) assert.deepEqual(annotations.map((a) => a.url_citation.title), SOURCES.map((s) => s.title));
  for (const a of annotations) {
    valid(V.annotation, a, 'annotation');
    assert.equal(a.type, 'url_citation');
    assert.equal(a.url_citation.start_index, 0);
    assert.equal(a.url_citation.end_index, [...content].length, 'the citation spans the answer');
  }
}

// Streams through the SDK: every chunk schema-checked; returns the text, the
// chunks and the final delta's annotations.
async function sdkStream(params) {
  const s = await client.chat.completions.create({ ...params, stream: true });
  let content = '';
  const chunks = [];
  for await (const c of s) {
    valid(V.chunk, c, 'chunk');
    chunks.push(c);
    content += c.choices[0]?.delta?.content ?? '';
  }
  const final = chunks.filter((c) => c.choices[0]?.finish_reason);
  assert.equal(final.length, 1, 'one finish chunk');
  return { content, chunks, annotations: final[0].choices[0].delta.annotations };
}

for (const format of ['function_call', 'web_search_info']) {
  for (const how of ['web_search_options', 'suffix']) {
    const params = how === 'suffix'
      ? { model: 'qwen3-max-search', messages: [{ role: 'user', content: PROMPT }] }
      : { model: 'qwen3-max', web_search_options: { search_context_size: 'low' }, messages: [{ role: 'user', content: PROMPT }] };

    test(`search via ${how}, ${format} format, non-streaming: url_citation annotations on the message`, async () => {
      await setup({ search_format: format });
      const r = await client.chat.completions.create(params);
      valid(V.completion, r, 'completion');
      const m = r.choices[0].message;
      assert.equal(m.content, ANSWER);
      assert.equal(r.choices[0].finish_reason, 'stop');
      checkAnnotations(m.annotations, m.content);
      const rec = await lastRecord();
      assert.equal(rec.chat_type, 'search');
      assert.equal(rec.auto_search, true);
      assert.equal(rec.model, 'qwen3-max');
    });

    test(`search via ${how}, ${format} format, streaming: annotations on the final delta only`, async () => {
      await setup({ search_format: format });
      const { content, chunks, annotations } = await sdkStream(params);
      assert.equal(content, ANSWER);
      checkAnnotations(annotations, content);
      const withAnnotations = chunks.filter((c) => c.choices[0]?.delta?.annotations);
      assert.equal(withAnnotations.length, 1);
      assert.equal((await lastRecord()).chat_type, 'search');
    });
  }
}

test('no search: an empty annotations array, chat_type t2t', async () => {
  await setup();
  const r = await client.chat.completions.create({ model: 'qwen3-max', messages: [{ role: 'user', content: PROMPT }] });
  valid(V.completion, r, 'completion');
  assert.deepEqual(r.choices[0].message.annotations, []);
  const { annotations } = await sdkStream({ model: 'qwen3-max', messages: [{ role: 'user', content: PROMPT }] });
  assert.equal(annotations, undefined);
  const rec = await lastRecord();
  assert.equal(rec.chat_type, 't2t');
  assert.equal(rec.auto_search, false);
});

test('web_search_options of the wrong type: 400 naming the parameter', async () => {
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', web_search_options: 'yes', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.status, 400);
  const e = (await r.json()).error;
  assert.equal(e.param, 'web_search_options');
});

test('keep-alive comments while the search runs, before any content (raw stream)', async () => {
  // The search phase lasts many keep-alive intervals; nothing else is timed.
  await setup({ search_delay_ms: KEEPALIVE_MS * 12 });
  const r = await chat(stack.baseUrl, {
    model: 'qwen3-max', stream: true, web_search_options: {}, messages: [{ role: 'user', content: PROMPT }],
  });
  assert.equal(r.status, 200);
  const raw = await r.text();
  const firstKeepAlive = raw.indexOf(': keep-alive\n\n');
  const firstContent = raw.indexOf('"content":"Qwen');
  assert.ok(firstKeepAlive >= 0, `a keep-alive comment was sent: ${raw.slice(0, 400)}`);
  assert.ok(firstContent > firstKeepAlive, 'the comment came during the silent search phase');
  assert.ok(raw.endsWith('data: [DONE]\n\n'));
  // Every block is a comment or a data event; the data events parse.
  const blocks = raw.split('\n\n').filter(Boolean);
  const comments = blocks.filter((b) => b === ': keep-alive');
  assert.ok(comments.length >= 1);
  for (const b of blocks) {
    if (b === ': keep-alive' || b === 'data: [DONE]') continue;
    assert.ok(b.startsWith('data: '), `block ${b}`);
    const j = JSON.parse(b.slice(6));
    valid(V.chunk, j, 'chunk');
    assert.equal(j.choices[0]?.delta?.tool_calls, undefined);
  }
  // The SDK reads through the comments too.
  await setup({ search_delay_ms: KEEPALIVE_MS * 4 });
  const { content, annotations } = await sdkStream({ model: 'qwen3-max', web_search_options: {}, messages: [{ role: 'user', content: PROMPT }] });
  assert.equal(content, ANSWER);
  checkAnnotations(annotations, content);
});

test('keep-alive comments during a long wait for the first token (no search)', async () => {
  await setup({ first_token_delay_ms: KEEPALIVE_MS * 12 });
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', stream: true, messages: [{ role: 'user', content: PROMPT }] });
  assert.equal(r.status, 200);
  const raw = await r.text();
  const firstKeepAlive = raw.indexOf(': keep-alive\n\n');
  assert.ok(firstKeepAlive >= 0, 'a keep-alive comment was sent');
  assert.ok(raw.indexOf('"content":"Qwen') > firstKeepAlive);
  assert.ok(raw.endsWith('data: [DONE]\n\n'));
  assert.equal(raw.indexOf('"annotations"'), -1, 'no search, no annotations');
});

test('search with tools given: no tool_calls leak from the search phase', async () => {
  await setup({ search_format: 'function_call' });
  const params = { model: 'qwen3-max', tools: TOOLS, web_search_options: {}, messages: [{ role: 'user', content: PROMPT }] };
  const r = await client.chat.completions.create(params);
  assert.equal(r.choices[0].finish_reason, 'stop');
  assert.equal(r.choices[0].message.tool_calls, undefined);
  assert.equal(r.choices[0].message.content, ANSWER);
  checkAnnotations(r.choices[0].message.annotations, ANSWER, false);
  const { content, chunks } = await sdkStream(params);
  assert.equal(content, ANSWER);
  for (const c of chunks) assert.equal(c.choices[0]?.delta?.tool_calls, undefined, JSON.stringify(c));
  assert.equal(chunks.at(-1).choices[0].finish_reason, 'stop');
  const rec = await lastRecord();
  assert.equal(rec.chat_type, 'search');
});

const EFFORTS = [
  { effort: 'none', model: 'qwen3-vl-plus-thinking', enabled: false, mode: 'Fast' },
  { effort: 'low', model: 'qwen3-vl-plus-thinking', enabled: false, mode: 'Fast' },
  { effort: 'medium', model: 'qwen3-vl-plus', enabled: true, budget: 8192, mode: 'Thinking' },
  { effort: 'high', model: 'qwen3-vl-plus', enabled: true, budget: 24576, mode: 'Thinking' },
  { effort: 'xhigh', model: 'qwen3-vl-plus', enabled: true, budget: 38912, mode: 'Thinking' },
];
for (const e of EFFORTS) {
  test(`reasoning_effort ${e.effort} on ${e.model}: thinking_enabled ${e.enabled}${e.budget ? `, budget ${e.budget}` : ''}`, async () => {
    await setup();
    const r = await client.chat.completions.create({
      model: e.model, reasoning_effort: e.effort, messages: [{ role: 'user', content: `effort ${e.effort}` }],
    });
    valid(V.completion, r, 'completion');
    const m = r.choices[0].message;
    assert.equal(m.content, 'Plain answer.');
    if (e.enabled) assert.equal(m.reasoning_content, `Thinking about: effort ${e.effort}`);
    else assert.equal(m.reasoning_content, undefined);
    const rec = await lastRecord();
    assert.equal(rec.thinking_enabled, e.enabled);
    assert.equal(rec.thinking_mode, e.mode);
    if (e.budget) assert.equal(rec.thinking_budget, e.budget);
    assert.equal(rec.model, 'qwen3-vl-plus');
  });
}

test('no reasoning_effort: the -thinking suffix still thinks with the default budget', async () => {
  await setup();
  const { content } = await sdkStream({ model: 'qwen3-vl-plus-thinking', messages: [{ role: 'user', content: 'suffix' }] });
  assert.equal(content, 'Plain answer.');
  const rec = await lastRecord();
  assert.equal(rec.thinking_enabled, true);
  assert.equal(rec.thinking_budget, 38912);
  assert.equal(rec.thinking_mode, 'Thinking');
});

test('reasoning_effort with an unknown value: 400 naming the parameter', async () => {
  const r = await chat(stack.baseUrl, { model: 'qwen3-max', reasoning_effort: 'maximum', messages: [{ role: 'user', content: 'x' }] });
  assert.equal(r.status, 400);
  const e = (await r.json()).error;
  assert.equal(e.param, 'reasoning_effort');
  assert.match(e.message, /maximum/);
});
