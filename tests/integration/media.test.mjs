// Images and video out (docs/api.md "Images and video") end to end against
// the mock's t2i / t2v chat types: /v1/images/generations through the
// official openai client (url and b64_json, the PNG decoded), the -image
// chat variant streaming and not (markdown content + qwen_media), videos in
// the asynchronous and the blocking (SSE keep-alive) forms and the -video
// chat variant, bad sizes and /v1/models (/v1/images/edits: image_edits.test.mjs).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { inflateSync } from 'node:zlib';
import OpenAI from 'openai';
import { startMock, startStack, chat, until } from './harness.mjs';

const KEEPALIVE_MS = 100;
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
  await mock.config({ image_delay_ms: 0, video_duration_ms: 300, ...config });
}
const records = async () => (await mock.state()).records;

// Decodes a PNG far enough to prove it is one: signature, chunk CRCs are
// not checked here, IHDR size, and an IDAT that inflates to the expected
// number of bytes (filter byte + RGB per row).
function decodePng(buf) {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  let at = 8, width = 0, height = 0;
  const idat = [];
  while (at < buf.length) {
    const len = buf.readUInt32BE(at);
    const type = buf.subarray(at + 4, at + 8).toString('latin1');
    const data = buf.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') { width = data.readUInt32BE(0); height = data.readUInt32BE(4); }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const pixels = inflateSync(Buffer.concat(idat));
  assert.equal(pixels.length, height * (1 + width * 3));
  return { width, height };
}

test('/v1/models: image_generation / video_generation capabilities and the -image / -video variants', async () => {
  const list = await client.models.list();
  const byId = new Map(list.data.map((m) => [m.id, m]));
  assert.ok(byId.get('qwen3-max').qwen_capabilities.includes('image_generation'));
  assert.ok(byId.get('qwen3-max').qwen_capabilities.includes('video_generation'));
  assert.ok(byId.has('qwen3-max-image'));
  assert.ok(byId.has('qwen3-max-video'));
});

test('images.generate (url): Qwen signed URL, t2i chat type, the size mapped to a ratio', async () => {
  await setup();
  const r = await client.images.generate({ model: 'qwen3-max', prompt: 'a red fox', size: '1792x1024' });
  assert.equal(r.data.length, 1);
  const url = r.data[0].url;
  assert.match(url, /\/cdn\/mock-media\/img-\d+-16x9\.png\?Expires=\d+&/);
  assert.equal(r.data[0].b64_json, undefined);
  const recs = await records();
  const rec = recs.find((x) => x.chat_type === 't2i');
  assert.ok(rec, JSON.stringify(recs));
  assert.equal(rec.model, 'qwen3-max');
  assert.equal(rec.content, 'a red fox');
  const png = Buffer.from(await (await fetch(url)).arrayBuffer());
  assert.deepEqual(decodePng(png), { width: 16, height: 9 });
});

test('images.generate (b64_json, n=2, default model): the worker downloads and encodes', async () => {
  await setup({ image_delay_ms: 50 });
  const r = await client.images.generate({ model: 'dall-e-3', prompt: 'two cats', n: 2, size: '3:4', response_format: 'b64_json' });
  assert.equal(r.data.length, 2);
  for (const d of r.data) {
    assert.equal(d.url, undefined);
    assert.deepEqual(decodePng(Buffer.from(d.b64_json, 'base64')), { width: 6, height: 8 });
  }
  assert.equal((await records()).filter((x) => x.chat_type === 't2i').length, 2);
});

test('images on a listed variant (qwen3-vl-plus-thinking): the upstream model is the base model', async () => {
  await setup();
  const r = await client.images.generate({ model: 'qwen3-vl-plus-thinking', prompt: 'a boat' });
  assert.match(r.data[0].url, /img-\d+-8x8\.png/);
  const rec = (await records()).find((x) => x.chat_type === 't2i');
  assert.equal(rec.model, 'qwen3-vl-plus');
});

test('images: a size Qwen does not offer, n out of range, a model that cannot → 400 OpenAI errors', async () => {
  await setup();
  for (const [body, param] of [
    [{ prompt: 'x', size: '640x480x2' }, 'size'],
    [{ prompt: 'x', size: '2:1' }, 'size'],
    [{ prompt: 'x', n: 9 }, 'n'],
    [{ prompt: 'x', response_format: 'webp' }, 'response_format'],
    [{ prompt: 'x', stream: true }, 'stream'],
  ]) {
    await assert.rejects(client.images.generate(body), (e) => {
      assert.equal(e.status, 400, JSON.stringify(body));
      assert.equal(e.error.type, 'invalid_request_error');
      assert.equal(e.error.param, param);
      return true;
    });
  }
  await assert.rejects(client.images.generate({ model: 'no-such-model', prompt: 'x' }), (e) => e.status === 404);
  assert.equal((await records()).length, 0, 'nothing went upstream');
  const metrics = await (await fetch(`${stack.baseUrl}/metrics`)).text();
  assert.ok(metrics.split('\n').some((l) => l.startsWith('qwenproxy_requests_total{') &&
    l.includes('endpoint="/v1/images/generations"') && l.includes('status="400"')), 'the 400s are counted under their route');
});

test('chat completions with -image: markdown content and qwen_media, not streaming', async () => {
  await setup();
  const r = await client.chat.completions.create({ model: 'qwen3-max-image', messages: [{ role: 'user', content: 'a lighthouse' }] });
  const m = r.choices[0].message;
  assert.equal(m.qwen_media.length, 1);
  assert.equal(m.qwen_media[0].type, 'image');
  assert.equal(m.content, `![image](${m.qwen_media[0].url})`);
  assert.equal(r.choices[0].finish_reason, 'stop');
});

test('chat completions with -image: streaming, the URL as content, qwen_media on the final delta', async () => {
  await setup({ image_delay_ms: KEEPALIVE_MS * 5 });
  const s = await client.chat.completions.create({ model: 'qwen3-max-image', stream: true, messages: [{ role: 'user', content: 'a lighthouse' }] });
  let content = '', final = null;
  for await (const c of s) {
    content += c.choices[0]?.delta?.content ?? '';
    if (c.choices[0]?.finish_reason) final = c;
  }
  assert.ok(final, 'a final chunk');
  const media = final.choices[0].delta.qwen_media;
  assert.equal(media.length, 1);
  assert.equal(content, `![image](${media[0].url})`);
  assert.match(media[0].url, /img-\d+-8x8\.png/);
});

test('videos, asynchronous: create answers in_progress, GET reports completed with the URL', async () => {
  await setup({ video_duration_ms: 300 });
  const r = await fetch(`${stack.baseUrl}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model: 'sora-2', prompt: 'waves', size: '720x1280' }) });
  assert.equal(r.status, 200);
  const v = await r.json();
  assert.equal(v.object, 'video');
  assert.equal(v.status, 'in_progress');
  assert.equal(v.size, '9:16');
  assert.match(v.id, /^video_/);
  const done = await until(async () => {
    const g = await (await fetch(`${stack.baseUrl}/v1/videos/${v.id}`)).json();
    return g.status !== 'in_progress' ? g : null;
  }, { what: 'video completed' });
  assert.equal(done.status, 'completed', JSON.stringify(done));
  assert.match(done.qwen_url, /\/cdn\/mock-media\/vid-\d+\.mp4\?Expires=/);
  const rec = (await records()).find((x) => x.chat_type === 't2v');
  assert.ok(rec);
  assert.equal(rec.stream, false);
  const missing = await fetch(`${stack.baseUrl}/v1/videos/video_nope`);
  assert.equal(missing.status, 404);
  assert.equal((await missing.json()).error.code, 'video_not_found');
});

test('videos, blocking (stream:true): keep-alive comments while the task runs, then the completed video', async () => {
  await setup({ video_duration_ms: KEEPALIVE_MS * 25 });
  const r = await fetch(`${stack.baseUrl}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'waves', size: '16:9', stream: true }) });
  assert.equal(r.status, 200);
  assert.match(r.headers.get('content-type'), /text\/event-stream/);
  const raw = await r.text();
  assert.ok(raw.includes(': keep-alive\n\n'), raw.slice(0, 400));
  const events = raw.split('\n\n').filter((e) => e.startsWith('data: ')).map((e) => e.slice(6));
  assert.equal(events.at(-1), '[DONE]');
  const first = JSON.parse(events[0]), last = JSON.parse(events.at(-2));
  assert.equal(first.status, 'in_progress');
  assert.equal(last.status, 'completed');
  assert.equal(last.size, '16:9');
  assert.match(last.qwen_url, /vid-\d+\.mp4/);
});

test('videos: a size Qwen does not offer → 400; chat -video streams the link', async () => {
  await setup({ video_duration_ms: 100 });
  const bad = await fetch(`${stack.baseUrl}/v1/videos`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ prompt: 'waves', size: '1920x1081' }) });
  assert.equal(bad.status, 400);
  const e = await bad.json();
  assert.equal(e.error.param, 'size');
  assert.equal(e.error.type, 'invalid_request_error');
  const r = await client.chat.completions.create({ model: 'qwen3-max-video', messages: [{ role: 'user', content: 'waves' }] });
  const m = r.choices[0].message;
  assert.equal(m.qwen_media[0].type, 'video');
  assert.equal(m.content, `[video](${m.qwen_media[0].url})`);
});
