// End to end: the OpenAI Responses API (POST /v1/responses, GET
// /v1/responses/{id}) through the official `openai` SDK and through raw fetch
// replaying Codex CLI's request shapes (tests/testdata/responses/). Every raw
// Response and every stream event is validated against OpenAI's own schemas
// (tests/schemas/openai.json). The mock's records are the evidence that a
// conversation continues the same upstream chat (chat_id + parent_id), both
// through previous_response_id and when Codex re-sends the whole history.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import { startMock, startStack } from './harness.mjs';

const KEY = 'sk-responses-test';
const bundle = JSON.parse(readFileSync(new URL('../schemas/openai.json', import.meta.url), 'utf8'));
const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addFormat('unixtime', { type: 'number', validate: (n) => Number.isInteger(n) && n > 0 });
ajv.addSchema(bundle, 'openai');

const EVENT_SCHEMAS = {
  'response.created': 'ResponseCreatedEvent',
  'response.in_progress': 'ResponseInProgressEvent',
  'response.output_item.added': 'ResponseOutputItemAddedEvent',
  'response.output_item.done': 'ResponseOutputItemDoneEvent',
  'response.content_part.added': 'ResponseContentPartAddedEvent',
  'response.content_part.done': 'ResponseContentPartDoneEvent',
  'response.output_text.delta': 'ResponseTextDeltaEvent',
  'response.output_text.done': 'ResponseTextDoneEvent',
  'response.function_call_arguments.delta': 'ResponseFunctionCallArgumentsDeltaEvent',
  'response.function_call_arguments.done': 'ResponseFunctionCallArgumentsDoneEvent',
  'response.reasoning_summary_part.added': 'ResponseReasoningSummaryPartAddedEvent',
  'response.reasoning_summary_part.done': 'ResponseReasoningSummaryPartDoneEvent',
  'response.reasoning_summary_text.delta': 'ResponseReasoningSummaryTextDeltaEvent',
  'response.reasoning_summary_text.done': 'ResponseReasoningSummaryTextDoneEvent',
  'response.completed': 'ResponseCompletedEvent',
  'response.incomplete': 'ResponseIncompleteEvent',
  'response.failed': 'ResponseFailedEvent',
  error: 'ResponseErrorEvent',
};

function conforms(name, value) {
  const v = ajv.getSchema(`openai#/$defs/${name}`);
  assert.ok(v, `schema ${name} is in the extract`);
  assert.ok(v(value), `${name} does not match OpenAI's schema: ${ajv.errorsText(v.errors)}\n${JSON.stringify(value).slice(0, 2000)}`);
}

const CODEX_FIRST = JSON.parse(readFileSync(new URL('../testdata/responses/codex_first.json', import.meta.url), 'utf8'));
const CODEX_TURN2 = JSON.parse(readFileSync(new URL('../testdata/responses/codex_turn2.json', import.meta.url), 'utf8'));
const WEATHER = {
  type: 'function', name: 'get_weather', description: 'Current weather for a city',
  parameters: { type: 'object', properties: { city: { type: 'string' }, days: { type: 'integer' } }, required: ['city'] },
};

let mock, stack, client;
before(async () => {
  mock = await startMock();
  await mock.rules([
    { match: { contains: 'weather in Paris' }, reply: 'Let me check.\n<tool_call>\n<function=fn_get_weather>\n<parameter=city>Paris</parameter>\n<parameter=days>2</parameter>\n</function>\n</tool_call>' },
    { match: { contains: 'sunny, 24' }, reply: 'It is sunny in Paris, 24 °C.' },
    { match: { contains: 'CODEX-MARKER-1' }, reply: "I'll list them.\n<tool_call>\n<function=fn_exec_command>\n<parameter=cmd>ls -la</parameter>\n</function>\n</tool_call>" },
    { match: { contains: 'CODEX-NS' }, reply: '<tool_call>\n<function=fn_search_docs>\n<parameter=query>install</parameter>\n</function>\n</tool_call>' },
    { match: { contains: 'README.md' }, reply: 'There are 2 files: README.md and main.c.' },
    { match: { contains: 'think it through' }, reply: 'Thought through.', thinking: 'Step one, then step two.' },
    { match: { contains: 'responses limit test' }, tokens: ['one', ' two', ' three', ' four', ' five'] },
    { match: { contains: 'responses fail test' }, tokens: ['one', ' two', ' three', ' four', ' five'] },
    { match: { contains: 'hello responses' }, reply: 'Hello from Qwen!' },
  ]);
  stack = await startStack({ mock, frontend: { api_key: KEY } });
  client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: KEY, maxRetries: 0 });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function records() {
  return (await mock.state()).records;
}

