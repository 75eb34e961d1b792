// End to end: long inputs (docs/upstream.md, "Long inputs"). The mock enforces
// a message-length limit (max_message_bytes); without upstream.long_input_bytes
// a long conversation hits it, with it the history and system text go as an
// uploaded text file (the same STS + signed OSS PUT as images) and the latest
// turn stays inline, so the request passes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startStack } from './harness.mjs';

const MODEL = 'qwen3-max';
const LIMIT = 4000;
const SYSTEM = 'You are a careful coding agent. '.repeat(300);  // ~9.6 KB, like an agent's prompt
const messages = [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: 'list the files' },
  { role: 'assistant', content: 'a.txt b.txt' },
  { role: 'user', content: 'open a.txt' },
];

let mock;
before(async () => {
  mock = await startMock();
});
after(async () => {
  await mock?.stop();
});

async function run(upstream) {
  const stack = await startStack({ mock, upstream: { oss_endpoint: mock.url, ...upstream } });
  try {
    await mock.reset();
    await mock.config({ max_message_bytes: LIMIT });
    const client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    const r = await client.chat.completions.create({ model: MODEL, messages }).then((x) => x, (e) => e);
    return { r, recs: (await mock.state()).records };
  } finally {
    await stack.stop();
  }
}

test('without long_input_bytes a long conversation exceeds the upstream message limit', async () => {
  const { r, recs } = await run({});
  assert.ok(r instanceof Error, 'expected an error');
  assert.equal(r.status, 502);
  assert.match(r.message, /too long/);
  assert.equal(recs.at(-1).outcome, 'error');
});

test('with long_input_bytes the history goes as a text file and the latest turn stays inline', async () => {
  const { r, recs } = await run({ long_input_bytes: 2000 });
  assert.ok(!(r instanceof Error), String(r));
  const text = r.choices[0].message.content;
  // The echo quotes the inline message: the pointer to the file, the latest
  // turn, and the uploaded file as the mock's OSS stand-in holds it.
  assert.match(text, /attached file conversation-context\.txt/);
  assert.match(text, /open a\.txt/);
  assert.doesNotMatch(text, /careful coding agent/);
  assert.match(text, /\[file: text\/plain (\d+) bytes\]$/);
  const bytes = Number(text.match(/text\/plain (\d+) bytes/)[1]);
  assert.ok(bytes > SYSTEM.length, `the file holds the system prompt (${bytes} bytes)`);
  const rec = recs.at(-1);
  assert.equal(rec.attachments, 1);
  assert.ok(rec.content.length < LIMIT);
});
