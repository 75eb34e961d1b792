// Process-level faults as a suite: kill -9 of a worker, of the broker and of
// the frontend while requests are in flight, and every mock fault switch
// under concurrent load. Whatever happens, each client must see either a
// complete answer or a clear error (an OpenAI error body, or an SSE `error`
// event); never a stream that just stops, never a hang. The only exception is
// the frontend's own death: its clients see their connection drop.
//
// The checker (checker.mjs: `call` / `classify`, also used by the soak run)
// is shared by every case. Waits are event- or poll-based with deadlines.
import { test, describe, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startMock, startStack, waitHealthy, until } from './harness.mjs';
import { call, tally } from './checker.mjs';

const MODEL = 'qwen3-max';
const THREE = [
  { name: 'alice', user: 'alice' },
  { name: 'bob', user: 'bob' },
  { name: 'carol', user: 'carol' },
];

// ---- helpers -----------------------------------------------------------------

function assertNoBad(results, what) {
  const bad = results.filter((r) => r.kind === 'bad' || r.kind === 'dropped');
  assert.equal(bad.length, 0, `${what}: ${bad.length} bad: ${bad.map((r) => r.why).join('; ')}`);
}

const ask = (content, stream) => ({ model: MODEL, stream, messages: [{ role: 'user', content }] });

function heartbeatMs(stack) {
  const m = readFileSync(stack.configPath, 'utf8').match(/^heartbeat_ms\s*=\s*(\d+)/m);
  return m ? Number(m[1]) : 1000;
}

// The mock's records by prompt (oldest first).
async function recordsByPrompt(mock) {
  const map = new Map();
  for (const r of (await mock.state()).records) {
    if (!map.has(r.content)) map.set(r.content, []);
    map.get(r.content).push(r);
  }
  return map;
}

async function withStack(opts, fn) {
  const mock = await startMock();
  let stack;
  try {
    stack = await startStack({ mock, ...opts });
    await fn(mock, stack);
  } finally {
    await stack?.stop();
    await mock.stop();
  }
}

// ---- 1. a worker dies ----------------------------------------------------------

