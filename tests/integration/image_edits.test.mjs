// End to end: POST /v1/images/edits (docs/api.md "Images and video") through
// the official openai client's images.edit (multipart/form-data, toFile)
// against the real processes and the mock. The worker uploads the image
// through getstsToken and a signed PUT to the mock's OSS stand-in, then runs
// Qwen's image_edit chat type with it as an `image` content item; the mock
// refuses images its store does not hold and answers with an image whose
// URL names what it received (`source=image/png 37x23`) and whose size is
// the input's (no `size`) or the requested ratio's, so the bytes are known
// to have arrived. Bad inputs are OpenAI-shaped 400s that send nothing
// upstream.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { deflateSync, inflateSync, crc32 } from 'node:zlib';
import OpenAI, { toFile } from 'openai';
import { startMock, startStack } from './harness.mjs';

// A real PNG, w x h, RGB (zlib-compressed like any encoder's).
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
  ihdr[8] = 8;
  ihdr[9] = 2;
  const raw = Buffer.alloc((w * 3 + 1) * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) raw.set([x * 7, y * 11, 99], y * (w * 3 + 1) + 1 + x * 3);
  }
  return Buffer.concat([Buffer.from('89504e470d0a1a0a', 'hex'), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(raw)), chunk('IEND', Buffer.alloc(0))]);
}

// Width and height of a PNG, after checking that its pixels inflate.
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
  assert.equal(inflateSync(Buffer.concat(idat)).length, height * (1 + width * 3));
  return { width, height };
}

const IMG = png(37, 23);
const MAX_IMAGE_BYTES = 65536;
let mock, stack, client;

before(async () => {
  mock = await startMock();
  stack = await startStack({
    mock,
    upstream: { oss_endpoint: mock.url },
    extraConfig: `[attachments]\nmax_image_bytes = ${MAX_IMAGE_BYTES}\n`,
  });
  client = new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
});

async function setup() {
  await mock.reset();
  await mock.config({ image_delay_ms: 0 });
}
const records = async () => (await mock.state()).records;

test('images.edit (url): uploaded, image_edit chat type, the mock saw the PNG', async () => {
  await setup();
  const r = await client.images.edit({
    model: 'qwen3-max',
    image: await toFile(IMG, 'cat.png', { type: 'image/png' }),
    prompt: 'give the cat a hat',
  });
  assert.equal(r.data.length, 1);
  const url = r.data[0].url;
  assert.equal(r.data[0].b64_json, undefined);
  // No size: the edit keeps the input's size; the URL says what arrived.
  assert.match(url, /\/cdn\/mock-media\/img-\d+-37x23\.png\?Expires=\d+&.*&source=image%2Fpng%2037x23$/);
  const recs = await records();
  const rec = recs.find((x) => x.chat_type === 'image_edit');
  assert.ok(rec, JSON.stringify(recs));
  assert.equal(rec.model, 'qwen3-max');
  assert.equal(rec.content, 'give the cat a hat');
  assert.equal(rec.attachments, 1);
  assert.deepEqual(decodePng(Buffer.from(await (await fetch(url)).arrayBuffer())), { width: 37, height: 23 });
});

test('images.edit (b64_json, n=2, size, two images as image[]): downloaded and encoded', async () => {
  await setup();
  const r = await client.images.edit({
    model: 'gpt-image-1',
    image: [await toFile(IMG, 'a.png', { type: 'image/png' }), await toFile(png(5, 7), 'b.png', { type: 'image/png' })],
    prompt: 'merge them',
    n: 2,
    size: '1536x1024',
    response_format: 'b64_json',
  });
  assert.equal(r.data.length, 2);
  for (const d of r.data) {
    assert.equal(d.url, undefined);
    assert.deepEqual(decodePng(Buffer.from(d.b64_json, 'base64')), { width: 8, height: 6 });  // 4:3
  }
  const recs = (await records()).filter((x) => x.chat_type === 'image_edit');
  assert.equal(recs.length, 2);
  for (const rec of recs) assert.equal(rec.attachments, 2);
});

test('images.edit: bad inputs are OpenAI-shaped 400s and nothing goes upstream', async () => {
  await setup();
  const text = await toFile(Buffer.from('not an image at all'), 'a.png', { type: 'image/png' });
  const big = Buffer.concat([IMG, Buffer.alloc(MAX_IMAGE_BYTES)]);
  const cases = [
    [{ prompt: 'x' }, 'image', null],
    [{ image: text, prompt: 'x' }, 'image', 'unsupported_image_type'],
    [{ image: await toFile(big, 'big.png'), prompt: 'x' }, 'image', 'image_too_large'],
    [{ image: await toFile(IMG, 'a.png'), prompt: 'x', size: '640x480x2' }, 'size', null],
    [{ image: await toFile(IMG, 'a.png'), prompt: 'x', size: '2:1' }, 'size', null],
    [{ image: await toFile(IMG, 'a.png'), prompt: 'x', n: 9 }, 'n', null],
    [{ image: await toFile(IMG, 'a.png'), prompt: 'x', response_format: 'webp' }, 'response_format', null],
    [{ image: await toFile(IMG, 'a.png'), prompt: 'x', mask: await toFile(IMG, 'm.png') }, 'mask', 'unsupported_parameter'],
    [{ image: await toFile(IMG, 'a.png'), prompt: '' }, 'prompt', null],
  ];
  for (const [body, param, code] of cases) {
    await assert.rejects(client.images.edit(body), (e) => {
      assert.equal(e.status, 400, `${param}: ${e.message}`);
      assert.equal(e.error.type, 'invalid_request_error');
      assert.equal(e.error.param, param);
      if (code) assert.equal(e.error.code, code);
      assert.ok(e.error.message.length > 0);
      return true;
    });
  }
  await assert.rejects(client.images.edit({ model: 'qwen2.5-72b-instruct', image: await toFile(IMG, 'a.png'), prompt: 'x' }),
    (e) => e.status === 400 && e.error.param === 'model' && /cannot edit images/.test(e.error.message));
  // Not multipart at all, and a body cut short.
  const json = await fetch(`${stack.baseUrl}/v1/images/edits`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"prompt":"x"}' });
  assert.equal(json.status, 400);
  assert.equal((await json.json()).error.code, 'invalid_content_type');
  const cut = await fetch(`${stack.baseUrl}/v1/images/edits`, {
    method: 'POST',
    headers: { 'content-type': 'multipart/form-data; boundary=xyz' },
    body: '--xyz\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nhello',
  });
  assert.equal(cut.status, 400);
  const cutBody = await cut.json();
  assert.equal(cutBody.error.code, 'invalid_multipart');
  assert.match(cutBody.error.message, /no multipart delimiter/);
  assert.equal((await records()).length, 0, 'nothing went upstream');
});
