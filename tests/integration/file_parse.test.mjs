// End to end: the document parse step (docs/upstream.md, "Images and files
// in", step 4). After the OSS PUT of a document the worker POSTs
// /api/v2/files/parse and polls /api/v2/files/parse/status until the mock
// says success; the mock refuses a completion whose file was never parsed
// (require_parse), so a passing request proves the step ran. Each failure
// shape peers met (the Internal_Server_Error outage from either endpoint,
// the aliyun_waf_captcha page, a parse that never finishes) ends in a clear
// 502 without a hang, and images skip the step. Through the official openai
// client.
import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startStack, until } from './harness.mjs';

const MODEL = 'qwen3-max';
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const GIF = Buffer.concat([Buffer.from('GIF89a'), Buffer.from([5, 0, 3, 0, 0, 0, 0]), Buffer.from([0x3b])]);
const dataUrl = (mime, buf) => `data:${mime};base64,${buf.toString('base64')}`;
const MAX_POLLS = 4;
// Small bounds so a failure shows quickly; the interval is still a real wait.
const UPSTREAM = { parse_poll_interval_ms: 20, parse_max_polls: MAX_POLLS, long_input_bytes: 2000 };

const filePart = () => ({ type: 'file', file: { filename: 'report.pdf', file_data: dataUrl('application/pdf', PDF) } });
const fileMessages = () => [{ role: 'user', content: [{ type: 'text', text: 'summarise' }, filePart()] }];
const SYSTEM = 'You are a careful coding agent. '.repeat(300);
const longMessages = [
  { role: 'system', content: SYSTEM },
  { role: 'user', content: 'list the files' },
  { role: 'assistant', content: 'a.txt b.txt' },
  { role: 'user', content: 'open a.txt' },
];

let mock, stack, client;
before(async () => {
  mock = await startMock();
  stack = await startStack({ mock, upstream: { oss_endpoint: mock.url, ...UPSTREAM } });
  client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});
beforeEach(async () => {
  await mock.reset();
});

const create = (messages, extra = {}) =>
  client.chat.completions.create({ model: MODEL, messages, ...extra }).then((x) => x, (e) => e);

test('a file part is parsed (parse, then status polls until success) before the completion', async () => {
  await mock.config({ parse_polls: 2 });  // "parsing" twice, then "success"
  const r = await create(fileMessages());
  assert.ok(!(r instanceof Error), String(r));
  assert.equal(r.choices[0].message.content, `You said: summarise\n[file: application/pdf ${PDF.length} bytes]`);
  const s = await mock.state();
  assert.equal(s.file_parses, 1);
  assert.equal(s.file_parse_polls, 3);
  assert.equal(s.records.at(-1).attachments, 1);
});

test('streamed too: the parse step runs before the stream starts', async () => {
  const stream = await client.chat.completions.create({ model: MODEL, messages: fileMessages(), stream: true });
  let text = '';
  for await (const c of stream) text += c.choices[0]?.delta?.content ?? '';
  assert.match(text, /\[file: application\/pdf \d+ bytes\]$/);
  const s = await mock.state();
  assert.equal(s.file_parses, 1);
  assert.equal(s.file_parse_polls, 2);  // parse_polls 1 by default: parsing, success
});

test('a long input\'s context file goes through the parse step', async () => {
  const r = await create(longMessages);
  assert.ok(!(r instanceof Error), String(r));
  assert.match(r.choices[0].message.content, /attached file conversation-context\.txt/);
  assert.match(r.choices[0].message.content, /\[file: text\/plain \d+ bytes\]$/);
  const s = await mock.state();
  assert.equal(s.file_parses, 1);
  assert.equal(s.file_parse_polls, 2);
});