test('kill -9 of a worker: its streams end with an error event, its unstarted job runs elsewhere, the rest completes, it comes back', async () => {
  await withStack({ accounts: THREE }, async (mock, stack) => {
    const hb = heartbeatMs(stack);
    await mock.hold();  // every stream parks after its first token
    const streams = [];
    for (let i = 0; i < 6; i++) streams.push({ prompt: `stream ${i}`, ...call(stack.baseUrl, ask(`stream ${i}`, true)) });
    await Promise.all(streams.map((s) => s.started));
    await until(async () => (await mock.state()).parked === 6, { what: '6 streams parked' });
    let byPrompt = await recordsByPrompt(mock);
    for (const s of streams) s.user = byPrompt.get(s.prompt)[0].user_id;
    const victim = streams[0].user;
    assert.ok(streams.some((s) => s.user !== victim), 'streams on other workers too');

    // A job the victim has accepted but not started: its first byte never comes.
    await mock.config({ add_faults: [{ kind: 'slow_first_byte', scope: 'user', user: victim, count: 1, delay_ms: 60_000 }] });
    const pending = [];
    for (let i = 0; i < 3 && !pending.some((p) => p.user === victim); i++) {
      const p = { prompt: `pending ${i}`, ...call(stack.baseUrl, ask(`pending ${i}`, i % 2 === 1)) };
      pending.push(p);
      const rec = await until(async () => (await recordsByPrompt(mock)).get(p.prompt)?.[0], { what: `record of ${p.prompt}` });
      p.user = rec.user_id;
    }
    const unstarted = pending.find((p) => p.user === victim);
    assert.ok(unstarted, 'one job is waiting on the victim');

    const errFrom = stack.err.count();
    const outFrom = stack.out.count();
    const t0 = Date.now();
    process.kill(stack.pid(`worker:${victim}`), 'SIGKILL');
    await stack.err.waitFor(new RegExp(`event=worker\\.(unreachable|expired|restarted) .*account=${victim}\\b`), { from: errFrom, timeoutMs: 10 * hb });
    const detectMs = Date.now() - t0;
    assert.ok(detectMs <= 3 * hb, `the broker noticed within 3 heartbeats (${detectMs} ms, heartbeat ${hb} ms)`);

    // Streams on the victim end with an error event at once (the mock is still holding the others).
    const onVictim = streams.filter((s) => s.user === victim);
    for (const s of onVictim) {
      const r = await s.result;
      assert.equal(r.kind, 'error', `${s.prompt} on the killed worker: ${r.why}`);
      assert.ok(r.content.length > 0, 'it had streamed content before the error');
    }
    await mock.release();
    for (const s of streams.filter((x) => x.user !== victim)) {
      const r = await s.result;
      assert.equal(r.kind, 'complete', `${s.prompt} on ${s.user}: ${r.why}`);
    }
    for (const p of pending) {
      const r = await p.result;
      assert.equal(r.kind, 'complete', `${p.prompt} (${p.user === victim ? 'unstarted on the victim' : p.user}): ${r.why}`);
    }
    byPrompt = await recordsByPrompt(mock);
    const tries = byPrompt.get(unstarted.prompt);
    assert.equal(tries.length, 2, 'the unstarted job was sent upstream again');
    assert.equal(tries.at(-1).outcome, 'finished');

    // The launcher restarts the worker and the stack serves on all three accounts again.
    await stack.out.waitFor(new RegExp(`^qwenproxy: started worker:${victim} pid=`), { from: outFrom, timeoutMs: 5000 });
    // Until the broker has it again, requests go to the other two; every one must complete.
    let round = 0;
    const served = await until(async () => {
      const seqFrom = (await mock.state()).records_total;
      const rs = await Promise.all([0, 1, 2].map((i) => call(stack.baseUrl, ask(`after ${round}.${i}`, i === 1)).result));
      round++;
      assert.deepEqual(rs.map((r) => r.kind), ['complete', 'complete', 'complete'], rs.map((r) => r.why).join('; '));
      const users = (await mock.state()).records.filter((r) => r.seq > seqFrom).map((r) => r.user_id);
      return users.includes(victim) ? users : false;
    }, { what: `a request served by the restarted ${victim}`, timeoutMs: 10_000 });
    assert.equal(new Set(served).size, 3, 'three idle workers take one request each');
    console.log(`# worker kill: detected after ${detectMs} ms (heartbeat ${hb} ms)`);
  });
});

// ---- 2. the broker dies under load -----------------------------------------------

// The assistant message of a complete result, as a client appends it to its history.
function messageOf(r) {
  if (r.events) return { role: 'assistant', content: r.content };
  return JSON.parse(r.text).choices[0].message;
}

