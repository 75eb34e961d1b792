// End to end: OpenAI tool calling through the official SDK's tool loop
// (streaming and not) over a continued conversation, and Roo Code's XML mode.
// The mock is scripted to answer like a Qwen model: with the tool-call markup
// the gateway's prompt asks for, or with Roo XML, or with plain text.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import OpenAI from 'openai';
import { startMock, startStack } from './harness.mjs';

const MODEL = 'qwen3-max';
const ROO_XML_SYSTEM = readFileSync(new URL('../testdata/tools/roo_xml_system_prompt.txt', import.meta.url), 'utf8');
const ROO_V337_TOOLS = JSON.parse(readFileSync(new URL('../testdata/tools/roo-native-v3.37.json', import.meta.url), 'utf8'));
const TOOLS = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: {
      type: 'object',
      properties: { city: { type: 'string' }, days: { type: 'integer' } },
      required: ['city'],
    },
  },
}];

let mock, stack, client;
before(async () => {
  mock = await startMock();
  await mock.rules([
    // Native mode: the model calls the tool (with a string where the schema wants an integer).
    { match: { contains: 'weather in Paris' }, reply: 'Let me check.\n<tool_call>\n<function=fn_get_weather>\n<parameter=city>Paris</parameter>\n<parameter=days>2</parameter>\n</function>\n</tool_call>' },
    // ...then answers from the tool result.
    { match: { contains: 'sunny, 24' }, reply: 'It is sunny in Paris, 24 °C.' },
    // XML mode: a Roo tool call followed by text Roo must not see.
    { match: { contains: 'show me a.txt' }, reply: 'I will read it.\n<read_file>\n<path>a.txt</path>\n</read_file>\nand more text after the call' },
    // Text that only looks like the start of a call: it must come back byte for byte.
    { match: { contains: 'mention the markup' }, reply: 'see the <tool_call><function=x> thing' },
    // Roo's XML call to Roo v3.37's read_file, which declares files[].
    { match: { contains: 'open app.ts' }, reply: '<read_file>\n<args>\n<file>\n<path>src/app.ts</path>\n<line_range>1-20</line_range>\n</file>\n</args>\n</read_file>' },
    // XML mode: plain text must come back as attempt_completion.
    { match: { contains: 'hello roo' }, reply: 'Hello! How can I help?' },
  ]);
  stack = await startStack({ mock });
  client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function records() {
  return (await mock.state()).records;
}

for (const stream of [false, true]) {
  test(`SDK tool loop (${stream ? 'streaming' : 'non-streaming'}): call, result, final answer; the second turn continues the chat`, async () => {
    const messages = [{ role: 'user', content: `What is the weather in Paris? (${stream ? 's' : 'n'})` }];
    let message;
    let finish;
    if (!stream) {
      const r = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS });
      message = r.choices[0].message;
      finish = r.choices[0].finish_reason;
    } else {
      const s = client.chat.completions.stream({ model: MODEL, messages, tools: TOOLS, stream: true });
      const final = await s.finalChatCompletion();
      message = final.choices[0].message;
      finish = final.choices[0].finish_reason;
    }
    assert.equal(finish, 'tool_calls');
    assert.match(message.content ?? '', /Let me check\./);
    assert.equal(message.tool_calls.length, 1);
    const call = message.tool_calls[0];
    assert.equal(call.type, 'function');
    assert.equal(call.function.name, 'get_weather');
    assert.deepEqual(JSON.parse(call.function.arguments), { city: 'Paris', days: 2 });
    assert.match(call.id, /^call_/);

    // The SDK's tool loop: run the tool, send its result back.
    messages.push({ role: 'assistant', content: message.content ?? null, tool_calls: message.tool_calls.map((c) => ({ id: c.id, type: c.type, function: c.function })) });
    messages.push({ role: 'tool', tool_call_id: call.id, content: 'sunny, 24 °C' });
    const r2 = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS });
    assert.equal(r2.choices[0].finish_reason, 'stop');
    assert.equal(r2.choices[0].message.content, 'It is sunny in Paris, 24 °C.');

    const recs = await records();
    const [first, second] = recs.slice(-2);
    assert.match(first.content, /get_weather/, 'the tools are described upstream');
    assert.equal(second.chat_id, first.chat_id, 'the tool result continues the same chat');
    assert.equal(second.parent_id, first.response_id);
    assert.match(second.content, /sunny, 24/);
    assert.doesNotMatch(second.content, /What is the weather/, 'only the new message goes upstream');
  });
}