function post(body) {
  return fetch(`${stack.baseUrl}/v1/responses`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${KEY}` },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

function get(id) {
  return fetch(`${stack.baseUrl}/v1/responses/${id}`, { headers: { authorization: `Bearer ${KEY}` } });
}

// Every SSE event as its data object; checks the `event:` line matches
// data.type, sequence numbers count up from 0, and each event conforms.
async function sse(response) {
  assert.equal(response.status, 200);
  assert.match(response.headers.get('content-type'), /^text\/event-stream/);
  const text = await response.text();
  assert.ok(text.endsWith('\n\n'), 'the stream ends with a complete event');
  return text.trim().split('\n\n').map((block, i) => {
    const lines = block.split('\n');
    assert.match(lines[0], /^event: /, `every event has its event: line: ${block}`);
    assert.match(lines[1], /^data: /);
    const data = JSON.parse(lines[1].slice(6));
    assert.equal(data.type, lines[0].slice(7));
    assert.equal(data.sequence_number, i, 'sequence numbers count up from 0');
    assert.ok(EVENT_SCHEMAS[data.type], `an event type OpenAI defines: ${data.type}`);
    conforms(EVENT_SCHEMAS[data.type], data);
    return data;
  });
}

// Event types with runs of the same delta collapsed ("…delta*").
function shape(events) {
  const out = [];
  for (const e of events) {
    const name = e.type.endsWith('.delta') ? `${e.type}*` : e.type;
    if (out.at(-1) !== name || !name.endsWith('*')) out.push(name);
  }
  return out;
}

test('SDK responses.create (non-streaming): one Response; GET /v1/responses/{id} returns it', async () => {
  const r = await client.responses.create({ model: 'qwen3-max', instructions: 'Be brief.', input: 'hello responses (n)' });
  assert.match(r.id, /^resp_/);
  assert.equal(r.object, 'response');
  assert.equal(r.status, 'completed');
  assert.equal(r.model, 'qwen3-max');
  assert.equal(r.instructions, 'Be brief.');
  assert.equal(r.output_text, 'Hello from Qwen!');
  assert.equal(r.output.length, 1);
  assert.equal(r.output[0].type, 'message');
  assert.equal(r.output[0].role, 'assistant');
  assert.ok(r.usage.output_tokens > 0 && r.usage.input_tokens > 0);
  assert.equal(r.usage.total_tokens, r.usage.input_tokens + r.usage.output_tokens);
  const rec = (await records()).at(-1);
  assert.match(rec.content, /Be brief\./, 'instructions go upstream as the system prompt');

  const got = await get(r.id);
  assert.equal(got.status, 200);
  const body = await got.json();
  conforms('Response', body);
  assert.equal(body.id, r.id);
  assert.deepEqual(body.output, JSON.parse(JSON.stringify(r.output)));
});

test('raw non-streaming Response conforms to the schema', async () => {
  const res = await post({ model: 'qwen3-max', input: [{ role: 'user', content: 'hello responses (raw)' }], metadata: { run: 'x' }, temperature: 0.5 });
  assert.equal(res.status, 200);
  const body = await res.json();
  conforms('Response', body);
  assert.deepEqual(body.metadata, { run: 'x' });
  assert.equal(body.temperature, 0.5);
  assert.equal(body.output[0].content[0].text, 'Hello from Qwen!');
});

test('SDK responses.stream: text events and the final response; every raw event conforms', async () => {
  const s = client.responses.stream({ model: 'qwen3-max', input: 'hello responses (s)' });
  let text = '';
  s.on('response.output_text.delta', (e) => { text += e.delta; });
  const final = await s.finalResponse();
  assert.equal(text, 'Hello from Qwen!');
  assert.equal(final.output[0].content[0].text, 'Hello from Qwen!');
  assert.equal(final.status, 'completed');

  const events = await sse(await post({ model: 'qwen3-max', input: 'hello responses (raw s)', stream: true }));
  assert.deepEqual(shape(events), [
    'response.created', 'response.in_progress',
    'response.output_item.added', 'response.content_part.added', 'response.output_text.delta*',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
    'response.completed',
  ]);
  const done = events.at(-1).response;
  assert.equal(done.output[0].content[0].text, 'Hello from Qwen!');
  assert.equal(events.find((e) => e.type === 'response.output_text.done').text, 'Hello from Qwen!');
});

test('function-call loop through previous_response_id continues the same upstream chat', async () => {
  for (const stream of [false, true]) {
    const params = { model: 'qwen3-max', tools: [WEATHER], input: `What is the weather in Paris? (${stream})` };
    const first = stream ? await client.responses.stream(params).finalResponse() : await client.responses.create(params);
    assert.equal(first.status, 'completed');
    assert.deepEqual(first.output.map((o) => o.type), ['message', 'function_call']);
    assert.equal(first.output[0].content[0].text, 'Let me check.');
    const call = first.output[1];
    assert.equal(call.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.arguments), { city: 'Paris', days: 2 });
    assert.match(call.call_id, /^call_/);

    const secondParams = {
      model: 'qwen3-max', tools: [WEATHER], previous_response_id: first.id,
      input: [{ type: 'function_call_output', call_id: call.call_id, output: 'sunny, 24 °C' }],
    };
    const second = stream ? await client.responses.stream(secondParams).finalResponse() : await client.responses.create(secondParams);
    assert.equal(second.output.at(-1).content[0].text, 'It is sunny in Paris, 24 °C.');
    assert.equal(second.previous_response_id, first.id);
    const [a, b] = (await records()).slice(-2);
    assert.equal(b.chat_id, a.chat_id, 'the tool result continues the same chat');
    assert.equal(b.parent_id, a.response_id);
    assert.match(b.content, /sunny, 24/);
    assert.doesNotMatch(b.content, /weather in Paris/, 'only the new message goes upstream');
  }
});

test('streamed function call: the exact event sequence, and arguments deltas add up', async () => {
  const events = await sse(await post({ model: 'qwen3-max', tools: [WEATHER], input: 'weather in Paris (events)', stream: true }));
  assert.deepEqual(shape(events), [
    'response.created', 'response.in_progress',
    'response.output_item.added', 'response.content_part.added', 'response.output_text.delta*',
    'response.output_text.done', 'response.content_part.done', 'response.output_item.done',
    'response.output_item.added', 'response.function_call_arguments.delta*',
    'response.function_call_arguments.done', 'response.output_item.done',
    'response.completed',
  ]);
  const args = events.filter((e) => e.type === 'response.function_call_arguments.delta').map((e) => e.delta).join('');
  const done = events.find((e) => e.type === 'response.function_call_arguments.done');
  assert.equal(args, done.arguments);
  assert.equal(done.name, 'get_weather');
  assert.equal(events.at(-1).response.output[1].arguments, done.arguments);
});

test('Codex turn: developer prompt, namespace/custom/web_search tools, store:false; the re-sent history continues natively', async () => {
  const before = (await records()).length;
  const events = await sse(await post(CODEX_FIRST));
  const completed = events.at(-1);
  assert.equal(completed.type, 'response.completed');
  assert.equal(completed.response.store, false);
  const items = events.filter((e) => e.type === 'response.output_item.done').map((e) => e.item);
  assert.deepEqual(items.map((i) => i.type), ['message', 'function_call']);
  assert.equal(items[1].name, 'exec_command');
  assert.deepEqual(JSON.parse(items[1].arguments), { cmd: 'ls -la' });
  const first = (await records()).slice(before)[0];
  assert.equal(first.model, 'qwen3-coder-plus', 'the upstream model');
  assert.equal(first.chat_type, 't2t', 'an offered web_search tool does not force a search chat');
  assert.equal(first.auto_search, true, "the web_search tool offers Qwen's search to the model");
  assert.match(first.content, /You are Codex/, 'the developer prompt goes upstream as system text');
  assert.match(first.content, /search_docs/, "a namespace's functions are offered to the model");
  assert.doesNotMatch(first.content, /apply_patch/, 'a custom tool is not offered');

  // store:false: nothing to GET, nothing to continue from.
  assert.equal((await get(completed.response.id)).status, 404);
  const cont = await post({ model: 'qwen3-coder-plus', previous_response_id: completed.response.id, input: 'more' });
  assert.equal(cont.status, 404);
  assert.equal((await cont.json()).error.code, 'previous_response_not_found');

  // Codex's next turn: the whole history again, with the tool output.
  const turn2 = structuredClone(CODEX_TURN2);
  turn2.input.find((i) => i.type === 'function_call').call_id = items[1].call_id;
  turn2.input.at(-1).call_id = items[1].call_id;
  const events2 = await sse(await post(turn2));
  assert.equal(events2.at(-1).type, 'response.completed');
  assert.equal(events2.at(-1).response.output[0].content[0].text, 'There are 2 files: README.md and main.c.');
  const second = (await records()).at(-1);
  assert.equal(second.chat_id, first.chat_id, 'the re-sent history continues the same chat');
  assert.equal(second.parent_id, first.response_id);
  assert.doesNotMatch(second.content, /You are Codex/, 'only the tool result goes upstream');

  // Item ids differ from turn to turn in Codex: they do not change the key.
  const turn3 = structuredClone(turn2);
  for (const i of turn3.input) if (i.id) i.id = `${i.id}-other`;
  turn3.input.find((i) => i.type === 'function_call').call_id = 'call_other';
  turn3.input.at(-1).call_id = 'call_other';
  turn3.input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'There are 2 files: README.md and main.c.' }] });
  turn3.input.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text: 'hello responses (turn 3)' }] });
  const events3 = await sse(await post(turn3));
  assert.equal(events3.at(-1).type, 'response.completed');
  const third = (await records()).at(-1);
  assert.equal(third.chat_id, first.chat_id);
  assert.equal(third.parent_id, second.response_id);
});

test("a namespace's function: offered by its name, its call comes back with the namespace (non-streaming)", async () => {
  const body = structuredClone(CODEX_FIRST);
  body.stream = false;
  body.input.at(-1).content[0].text = 'CODEX-NS: how do I install it?';
  const res = await post(body);
  assert.equal(res.status, 200);
  const r = await res.json();
  conforms('Response', r);
  assert.equal(r.output.length, 1);
  assert.equal(r.output[0].type, 'function_call');
  assert.equal(r.output[0].name, 'search_docs');
  assert.equal(r.output[0].namespace, 'mcp__docs__');
  assert.deepEqual(JSON.parse(r.output[0].arguments), { query: 'install' });
  assert.deepEqual(r.tools.map((t) => t.name), ['exec_command', 'update_plan', 'search_docs'], 'Response.tools: the functions honoured');
});

test('reasoning.effort: thinking becomes a reasoning item with a summary_text (stream and not)', async () => {
  const params = { model: 'qwen3-vl-plus', reasoning: { effort: 'high', summary: 'auto' }, input: 'think it through' };
  const r = await client.responses.create(params);
  assert.deepEqual(r.output.map((o) => o.type), ['reasoning', 'message']);
  assert.deepEqual(r.output[0].summary, [{ type: 'summary_text', text: 'Step one, then step two.' }]);
  assert.equal(r.output_text, 'Thought through.');
  assert.equal(r.reasoning.effort, 'high');
  assert.equal((await records()).at(-1).thinking_enabled, true);
  assert.equal((await records()).at(-1).thinking_budget, 24576, "effort 'high': the chat route's budget");

  const events = await sse(await post({ ...params, stream: true }));
  assert.deepEqual(shape(events).slice(2, 8), [
    'response.output_item.added', 'response.reasoning_summary_part.added',
    'response.reasoning_summary_text.delta*', 'response.reasoning_summary_text.done',
    'response.reasoning_summary_part.done', 'response.output_item.done',
  ]);
  const effortless = await client.responses.create({ ...params, reasoning: { effort: 'minimal' } });
  assert.deepEqual(effortless.output.map((o) => o.type), ['message'], 'minimal effort: no thinking');
});

test('max_output_tokens: status incomplete with reason max_output_tokens (stream and not)', async () => {
  const r = await client.responses.create({ model: 'qwen3-max', max_output_tokens: 3, input: 'responses limit test' });
  assert.equal(r.status, 'incomplete');
  assert.deepEqual(r.incomplete_details, { reason: 'max_output_tokens' });
  assert.equal(r.output_text, 'one two three');
  assert.equal(r.max_output_tokens, 3);
  const events = await sse(await post({ model: 'qwen3-max', max_output_tokens: 3, input: 'responses limit test', stream: true }));
  assert.equal(events.at(-1).type, 'response.incomplete');
  assert.equal(events.at(-1).response.status, 'incomplete');
});

test('a failure after the stream began: an error event, then response.failed', async () => {
  await mock.config({ faults: [{ kind: 'mid_stream_error', after: 2, num: 1 }] });
  const events = await sse(await post({ model: 'qwen3-max', input: 'responses fail test', stream: true }));
  const types = events.map((e) => e.type);
  assert.deepEqual(types.slice(-2), ['error', 'response.failed']);
  assert.equal(events.at(-1).response.status, 'failed');
  assert.equal(events.at(-1).response.error.code, 'server_error');
  assert.ok(!types.includes('response.completed'));
});

test('typed errors: OpenAI-shaped bodies with param and code', async () => {
  const cases = [
    [{ input: 'hi' }, 400, 'model'],
    [{ model: 'qwen3-max' }, 400, 'input'],
    [{ model: 'qwen3-max', input: 7 }, 400, 'input'],
    [{ model: 'qwen3-max', input: [{ role: 'robot', content: 'x' }] }, 400, 'input[0].role'],
    [{ model: 'qwen3-max', input: [{ role: 'user', content: [{ type: 'input_audio', input_audio: { data: 'AAAA', format: 'wav' } }] }] }, 400, 'input[0].content[0]'],
    [{ model: 'qwen3-max', input: 'x', tools: [{ type: 'function' }] }, 400, 'tools[0].name'],
    [{ model: 'qwen3-max', input: 'x', tool_choice: { type: 'function', name: 'nope' } }, 400, 'tool_choice.name'],
    [{ model: 'qwen3-max', input: 'x', max_output_tokens: 0 }, 400, 'max_output_tokens'],
    [{ model: 'qwen3-max', input: 'x', previous_response_id: 'resp_unknown' }, 404, 'previous_response_id'],
    [{ model: 'no-such-model', input: 'x' }, 404, 'model'],
    ['{"model": "qwen3-max", ', 400, null],
  ];
  for (const [body, status, param] of cases) {
    const res = await post(body);
    assert.equal(res.status, status, JSON.stringify(body));
    const e = await res.json();
    conforms('ErrorResponse', e);
    assert.equal(e.error.param, param, JSON.stringify(e));
  }
  const nf = await (await post({ model: 'qwen3-max', input: 'x', previous_response_id: 'resp_unknown' })).json();
  assert.equal(nf.error.code, 'previous_response_not_found');
  const g = await get('resp_nope');
  assert.equal(g.status, 404);
  conforms('ErrorResponse', await g.json());
  const del = await fetch(`${stack.baseUrl}/v1/responses`, { headers: { authorization: `Bearer ${KEY}` } });
  assert.equal(del.status, 405);
  // The SDK surfaces them as typed errors.
  await assert.rejects(client.responses.create({ model: 'qwen3-max', input: 'x', previous_response_id: 'resp_gone' }),
    (e) => e instanceof OpenAI.NotFoundError && e.code === 'previous_response_not_found');
});
