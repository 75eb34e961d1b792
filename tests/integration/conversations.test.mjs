// Conversations continue natively on Qwen (chat_id + parent_id, one new message
// per turn), across restarts, forks, accounts and concurrency. The mock's
// records are the evidence: each completion request records its chat_id,
// parent_id, the single message's text (content), the account (user_id) and the
// reply's id (response_id).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import OpenAI from 'openai';
import { startMock, startStack, waitHealthy, until } from './harness.mjs';

const MODEL = 'qwen3-max';

function client(stack) {
  return new OpenAI({ baseURL: `${stack.baseUrl}/v1`, apiKey: 'unused', maxRetries: 0 });
}

async function records(mock) {
  return (await mock.state()).records;
}

// One turn the way an SDK user writes it: append the user message, call,
// append the assistant message exactly as the SDK returned it (non-stream)
// or as rebuilt from the stream's deltas.
async function turn(c, history, text, { stream = false } = {}) {
  history.push({ role: 'user', content: text });
  if (!stream) {
    const r = await c.chat.completions.create({ model: MODEL, messages: history });
    history.push(r.choices[0].message);
    return r;
  }
  const s = await c.chat.completions.create({ model: MODEL, messages: history, stream: true });
  let content = '';
  let chatId;
  for await (const chunk of s) {
    content += chunk.choices[0]?.delta?.content ?? '';
    if (chunk.qwen_chat_id) chatId = chunk.qwen_chat_id;
  }
  history.push({ role: 'assistant', content });
  return { qwen_chat_id: chatId, content };
}

