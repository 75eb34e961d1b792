// End to end: images and files in (docs/api.md, "Images and files"). An image
// (data: URL or http(s) URL) and a file in chat completions through the
// official openai client, streamed and not; Anthropic image/document blocks and
// Responses input_image/input_file through raw fetch. The worker uploads each
// through getstsToken and a signed PUT to the mock's OSS stand-in (which
// verifies the signature), and the mock's model answers with what it received
// ("image/png 37x23"), so the bytes are known to arrive intact. Limits,
// unsupported types and non-vision models are 400s in each API's shape; a
// conversation with an image continues natively.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, crc32 } from 'node:zlib';
import OpenAI from 'openai';
import { startMock, startStack } from './harness.mjs';

const MODEL = 'qwen3-max';
const TEXT_ONLY = 'qwen2.5-72b-instruct';  // the mock's model without vision

// A real PNG, w x h, RGB, a gradient (zlib-compressed like any encoder's).
function png(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const td = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(td) >>> 0);
    return Buffer.concat([len, td, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(w, 0);
  ihdr.writeUInt32BE(h, 4);
  ihdr[8] = 8;  // bit depth
  ihdr[9] = 2;  // RGB
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) raw.set([x * 7, y * 11, 99], y * (w * 3 + 1) + 1 + x * 3);
  }
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}
// A GIF header (the mock reads the logical screen size).
const GIF = Buffer.concat([Buffer.from('GIF89a'), Buffer.from([5, 0, 3, 0, 0, 0, 0]), Buffer.from([0x3b])]);
const PDF = Buffer.from('%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');
const dataUrl = (mime, buf) => `data:${mime};base64,${buf.toString('base64')}`;
const IMG = png(37, 23);