test('kill -9 of the broker under load: nothing hangs, unstarted jobs complete, conversations continue natively', async () => {
  await withStack({ accounts: THREE.slice(0, 2) }, async (mock, stack) => {
    const convs = Array.from({ length: 6 }, (_, i) => ({ i, history: [] }));
    const turn = (c, text, stream) => {
      c.pendingText = text;
      return call(stack.baseUrl, { model: MODEL, stream, messages: [...c.history, { role: 'user', content: text }] });
    };
    const commit = (c, r) => {
      c.history.push({ role: 'user', content: c.pendingText }, messageOf(r));
    };
    // Turn 1 of every conversation, all at once.
    const first = await Promise.all(convs.map((c) => turn(c, `conversation ${c.i} starts`, c.i % 2 === 0).result));
    assertNoBad(first, 'turn 1');
    first.forEach((r, i) => { assert.equal(r.kind, 'complete', r.why); commit(convs[i], r); });
    const byPrompt = await recordsByPrompt(mock);
    for (const c of convs) c.chatId = byPrompt.get(`conversation ${c.i} starts`)[0].chat_id;

    // Turn 2 in flight: six answers stalled after their first token, and two
    // jobs stalled before it (no output yet). Only these first tries stall.
    await mock.rules([
      { match: { contains: 'goes on' }, reply: 'stalled: {{prompt}}', delays: { token_delay_ms: 60_000 }, times: 6 },
      { match: { contains: 'slow' }, reply: 'slowly: {{prompt}}', delays: { first_token_delay_ms: 60_000 }, times: 2 },
    ]);
    const second = convs.map((c) => turn(c, `conversation ${c.i} goes on`, c.i % 2 === 1));
    const slow = [0, 1].map((i) => call(stack.baseUrl, ask(`slow ${i}`, i === 0)));
    // Streamed turns: the client has their first token; the others are upstream.
    await Promise.all(second.filter((_, i) => i % 2 === 1).map((s) => s.started));
    await until(async () => {
      const m = await recordsByPrompt(mock);
      return convs.every((c) => m.get(`conversation ${c.i} goes on`)) && m.get('slow 0') && m.get('slow 1');
    }, { what: 'all eight jobs upstream' });

    const outFrom = stack.out.count();
    const t0 = Date.now();
    process.kill(stack.pid('broker'), 'SIGKILL');
    await stack.out.waitFor(/^qwenproxy: started broker pid=/, { from: outFrom, timeoutMs: 5000 });
    const results = await Promise.all(second.map((s) => s.result));
    const inFlightMs = Date.now() - t0;
    const slowResults = await Promise.all(slow.map((s) => s.result));
    const allMs = Date.now() - t0;
    console.log(`# broker kill: turns in flight ${JSON.stringify(tally(results))} all ended after ${inFlightMs} ms; unstarted ${JSON.stringify(tally(slowResults))} after ${allMs} ms`);
    assertNoBad([...results, ...slowResults], 'in flight when the broker died');
    for (const r of slowResults) assert.equal(r.kind, 'complete', `a job with no output yet is re-submitted: ${r.why}`);

    // Every conversation goes on (a failed turn is retried, as a client would)
    // and continues its upstream chat natively.
    await waitHealthy(stack.baseUrl, { accounts: 2 });
    for (const [i, c] of convs.entries()) {
      if (results[i].kind === 'complete') {
        commit(c, results[i]);
      } else {
        const retry = await turn(c, `conversation ${c.i} goes on`, false).result;
        assert.equal(retry.kind, 'complete', retry.why);
        commit(c, retry);
      }
      const r = await turn(c, `conversation ${c.i} third turn`, c.i % 2 === 0).result;
      assert.equal(r.kind, 'complete', r.why);
      const rec = (await recordsByPrompt(mock)).get(`conversation ${c.i} third turn`).at(-1);
      assert.equal(rec.chat_id, c.chatId, `conversation ${c.i} stays in its upstream chat`);
      assert.notEqual(rec.parent_id, null, 'continued, not replayed');
      assert.equal(rec.content, `conversation ${c.i} third turn`, 'only the new message is sent');
    }
  });
});

// ---- 3. the frontend dies ------------------------------------------------------------