test('Roo Code XML mode: a tool call passes through unchanged, text after it is cut, the upstream is stopped', async () => {
  const r = await client.chat.completions.create({
    model: MODEL,
    messages: [
      { role: 'system', content: ROO_XML_SYSTEM },
      { role: 'user', content: '<task>\nshow me a.txt\n</task>\n<environment_details>\n# Current Workspace Directory (/w)\n</environment_details>' },
    ],
  });
  const content = r.choices[0].message.content;
  assert.match(content, /<read_file>\s*<path>a\.txt<\/path>\s*<\/read_file>/);
  assert.doesNotMatch(content, /more text after the call/);
  assert.doesNotMatch(content, /attempt_completion/);
  assert.equal(r.choices[0].message.tool_calls, undefined);
});

test('Roo Code XML mode, replayed history with [tool] Result: turns: plain text becomes one attempt_completion', async () => {
  const s = await client.chat.completions.create({
    model: MODEL,
    stream: true,
    messages: [
      { role: 'system', content: ROO_XML_SYSTEM },
      { role: 'user', content: '<task>\nlist files\n</task>' },
      { role: 'assistant', content: '<list_files>\n<path>.</path>\n</list_files>' },
      { role: 'user', content: '[list_files for \'.\'] Result:\na.txt\nb.txt\n\n<environment_details>\n# Current Time\n2026-11-24\n</environment_details>' },
      { role: 'assistant', content: '<attempt_completion>\n<result>\nTwo files.\n</result>\n</attempt_completion>' },
      { role: 'user', content: 'hello roo\n<environment_details>\n# Current Time\n2026-11-24\n</environment_details>' },
    ],
  });
  let text = '';
  for await (const chunk of s) text += chunk.choices[0]?.delta?.content ?? '';
  assert.match(text, /^\s*<attempt_completion>\s*<result>\s*Hello! How can I help\?\s*<\/result>\s*<\/attempt_completion>\s*$/);
  assert.equal((text.match(/<attempt_completion>/g) || []).length, 1, 'exactly one tool use');
  const last = (await records()).at(-1);
  assert.match(last.content, /\[list_files for '\.'\] Result:/, 'the replayed transcript keeps the tool results');
});

for (const stream of [false, true]) {
  test(`text that only looks like a call comes back byte for byte (${stream ? 'streaming' : 'non-streaming'})`, async () => {
    const messages = [{ role: 'user', content: `mention the markup (${stream ? 's' : 'n'})` }];
    let content;
    if (!stream) {
      const r = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS });
      content = r.choices[0].message.content;
      assert.equal(r.choices[0].message.tool_calls, undefined);
    } else {
      const s = await client.chat.completions.create({ model: MODEL, messages, tools: TOOLS, stream: true });
      content = '';
      for await (const chunk of s) {
        assert.equal(chunk.choices[0]?.delta?.tool_calls, undefined);
        content += chunk.choices[0]?.delta?.content ?? '';
      }
    }
    assert.equal(content, 'see the <tool_call><function=x> thing');
  });
}

test("Roo Code v3.37's native read_file (files[]) gets Roo's <args><file> call mapped to its schema", async () => {
  const r = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: 'open app.ts please' }],
    tools: ROO_V337_TOOLS,
  });
  const calls = r.choices[0].message.tool_calls;
  assert.equal(calls.length, 1);
  assert.equal(calls[0].function.name, 'read_file');
  assert.deepEqual(JSON.parse(calls[0].function.arguments), { files: [{ path: 'src/app.ts', line_ranges: [[1, 20]] }] });
});