let mock, stack, client;
before(async () => {
  mock = await startMock();
  stack = await startStack({
    mock,
    upstream: { oss_endpoint: mock.url },
    extraConfig: '[attachments]\nmax_images = 3\nmax_image_bytes = 65536\nmax_files = 2\n',
  });
  client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function records() {
  return (await mock.state()).records;
}
async function post(path, body, headers = {}) {
  const r = await fetch(`${stack.baseUrl}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
  });
  return { status: r.status, body: await r.json() };
}
const imagePart = (url) => ({ type: 'image_url', image_url: { url } });

test('a data: URL image reaches the model intact, not streamed and streamed', async () => {
  await mock.reset();
  const messages = [{ role: 'user', content: [{ type: 'text', text: 'What is this?' }, imagePart(dataUrl('image/png', IMG))] }];
  const r = await client.chat.completions.create({ model: MODEL, messages });
  assert.equal(r.choices[0].message.content, 'You said: What is this?\n[image: image/png 37x23]');

  const stream = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [imagePart(dataUrl('image/gif', GIF)), { type: 'text', text: 'And this?' }] }], stream: true });
  let text = '';
  for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
  assert.equal(text, 'You said: And this?\n[image: image/gif 5x3]');

  const recs = await records();
  assert.equal(recs.length, 2);
  for (const rec of recs) assert.equal(rec.attachments, 1);
});

test('the label is not trusted: a PNG labelled image/jpeg is sent as a PNG', async () => {
  await mock.reset();
  const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, imagePart(dataUrl('image/jpeg', IMG))] }] });
  assert.match(r.choices[0].message.content, /\[image: image\/png 37x23\]$/);
});

test('an http(s) URL passes through without an upload', async () => {
  await mock.reset();
  const url = 'https://example.com/pictures/cat.png?size=large';
  const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'cat?' }, imagePart(url)] }] });
  assert.equal(r.choices[0].message.content, `You said: cat?\n[image: ${url}]`);
});

test('a file part (base64 file_data) is uploaded as a file', async () => {
  await mock.reset();
  const r = await client.chat.completions.create({
    model: MODEL,
    messages: [{ role: 'user', content: [{ type: 'text', text: 'summarise' }, { type: 'file', file: { filename: 'report.pdf', file_data: dataUrl('application/pdf', PDF) } }] }],
  });
  assert.equal(r.choices[0].message.content, `You said: summarise\n[file: application/pdf ${PDF.length} bytes]`);
});

test('an upload that fails is retried from a new STS token', async () => {
  await mock.reset();
  await mock.config({ oss_fail_puts: 1, sts_wrapped: true });
  const r = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: [{ type: 'text', text: 'again' }, imagePart(dataUrl('image/png', IMG))] }] });
  assert.equal(r.choices[0].message.content, 'You said: again\n[image: image/png 37x23]');
});

test('limits and types: too large, too many, not an image, bad base64 are OpenAI-shaped 400s', async () => {
  await mock.reset();
  const cases = [
    [[imagePart(dataUrl('image/png', Buffer.concat([IMG, Buffer.alloc(70_000)])))], 'image_too_large'],
    [[imagePart(dataUrl('image/png', IMG)), imagePart(dataUrl('image/png', IMG)), imagePart(dataUrl('image/png', IMG)), imagePart(dataUrl('image/png', IMG))], 'too_many_images'],
    [[imagePart(dataUrl('image/png', PDF))], 'unsupported_image_type'],
    [[imagePart(dataUrl('image/png', Buffer.from([1, 2, 3, 4, 5, 6])))], 'unsupported_image_type'],
    [[imagePart('data:image/png;base64,!!notbase64!!')], 'invalid_image'],
    [[imagePart('ftp://example.com/a.png')], 'invalid_image_url'],
    [[{ type: 'file', file: { file_data: dataUrl('application/pdf', IMG) } }], 'unsupported_file_type'],
  ];
  for (const [content, code] of cases) {
    const e = await client.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content }] }).then(() => null, (err) => err);
    assert.ok(e, `${code}: expected an error`);
    assert.equal(e.status, 400, code);
    assert.equal(e.code, code);
    assert.equal(e.type, 'invalid_request_error');
    assert.match(e.param, /^messages\[0\]\.content\[\d\]$/);
  }
  assert.equal((await records()).length, 0, 'nothing reached the upstream');
});

test('an image for a model without vision is a 400 naming the vision models', async () => {
  await mock.reset();
  const e = await client.chat.completions.create({ model: TEXT_ONLY, messages: [{ role: 'user', content: [{ type: 'text', text: 'x' }, imagePart(dataUrl('image/png', IMG))] }] }).then(() => null, (err) => err);
  assert.equal(e?.status, 400);
  assert.equal(e.code, 'model_not_vision_capable');
  assert.match(e.message, /qwen3-max/);
  assert.match(e.message, /qwen3-vl-plus/);
  assert.doesNotMatch(e.message, /Models that do:.*qwen2\.5-72b-instruct/);
  // Text alone still works on that model.
  const ok = await client.chat.completions.create({ model: TEXT_ONLY, messages: [{ role: 'user', content: 'x' }] });
  assert.equal(ok.choices[0].message.content, 'You said: x');
});

test('a conversation with an image continues natively (the image counts by content hash)', async () => {
  await mock.reset();
  const first = { role: 'user', content: [{ type: 'text', text: 'look' }, imagePart(dataUrl('image/png', IMG))] };
  const r1 = await client.chat.completions.create({ model: MODEL, messages: [first] });
  const history = [first, r1.choices[0].message, { role: 'user', content: 'and now?' }];
  const r2 = await client.chat.completions.create({ model: MODEL, messages: history });
  assert.equal(r2.choices[0].message.content, 'You said: and now?');
  const recs = await records();
  assert.equal(recs.length, 2);
  assert.equal(recs[1].chat_id, recs[0].chat_id, 'the same upstream chat');
  assert.equal(recs[1].parent_id, recs[0].response_id, 'chained to the first reply');
  assert.equal(recs[1].attachments, 0, 'the image is not sent again');
  // A different image in the history is another conversation.
  const other = { role: 'user', content: [{ type: 'text', text: 'look' }, imagePart(dataUrl('image/gif', GIF))] };
  await client.chat.completions.create({ model: MODEL, messages: [other, r1.choices[0].message, { role: 'user', content: 'and now?' }] });
  const third = (await records()).at(-1);
  assert.notEqual(third.chat_id, recs[0].chat_id);
  assert.equal(third.attachments, 1);
});

test('a continued chat that is gone is replayed in a new chat with the earlier images', async () => {
  await mock.reset();
  const first = { role: 'user', content: [{ type: 'text', text: 'remember this' }, imagePart(dataUrl('image/png', IMG))] };
  const r1 = await client.chat.completions.create({ model: MODEL, messages: [first] });
  const chat = (await records()).at(-1).chat_id;
  const del = await fetch(`${mock.url}/api/v2/chats/${chat}`, { method: 'DELETE', headers: { authorization: `Bearer ${mock.token('alice')}` } });
  assert.equal(del.status, 200);
  const r2 = await client.chat.completions.create({ model: MODEL, messages: [first, r1.choices[0].message, { role: 'user', content: 'what was it?' }] });
  const recs = await records();
  const last = recs.at(-1);
  assert.notEqual(last.chat_id, chat, 'a new chat');
  assert.equal(last.attachments, 1, 'the first turn\'s image is sent again');
  assert.match(r2.choices[0].message.content, /what was it\?/);
  assert.match(r2.choices[0].message.content, /\[image: image\/png 37x23\]$/);
});

test('Anthropic Messages: image and document blocks, and errors in its shape', async () => {
  await mock.reset();
  const headers = { 'anthropic-version': '2023-06-01', 'x-api-key': 'unused' };
  const ok = await post('/v1/messages', {
    model: MODEL,
    max_tokens: 100,
    messages: [{ role: 'user', content: [
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: IMG.toString('base64') } },
      { type: 'document', source: { type: 'text', media_type: 'text/plain', data: 'hello notes' } },
      { type: 'text', text: 'compare' },
    ] }],
  }, headers);
  assert.equal(ok.status, 200, JSON.stringify(ok.body));
  assert.equal(ok.body.content[0].text, 'You said: compare\n[image: image/png 37x23]\n[file: text/plain 11 bytes]');
  const bad = await post('/v1/messages', {
    model: MODEL,
    max_tokens: 100,
    messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: PDF.toString('base64') } }] }],
  }, headers);
  assert.equal(bad.status, 400);
  assert.equal(bad.body.type, 'error');
  assert.equal(bad.body.error.type, 'invalid_request_error');
  assert.match(bad.body.error.message, /Unsupported image type/);
  const url = await post('/v1/messages', {
    model: TEXT_ONLY,
    max_tokens: 100,
    messages: [{ role: 'user', content: [{ type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } }, { type: 'text', text: 'x' }] }],
  }, headers);
  assert.equal(url.status, 400);
  assert.equal(url.body.error.type, 'invalid_request_error');
  assert.match(url.body.error.message, /does not accept images/);
});

test('Responses: input_image and input_file', async () => {
  await mock.reset();
  const r = await client.responses.create({
    model: MODEL,
    input: [{ role: 'user', content: [
      { type: 'input_text', text: 'read these' },
      { type: 'input_image', image_url: dataUrl('image/png', IMG), detail: 'auto' },
      { type: 'input_file', filename: 'a.pdf', file_data: dataUrl('application/pdf', PDF) },
    ] }],
  });
  assert.equal(r.output_text, `You said: read these\n[image: image/png 37x23]\n[file: application/pdf ${PDF.length} bytes]`);
  const e = await client.responses.create({ model: MODEL, input: [{ role: 'user', content: [{ type: 'input_image', image_url: 'data:image/png;base64,AAAA' }] }] }).then(() => null, (err) => err);
  assert.equal(e?.status, 400);
  assert.equal(e.code, 'unsupported_image_type');
});
