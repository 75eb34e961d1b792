// The response checker shared by the process-fault suite and the soak run:
// sends one chat request over a fresh connection (no keep-alive pool, so a
// dead frontend's sockets are never reused) and classifies what the client
// saw. See `call` for the classes.
import http from 'node:http';

export const DEADLINE_MS = 15_000;  // no single request may take longer (else: a hang)

// One request over a fresh connection. Returns { started, result }:
// `started` resolves when the first content (or the end of the response)
// has arrived; `result` resolves with { kind, why, status, events, text }
// where kind is:
//   complete  200 + a chat.completion with a finish_reason, or an SSE stream
//             ending with a finish_reason chunk and then [DONE];
//   error     an HTTP error status with an OpenAI error body, or an SSE
//             stream whose last event is an error object (and no [DONE]);
//   dropped   the connection broke (reset, or closed before the response ended);
//   bad       anything else: a stream that stops without [DONE] or error,
//             malformed output, no answer within the deadline.
export function call(baseUrl, body, { deadlineMs = DEADLINE_MS } = {}) {
  const url = new URL('/v1/chat/completions', baseUrl);
  let markStarted;
  const started = new Promise((r) => { markStarted = r; });
  const result = new Promise((resolve) => {
    let status = 0;
    let text = '';
    let settled = false;
    const done = (how) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      markStarted();
      resolve(classify({ status, text, stream: !!body.stream, ...how }));
    };
    const req = http.request({
      host: url.hostname, port: url.port, path: url.pathname, method: 'POST', agent: false,
      headers: { 'content-type': 'application/json' },
    }, (res) => {
      status = res.statusCode;
      res.setEncoding('utf8');
      res.on('data', (d) => {
        text += d;
        if (/"content":"[^"]/.test(text) || /"error"/.test(text)) markStarted();
      });
      res.on('end', () => done({}));
      res.on('aborted', () => done({ dropped: 'aborted' }));
      res.on('error', (e) => done({ dropped: e.code || e.message }));
      res.on('close', () => done({ dropped: 'closed before the end' }));
    });
    req.on('error', (e) => done({ dropped: e.code || e.message }));
    const timer = setTimeout(() => { done({ hung: true }); req.destroy(); }, deadlineMs);
    req.end(JSON.stringify(body));
  });
  return { started, result };
}

function isOpenAIError(e) {
  return e && typeof e === 'object' && typeof e.message === 'string' && e.message.length > 0 &&
    typeof e.type === 'string';
}

export function classify({ status, text, stream, dropped, hung }) {
  const out = (kind, why, extra = {}) => ({ kind, why, status, text, ...extra });
  if (hung) return out('bad', `no end within the deadline (status ${status}, ${text.length} bytes)`);
  if (dropped) return out('dropped', String(dropped));
  if (status !== 200) {
    try {
      const j = JSON.parse(text);
      if (status >= 400 && isOpenAIError(j.error)) return out('error', `${status} ${j.error.code ?? j.error.type}`);
    } catch { /* falls through */ }
    return out('bad', `status ${status} without an OpenAI error body: ${text.slice(0, 200)}`);
  }
  if (!stream) {
    try {
      const j = JSON.parse(text);
      const ch = j.choices?.[0];
      if (j.object === 'chat.completion' && ch?.message && typeof ch.finish_reason === 'string') return out('complete', ch.finish_reason);
    } catch { /* falls through */ }
    return out('bad', `200 without a completion: ${text.slice(0, 200)}`);
  }
  if (!text.endsWith('\n\n')) return out('bad', `stream ends inside an event: ${JSON.stringify(text.slice(-120))}`);
  const events = text.split('\n\n').filter((b) => b.trim()).map((b) => b.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n'));
  const parsed = [];
  for (const e of events.filter((x) => x !== '[DONE]')) {
    try { parsed.push(JSON.parse(e)); } catch { return out('bad', `event is not JSON: ${e.slice(0, 120)}`); }
  }
  const finishes = parsed.filter((c) => c.choices?.some((ch) => ch.finish_reason)).length;
  const errors = parsed.filter((c) => c.error).length;
  const content = parsed.map((c) => c.choices?.[0]?.delta?.content ?? '').join('');
  if (events.at(-1) === '[DONE]') {
    if (events.indexOf('[DONE]') === events.length - 1 && finishes === 1 && errors === 0) return out('complete', 'DONE', { events, content });
    return out('bad', `[DONE] with ${finishes} finish chunks and ${errors} errors`);
  }
  const last = parsed.at(-1);
  if (last && isOpenAIError(last.error) && errors === 1 && finishes === 0) {
    return out('error', `SSE error ${last.error.code ?? last.error.type}`, { events, content });
  }
  return out('bad', `stream stopped without [DONE] or an error event (${events.length} events)`);
}

export function tally(results) {
  const t = { complete: 0, error: 0, dropped: 0, bad: 0 };
  for (const r of results) t[r.kind]++;
  return t;
}
