// Hostile or odd input through the whole stack: a tool schema built to blow
// up $ref expansion, lowercase bearer, an unknown model as the first request,
// empty upstream answers. Each test also checks that the stack still serves
// the next request.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startStack, chat, sseEvents } from './harness.mjs';

const MODEL = 'qwen3-max';
const body = (extra = {}) => ({ model: MODEL, messages: [{ role: 'user', content: 'hi' }], ...extra });

async function assertServes(stack, init = {}) {
  const r = await chat(stack.baseUrl, body(), init);
  assert.equal(r.status, 200, await r.clone().text());
  const j = await r.json();
  assert.ok(j.choices[0].message.content.length > 0);
}

describe('input limits', () => {
  let mock, stack;
  before(async () => {
    mock = await startMock();
    stack = await startStack({ mock, env: { QP_API_KEY: 'sk-test' } });
  });
  after(async () => {
    await stack?.stop();
    await mock?.stop();
  });
  beforeEach(async () => { await mock.reset(); });
  const auth = { headers: { authorization: 'Bearer sk-test' } };

  // First on a fresh stack: the model list was never fetched (was 502).
  test('an unknown model as the first request is 404 model_not_found', async () => {
    const r = await chat(stack.baseUrl, body({ model: 'no-such-model' }), auth);
    assert.equal(r.status, 404);
    const e = (await r.json()).error;
    assert.equal(e.code, 'model_not_found');
    assert.equal(e.param, 'model');
  });

  // The 244-byte request that blocked a worker for seconds (3 properties)
  // or took gigabytes (4).
  test('a tool schema whose properties point back to the root is served', async () => {
    const tools = [{ type: 'function', function: { name: 'f', parameters: { type: 'object', properties: { p0: { $ref: '#' }, p1: { $ref: '#' }, p2: { $ref: '#' }, p3: { $ref: '#' } } } } }];
    const r = await chat(stack.baseUrl, body({ tools }), auth);
    assert.ok(r.status === 200 || r.status === 400, `status ${r.status}`);
    if (r.status === 400) assert.equal((await r.json()).error.type, 'invalid_request_error');
    else assert.ok((await r.json()).choices);
    await assertServes(stack, auth);
  });

  test('bearer scheme in any case, extra blanks', async () => {
    for (const h of ['bearer sk-test', 'BEARER sk-test', 'Bearer    sk-test']) {
      await assertServes(stack, { headers: { authorization: h } });
    }
    const r = await chat(stack.baseUrl, body(), { headers: { authorization: 'Bearer wrong' } });
    assert.equal(r.status, 401);
  });

  test('empty answer once: retried in a new chat, the client gets the retried answer', async () => {
    for (const stream of [false, true]) {
      await mock.reset();
      await mock.config({ faults: [{ kind: 'empty_answer', scope: 'next', count: 1 }] });
      const r = await chat(stack.baseUrl, body({ stream }), auth);
      assert.equal(r.status, 200);
      let content = '';
      if (stream) {
        for await (const ev of sseEvents(r)) {
          if (ev === '[DONE]') break;
          const j = JSON.parse(ev);
          assert.ok(!j.error, JSON.stringify(j));
          content += j.choices[0]?.delta?.content ?? '';
        }
      } else {
        content = (await r.json()).choices[0].message.content;
      }
      assert.ok(content.length > 0, 'non-empty answer');
      const st = await mock.state();
      assert.equal(st.completions_requested, 2, 'two chats/completions');
      assert.equal(st.chats_created, 2, 'the retry used a new chat');
    }
  });

  test('empty answer twice: a typed 502 empty_response, never an empty success', async () => {
    for (const stream of [false, true]) {
      await mock.reset();
      await mock.config({ faults: [{ kind: 'empty_answer', scope: 'next', count: 2 }] });
      const r = await chat(stack.baseUrl, body({ stream }), auth);
      assert.equal(r.status, 502);
      const e = (await r.json()).error;
      assert.equal(e.type, 'server_error');
      assert.equal(e.code, 'empty_response');
      assert.equal((await mock.state()).completions_requested, 2);
    }
    await assertServes(stack, auth);
  });
});