test('kill -9 of the frontend: new connections are served again within 1 s; streams in flight see the connection drop', async () => {
  await withStack({ accounts: THREE.slice(0, 1) }, async (mock, stack) => {
    // Answers to 'held' stall after their first token; other requests are served normally.
    await mock.rules([{ match: { contains: 'held' }, reply: 'stalled: {{prompt}}', delays: { token_delay_ms: 60_000 } }]);
    const streams = [0, 1, 2, 3].map((i) => ({ prompt: `held ${i}`, ...call(stack.baseUrl, ask(`held ${i}`, true)) }));
    await Promise.all(streams.map((s) => s.started));

    const outFrom = stack.out.count();
    const t0 = Date.now();
    process.kill(stack.pid('frontend'), 'SIGKILL');
    let servedMs = null;
    const attempts = [];
    while (servedMs === null && Date.now() - t0 < 10_000) {
      const r = await call(stack.baseUrl, ask(`probe ${attempts.length}`, false), { deadlineMs: 5000 }).result;
      attempts.push(`${r.kind} ${r.why} at ${Date.now() - t0} ms`);
      if (r.kind === 'complete') servedMs = Date.now() - t0;
    }
    const restartLine = stack.out.lines.slice(outFrom).find((l) => /frontend exited/.test(l));
    console.log(`# frontend kill: served again after ${servedMs} ms (${restartLine}); attempts: ${attempts.join(', ')}`);
    assert.ok(servedMs !== null && servedMs < 1000, `served again within 1 s: ${servedMs} ms; attempts: ${attempts.join(', ')}`);

    for (const s of streams) {
      const r = await s.result;
      assert.equal(r.kind, 'dropped', `${s.prompt}: the connection drops (${r.why})`);
    }
    // The dead frontend's jobs are cancelled upstream, not left generating.
    await until(async () => {
      const m = await recordsByPrompt(mock);
      return streams.every((s) => m.get(s.prompt)[0].outcome !== 'running');
    }, { what: 'the held streams to be cancelled upstream', timeoutMs: 10_000 });
  });
});

// ---- 4. every mock fault switch under concurrent load --------------------------------

const LOAD = 12;

// LOAD concurrent requests (every other one streamed) under `fault`; checks
// that the fault fired and that nothing was bad.
async function underLoad(mock, stack, fault) {
  await mock.config({ token_delay_ms: 2, faults: [fault] });
  const results = await Promise.all(Array.from({ length: LOAD }, (_, i) => call(stack.baseUrl, ask(`${fault.kind} ${i}`, i % 2 === 0)).result));
  const left = (await mock.state()).faults.find((f) => f.kind === fault.kind)?.remaining ?? 0;
  const errors = [...new Set(results.filter((r) => r.kind === 'error').map((r) => r.why))];
  console.log(`# ${fault.kind}: fired ${fault.count - left}x, ${JSON.stringify(tally(results))} ${errors.join(', ')}`);
  assert.ok(left < fault.count, `the ${fault.kind} fault fired`);
  assertNoBad(results, fault.kind);
}

describe('mock fault switches under concurrent load: complete or a clear error, nothing else', () => {
  // Faults the worker absorbs or reports per request: one stack, mock reset between.
  const perRequest = {
    chat_in_progress: { scope: 'next', count: 6 },
    internal_error: { scope: 'next', count: 8 },
    moderation: { scope: 'next', count: 6 },
    mid_stream_error: { scope: 'next', count: 6, after: 1 },
    slow_first_byte: { scope: 'next', count: 6, delay_ms: 3000 },
    drop_mid_stream: { scope: 'next', count: 6, after: 1 },
    empty_answer: { scope: 'next', count: 6 },
  };
  let mock, stack;
  before(async () => {
    mock = await startMock();
    stack = await startStack({ mock, accounts: THREE, upstream: { first_byte_timeout_ms: 1000 } });
  });
  after(async () => {
    await stack?.stop();
    await mock?.stop();
  });
  beforeEach(async () => {
    await mock.reset();
  });
  for (const [kind, opts] of Object.entries(perRequest)) {
    test(kind, () => underLoad(mock, stack, { kind, ...opts }));
  }

  // Faults that change an account's health: a stack each (the health stays).
  for (const kind of ['rate_limited', 'waf_json', 'waf_html', 'unauthorized']) {
    test(kind, async () => {
      await withStack({ accounts: THREE.slice(0, 2) }, (m, s) => underLoad(m, s, { kind, scope: 'next', count: 3 }));
    });
  }
});