test('a 20-turn SDK conversation continues one upstream chat, one new message per turn', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock });
  try {
    const c = client(stack);
    const history = [{ role: 'system', content: 'You are terse.' }];
    const before = (await records(mock)).length;
    for (let i = 1; i <= 20; i++) {
      // Mix streaming and non-streaming: both rebuild the history.
      await turn(c, history, `turn ${i}: tell me something`, { stream: i % 3 === 0 });
    }
    const recs = (await records(mock)).slice(before);
    assert.equal(recs.length, 20);
    const chat = recs[0].chat_id;
    assert.equal(recs[0].parent_id, null);
    assert.match(recs[0].content, /You are terse\./, 'the system prompt goes with the first turn');
    for (let i = 1; i < 20; i++) {
      const r = recs[i];
      assert.equal(r.chat_id, chat, `turn ${i + 1} continues the same chat`);
      assert.equal(r.parent_id, recs[i - 1].response_id, `turn ${i + 1} chains to the previous reply`);
      assert.equal(r.content, `turn ${i + 1}: tell me something`, `turn ${i + 1} sends only the new message`);
      assert.equal(r.context_messages, 2 * i, `turn ${i + 1} sees the whole conversation upstream`);
      assert.equal(r.outcome, 'finished');
    }
    // The SDK's final answer still quotes the last message (the mock echoes).
    assert.match(history.at(-1).content, /turn 20/);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('the chat id comes back in the qwen_chat_id extension, and the request field overrides', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock });
  try {
    const c = client(stack);
    const first = await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'remember 7' }] });
    assert.ok(first.qwen_chat_id);
    // A new history (no assistant turn) but the override names the chat: it continues there.
    await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'what number?' }], qwen_chat_id: first.qwen_chat_id });
    const recs = await records(mock);
    const last = recs.at(-1);
    assert.equal(last.chat_id, first.qwen_chat_id);
    assert.equal(last.parent_id, recs.at(-2).response_id);
    assert.equal(last.content, 'what number?');
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('restarting the broker, then the whole stack, between turns: the next turn still continues natively', async () => {
  const mock = await startMock();
  let stack = await startStack({ mock });
  try {
    let c = client(stack);
    const history = [];
    await turn(c, history, 'one');
    await turn(c, history, 'two');

    // SIGKILL the broker: the launcher restarts it and the index survives on disk.
    const pid = stack.pid('broker');
    const from = stack.out.count();
    process.kill(pid, 'SIGKILL');
    await stack.out.waitFor(/^qwenproxy: started broker pid=(\d+)/, { from, timeoutMs: 5000 });
    await waitHealthy(stack.baseUrl, { accounts: 1 });
    await turn(c, history, 'three');

    // The whole stack, same state directory.
    const dir = stack.dir;
    assert.equal((await stack.stop({ keepDir: true })).code, 0);
    stack = await startStack({ mock, dir });
    c = client(stack);
    await turn(c, history, 'four');

    const recs = await records(mock);
    assert.equal(recs.length, 4);
    for (let i = 1; i < 4; i++) {
      assert.equal(recs[i].chat_id, recs[0].chat_id, `turn ${i + 1} continues the chat`);
      assert.equal(recs[i].parent_id, recs[i - 1].response_id);
    }
    assert.equal(recs[3].content, 'four');
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('editing an earlier user message forks into a new chat that replays the edited history', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock });
  try {
    const c = client(stack);
    const history = [];
    await turn(c, history, 'my name is Ann');
    await turn(c, history, 'I like tea');
    // Edit the first message and keep the turns after it: no chat holds this history.
    const edited = history.map((m) => ({ ...m }));
    edited[0] = { role: 'user', content: 'my name is Bob' };
    await turn(c, edited, 'who am I?');
    const recs = await records(mock);
    const fork = recs.at(-1);
    assert.notEqual(fork.chat_id, recs[0].chat_id, 'a new chat');
    assert.equal(fork.parent_id, null);
    assert.match(fork.content, /my name is Bob[\s\S]*I like tea[\s\S]*who am I\?/);
    assert.doesNotMatch(fork.content, /\[User\]\nmy name is Ann/, "the original message is not replayed");
    // The fork is indexed: its next turn continues it natively.
    await turn(c, edited, 'thanks');
    const next = (await records(mock)).at(-1);
    assert.equal(next.chat_id, fork.chat_id);
    assert.equal(next.parent_id, fork.response_id);
    assert.equal(next.content, 'thanks');
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('editing the last question (edit and resend) branches natively from the earlier reply', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock });
  try {
    const c = client(stack);
    const history = [];
    await turn(c, history, 'my name is Ann');
    await turn(c, history, 'I like tea');
    // Like a chat UI's "edit": the history up to the first reply, then a new question.
    const branch = history.slice(0, 2);
    await turn(c, branch, 'I like coffee');
    const recs = await records(mock);
    const b = recs.at(-1);
    assert.equal(b.chat_id, recs[0].chat_id, 'the same chat: Qwen keeps a message tree');
    assert.equal(b.parent_id, recs[0].response_id, 'a sibling of the edited turn');
    assert.equal(b.content, 'I like coffee');
    assert.equal(b.context_messages, 2);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('two accounts: conversations stay on their account; an exhausted account replays on the other, invisibly', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock, accounts: [{ name: 'alice', user: 'alice' }, { name: 'bob', user: 'bob' }] });
  try {
    const c = client(stack);
    const convs = [[], [], [], []];
    for (let i = 0; i < convs.length; i++) await turn(c, convs[i], `conversation ${i} starts`);
    for (let i = 0; i < convs.length; i++) await turn(c, convs[i], `conversation ${i} goes on`);
    let recs = await records(mock);
    const owner = new Map();
    for (const r of recs.slice(0, 4)) owner.set(r.chat_id, r.user_id);
    assert.equal(new Set(owner.values()).size, 2, 'new conversations are spread over both accounts');
    for (const r of recs.slice(4)) {
      assert.ok(owner.has(r.chat_id), 'the second turn continues its chat');
      assert.equal(r.user_id, owner.get(r.chat_id), 'on the account that holds it');
    }

    // Exhaust alice: her conversations must move to bob and replay there.
    await mock.config({ add_faults: [{ kind: 'rate_limited', scope: 'user', user: 'alice', num: 6 }] });
    for (let i = 0; i < convs.length; i++) {
      const r = await turn(c, convs[i], `conversation ${i} third turn`);
      assert.ok(r.choices[0].message.content.length > 0);
    }
    recs = await records(mock);
    const third = recs.filter((r) => r.outcome === 'finished' && /third turn/.test(r.content));
    assert.equal(third.length, 4);
    for (const r of third) assert.equal(r.user_id, 'bob');
    const replays = third.filter((r) => r.parent_id === null);
    assert.ok(replays.length >= 1, 'alice\'s conversations replayed in new chats on bob');
    for (const r of replays) assert.match(r.content, /starts[\s\S]*goes on[\s\S]*third turn/);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('two concurrent continuations of one conversation both succeed (the second forks)', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock });
  try {
    const c = client(stack);
    const history = [];
    await turn(c, history, 'base');
    // Hold new streams so both requests are in flight at once.
    await mock.hold();
    const a = c.chat.completions.create({ model: MODEL, messages: [...history, { role: 'user', content: 'branch A' }] });
    const b = c.chat.completions.create({ model: MODEL, messages: [...history, { role: 'user', content: 'branch B' }] });
    await until(async () => (await mock.state()).parked === 2, { what: 'both streams parked' });
    await mock.release();
    const [ra, rb] = await Promise.all([a, b]);
    assert.match(ra.choices[0].message.content, /branch A/);
    assert.match(rb.choices[0].message.content, /branch B/);
    const all = await records(mock);
    const base = all[0];
    const recs = all.slice(1);
    assert.equal(recs.length, 2);
    assert.ok(recs.every((r) => r.outcome === 'finished'));
    const continued = recs.filter((r) => r.parent_id !== null);
    assert.equal(continued.length, 1, 'one continues the chat natively');
    assert.equal(continued[0].chat_id, base.chat_id);
    assert.equal(continued[0].parent_id, base.response_id);
    const forked = recs.filter((r) => r.parent_id === null);
    assert.equal(forked.length, 1, 'the other replays in a new chat');
    assert.match(forked[0].content, /base/);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('pre-warmed chats: a new conversation needs no chats/new round trip', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock, worker: { prewarm_chats: 2, default_model: MODEL } });
  try {
    await until(async () => (await mock.state()).chats_created >= 2, { what: 'two pre-created chats' });
    // From now on chats/new fails: only a pre-created chat can serve.
    await mock.config({ add_faults: [{ kind: 'internal_error', endpoint: 'chats_new' }] });
    const c = client(stack);
    const r = await c.chat.completions.create({ model: MODEL, messages: [{ role: 'user', content: 'warm start' }] });
    assert.match(r.choices[0].message.content, /warm start/);
    const rec = (await records(mock)).at(-1);
    assert.equal(rec.parent_id, null);
    assert.equal(rec.chat_id, r.qwen_chat_id);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('a non-streamed JSON answer the model fenced continues, on the chat and the Responses route', async () => {
  // Both routes return it without the fence; the worker keys its reply as
  // returned (conversation::AssistantMessage), so the answer sent back (or
  // kept for previous_response_id) continues the chat.
  const mock = await startMock();
  const stack = await startStack({ mock });
  try {
    await mock.rules({ rules: [{ match: { contains: 'as JSON' }, reply: '```json\n{"city": "Paris"}\n```' }] });
    const c = client(stack);
    const rf = { type: 'json_object' };
    const history = [{ role: 'user', content: 'City of the Louvre, as JSON' }];
    const first = await c.chat.completions.create({ model: MODEL, messages: history, response_format: rf });
    assert.equal(first.choices[0].message.content, '{"city": "Paris"}');
    history.push(first.choices[0].message);
    history.push({ role: 'user', content: 'And of the Prado, as JSON?' });
    await c.chat.completions.create({ model: MODEL, messages: history, response_format: rf });
    let [a, b] = (await records(mock)).slice(-2);
    assert.equal(b.chat_id, a.chat_id, 'chat route: the second turn continues the chat');
    assert.equal(b.parent_id, a.response_id);
    assert.equal(b.content.includes('Louvre'), false, 'only the new message goes upstream');

    const text = { format: { type: 'json_object' } };
    const r1 = await c.responses.create({ model: MODEL, input: 'City of the Mona Lisa, as JSON', text });
    assert.equal(r1.output[0].content[0].text, '{"city": "Paris"}');
    await c.responses.create({ model: MODEL, input: 'And of the Prado, as JSON?', text, previous_response_id: r1.id });
    [a, b] = (await records(mock)).slice(-2);
    assert.equal(b.chat_id, a.chat_id, 'Responses route: the second turn continues the chat');
    assert.equal(b.parent_id, a.response_id);
    assert.equal(b.content.includes('Mona Lisa'), false, 'only the new message goes upstream');
  } finally {
    await stack.stop();
    await mock.stop();
  }
});