test('images skip the parse step', async () => {
  const r = await create([{ role: 'user', content: [{ type: 'text', text: 'what?' }, { type: 'image_url', image_url: { url: dataUrl('image/gif', GIF) } }] }]);
  assert.ok(!(r instanceof Error), String(r));
  const s = await mock.state();
  assert.equal(s.file_parses, 0);
  assert.equal(s.file_parse_polls, 0);
});

function assertUpstreamError(r, pattern, { status = 502, code = 'upstream_error' } = {}) {
  assert.ok(r instanceof OpenAI.APIError, `expected an API error, got ${r}`);
  assert.equal(r.status, status);
  assert.equal(r.error?.type, 'server_error');
  assert.equal(r.error?.code, code);
  assert.match(r.message, pattern);
}

test('an outage answer from files/parse fails at once with a clear 502, no polling', async () => {
  await mock.config({ faults: [{ kind: 'parse_outage', endpoint: 'files_parse' }] });
  const r = await create(fileMessages());
  assertUpstreamError(r, /parsing the uploaded file failed: Qwen's document parser failed \(parse: Internal_Server_Error\)/);
  const s = await mock.state();
  assert.equal(s.file_parses, 1, 'not retried');
  assert.equal(s.file_parse_polls, 0);
  assert.equal(s.completions_requested, 0);
});

test('an outage answer from files/parse/status fails at the first poll', async () => {
  await mock.config({ faults: [{ kind: 'parse_outage', endpoint: 'files_parse_status' }] });
  const r = await create(longMessages);
  assertUpstreamError(r, /parse status: Internal_Server_Error/);
  const s = await mock.state();
  assert.equal(s.file_parse_polls, 1, 'no further polls after an outage');
  assert.equal(s.completions_requested, 0);
});

test('a parse that never finishes stops after parse_max_polls: 504 upstream_timeout', async () => {
  await mock.config({ parse_polls: -1 });
  const r = await create(fileMessages());
  assertUpstreamError(r, new RegExp(`did not finish parsing the document after ${MAX_POLLS} status checks`),
    { status: 504, code: 'upstream_timeout' });
  const s = await mock.state();
  assert.equal(s.file_parse_polls, MAX_POLLS);
  assert.equal(s.completions_requested, 0);
});

test('without the parse step the mock refuses the file (require_parse), with it off it passes', async () => {
  const own = await startStack({ mock, upstream: { oss_endpoint: mock.url, ...UPSTREAM, parse_documents: false } });
  try {
    const c = new OpenAI({ baseURL: `${own.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    const r = await c.chat.completions.create({ model: MODEL, messages: fileMessages() }).then((x) => x, (e) => e);
    assertUpstreamError(r, /file is not parsed/);
    assert.equal((await mock.state()).file_parses, 0);
    await mock.config({ require_parse: false });
    const ok = await c.chat.completions.create({ model: MODEL, messages: fileMessages() });
    assert.match(ok.choices[0].message.content, /\[file: application\/pdf/);
  } finally {
    await own.stop();
  }
});

test('the aliyun_waf_captcha page from files/parse: 502 about human verification, needs_verification', async () => {
  const own = await startStack({ mock, upstream: { oss_endpoint: mock.url, ...UPSTREAM } });
  try {
    await mock.config({ faults: [{ kind: 'waf_captcha', endpoint: 'files_parse' }] });
    const c = new OpenAI({ baseURL: `${own.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
    const r = await c.chat.completions.create({ model: MODEL, messages: fileMessages() }).then((x) => x, (e) => e);
    assertUpstreamError(r, /human-verification \(captcha\/WAF\) challenge/);
    assert.doesNotMatch(r.message, /<script|<html/i, 'the page is not quoted');
    await until(async () => {
      const h = await (await fetch(`${own.baseUrl}/health`)).json();
      return h.accounts[0]?.health === 'needs_verification';
    }, { what: 'account health needs_verification' });
    const s = await mock.state();
    assert.equal(s.file_parse_polls, 0);
    assert.equal(s.completions_requested, 0);
  } finally {
    await own.stop();
  }
});
