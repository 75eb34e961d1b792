// The client against both readings of the mock decisions it can be tested
// against now (docs/upstream.md): `[DONE]` after `finished` or not
// (emit_done), and the 2025-10 or the 2026 event shape (variant_2026, with
// keep-alives). Every combination must give the same exact text and usage,
// streamed and not streamed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startStack, chat, sseEvents, until } from './harness.mjs';

const PROMPT = 'variants please';  // mock tokenizer: "variants", " please" → 2 tokens
const TOKENS = ['Hé', 'llo', ' "w"', '\n✓ \\ end'];
const TEXT = TOKENS.join('');
// output_tokens: one per answer token plus one for the first empty trailer event.
const USAGE = { prompt_tokens: 2, completion_tokens: TOKENS.length + 1, total_tokens: 2 + TOKENS.length + 1 };

let mock, stack;

before(async () => {
  mock = await startMock();
  stack = await startStack({ mock });
});

after(async () => {
  await stack?.stop();
  await mock?.stop();
});

for (const emitDone of [false, true]) {
  for (const variant2026 of [false, true]) {
    const name = `emit_done=${emitDone} variant_2026=${variant2026}`;
    const setup = async () => {
      await mock.reset();
      await mock.rules([{ match: { equals: PROMPT }, tokens: TOKENS }]);
      await mock.config({ emit_done: emitDone, variant_2026: variant2026, keepalive_ms: 5, token_delay_ms: 12 });
    };

    test(`${name}: non-streaming text and usage`, async () => {
      await setup();
      const r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: [{ role: 'user', content: PROMPT }] });
      assert.equal(r.status, 200);
      const j = await r.json();
      assert.equal(j.choices[0].message.content, TEXT);
      assert.equal(j.choices[0].finish_reason, 'stop');
      assert.deepEqual(
        { prompt_tokens: j.usage.prompt_tokens, completion_tokens: j.usage.completion_tokens, total_tokens: j.usage.total_tokens },
        USAGE);
      const st = await mock.state();
      assert.equal(st.records.at(-1).outcome, 'finished');
      assert.equal(st.config.emit_done, emitDone);
      assert.equal(st.config.variant_2026, variant2026);
    });

    test(`${name}: streamed text, usage chunk and [DONE]`, async () => {
      await setup();
      const r = await chat(stack.baseUrl, {
        model: 'qwen3-max', stream: true, stream_options: { include_usage: true },
        messages: [{ role: 'user', content: PROMPT }],
      });
      assert.equal(r.status, 200);
      const events = [];
      for await (const e of sseEvents(r)) events.push(e);
      assert.equal(events.at(-1), '[DONE]');
      assert.equal(events.filter((e) => e === '[DONE]').length, 1, 'exactly one [DONE] (upstream [DONE] is not forwarded)');
      const chunks = events.slice(0, -1).map((e) => JSON.parse(e));
      for (const c of chunks) assert.ok(!c.error, `no error event: ${JSON.stringify(c)}`);
      assert.equal(chunks.map((c) => c.choices?.[0]?.delta?.content ?? '').join(''), TEXT);
      const finishes = chunks.filter((c) => c.choices?.[0]?.finish_reason);
      assert.equal(finishes.length, 1);
      assert.equal(finishes[0].choices[0].finish_reason, 'stop');
      const usage = chunks.at(-1).usage;
      assert.ok(usage, 'the last chunk carries the usage');
      assert.deepEqual(
        { prompt_tokens: usage.prompt_tokens, completion_tokens: usage.completion_tokens, total_tokens: usage.total_tokens },
        USAGE);
    });
  }
}

// upstream.delete_chats: every chat the gateway created is deleted upstream
// once it is finished with (docs/upstream.md, "Flow of one chat request"): a
// conversation's chat once it has been idle for the conversation TTL. Nothing
// is deleted by default.
test('with upstream.delete_chats the finished chat is deleted upstream', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock, upstream: { delete_chats: true }, extraConfig: '[sessions]\nttl_ms = 300' });
  try {
    const r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: [{ role: 'user', content: 'tidy up' }] });
    assert.equal(r.status, 200);
    await r.json();
    const created = (await mock.state()).chats_created;
    assert.ok(created >= 1);
    await until(async () => (await mock.state()).chats === 0, { what: 'the mock to have no chats left' });
  } finally {
    await stack.stop();
    await mock.stop();
  }
});
