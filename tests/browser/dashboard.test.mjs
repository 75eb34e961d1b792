// The dashboard (docs/dashboard.md) in a real browser: Debian's headless
// Chromium (/usr/bin/chromium) driven by playwright-core, against a whole
// stack (`qwenproxy up`) on mock-qwen with an admin key. No browser is
// downloaded and the page may reach nothing but the frontend: every other
// request is refused and fails the test.
//
// Steps, in one browser session:
//  1. the page loads with no console error and no CSP violation, the key
//     typed once (kept in sessionStorage, no cookie);
//  2. the demo account shows healthy;
//  3. a second account imported through the form (a Cookie header): the
//     page shows its user id and expiry, never the token, and the account
//     turns healthy (its file is picked up by the launcher's directory watch);
//  4. a streamed request shows among the live requests while the mock holds
//     it, then in the counters;
//  5. the demo account drained: the next request is served by the other;
//  6. the second account's token expires in an hour: the banner and its row
//     warn;
//  7. Cancel on a live request ends it: the client gets an error event;
//  8. Remove (confirmed in the browser's dialog) renames the account file.
// Screenshots: $QP_ARTIFACT_DIR (the build dir's test-artifacts/browser).
// Waits poll the page with deadlines (Playwright's auto-waiting), no sleeps.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, existsSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { chromium } from 'playwright-core';
import { startMock, startStack, chat, sseEvents, tempDir, BIN } from '../integration/harness.mjs';

const MODEL = 'qwen3-max';
const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = process.env.QP_ARTIFACT_DIR || join(BIN, '..', 'test-artifacts', 'browser');
const WAIT_MS = 20_000;
const ADMIN_KEY = 'qp-admin-' + randomBytes(16).toString('hex');

let mock, stack, context, page, userDataDir;
const consoleErrors = []; // {text}
const offsite = []; // requests to anything but the frontend
let keyless401 = 0; // 401 answers to requests sent without a key (the expected probe)
let haveAdminApi = false;
const NO_ADMIN_API = 'the admin API (/admin/v1, branch h-admin) is not in this build';

before(async () => {
  mkdirSync(ARTIFACTS, { recursive: true });
  mock = await startMock();
  // The demo account is in the config file; the imported one goes to
  // {dir}/accounts (the default accounts_dir beside it).
  const dir = tempDir();
  mkdirSync(join(dir, 'accounts'), { mode: 0o700 });
  stack = await startStack({ mock, dir, accounts: [{ name: 'demo', user: 'demo-user' }], env: { QP_ADMIN_KEY: ADMIN_KEY } });
  // The admin API comes from branch h-admin; until it is merged the steps
  // that need it are skipped (and say so), and only the page itself is tested.
  const probe = await fetch(`${stack.baseUrl}/admin/v1/overview`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } });
  haveAdminApi = probe.status !== 404;
  userDataDir = mkdtempSync(join(tmpdir(), 'qp-chromium-'));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 900 },
  });
  const origin = new URL(stack.baseUrl).origin;
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin + '/') || url.startsWith('data:')) return route.continue();
    offsite.push(url);
    return route.abort('blockedbyclient');
  });
  // CSP violations are also console errors in Chromium; this catches them
  // even if that ever changes.
  await context.addInitScript(() => {
    window.__cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e) => {
      window.__cspViolations.push(`${e.violatedDirective} ${e.blockedURI}`);
    });
  });
  page = context.pages()[0] ?? await context.newPage();
  page.on('console', (m) => { if (m.type() === 'error') consoleErrors.push({ text: m.text() }); });
  page.on('pageerror', (e) => consoleErrors.push({ text: `uncaught: ${e.message}` }));
  page.on('response', async (r) => {
    if (r.status() !== 401) return;
    const headers = await r.request().allHeaders();
    if (!headers.authorization) keyless401 += 1;
  });
});

after(async () => {
  await context?.close();
  if (userDataDir) rmSync(userDataDir, { recursive: true, force: true });
  await stack?.stop();
  await mock?.stop();
});

const shot = (name) => page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
const row = (name) => page.locator(`#accounts-body tr[data-account="${name}"]`);
const counter = async (id) => Number(await page.locator(`#${id}`).textContent());

// Errors other than the expected 401s: the page probes the admin API without
// a key first (it is optional on loopback). Which ones are expected is decided
// by the request (it carried no key), not by when Chromium's console message
// arrives: under load the probes' messages can come after the key was typed.
function unexpectedErrors() {
  let allowed = keyless401;
  return consoleErrors
    .filter((e) => {
      if (allowed > 0 && /status of 401/.test(e.text)) {
        allowed -= 1;
        return false;
      }
      return true;
    })
    .map((e) => e.text);
}

test('1. the page loads with no console error and no CSP violation', async (t) => {
  const res = await page.goto(`${stack.baseUrl}/dashboard`);
  assert.equal(res.status(), 200);
  const h = res.headers();
  assert.match(h['content-security-policy'], /^default-src 'none'; script-src 'self'; style-src 'self';/);
  assert.equal(h['x-content-type-options'], 'nosniff');
  assert.equal(h['referrer-policy'], 'no-referrer');
  if (!haveAdminApi) {
    // The page alone: it loads and runs, and its admin requests fail (404).
    await page.locator('#error-banner').filter({ hasText: 'Admin API' }).waitFor({ timeout: WAIT_MS });
    assert.deepEqual(consoleErrors.map((e) => e.text).filter((t) => !/status of 404/.test(t)), []);
    assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
    assert.deepEqual(offsite, []);
    await shot('1-loaded-no-admin-api');
    t.skip(`page loaded; key and live data not tested: ${NO_ADMIN_API}`);
    return;
  }
  // No key yet: the page asks for it.
  await page.locator('#error-banner').filter({ hasText: 'admin key' }).waitFor({ timeout: WAIT_MS });
  await page.fill('#key-input', ADMIN_KEY);
  await page.click('#key-form button[type=submit]');
  await page.locator('#live.on').waitFor({ timeout: WAIT_MS });
  await page.locator('#error-banner').waitFor({ state: 'hidden', timeout: WAIT_MS });
  assert.equal(await page.inputValue('#key-input'), '', 'the key is not left in the field');
  assert.equal(await page.evaluate(() => sessionStorage.getItem('qwenproxy.adminKey')), ADMIN_KEY);
  assert.equal(await page.evaluate(() => document.cookie), '');
  assert.deepEqual((await context.cookies()).length, 0);
  // A reload keeps the key (this tab's sessionStorage): no prompt again.
  await page.reload();
  await page.locator('#live.on').waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('#error-banner').isHidden(), true);
  assert.deepEqual(unexpectedErrors(), []);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  assert.deepEqual(offsite, []);
  await shot('1-loaded');
});

test('2. the demo account is healthy', async (t) => {
  if (!haveAdminApi) return t.skip(NO_ADMIN_API);
  await page.locator('#accounts-body tr[data-account="demo"][data-health="ok"]').waitFor({ timeout: WAIT_MS });
  assert.equal(await row('demo').locator('.badge').textContent(), 'healthy');
  assert.match(await row('demo').locator('.expiry').textContent(), /^expires in 6d/);
  for (const action of ['drain', 'resume', 'reload', 'test', 'remove'])
    assert.equal(await row('demo').locator(`button[data-action="${action}"]`).count(), 1, action);
  // "Test this account" answers through that account.
  await row('demo').locator('button[data-action="test"]').click();
  await page.locator('#account-result').filter({ hasText: /^Test of demo with / }).waitFor({ timeout: WAIT_MS });
});

let secondToken;
test('3. a second account imported through the form turns healthy', async (t) => {
  if (!haveAdminApi) return t.skip(NO_ADMIN_API);
  secondToken = mock.token('second-user', 3600); // expires in an hour: step 6
  await page.fill('#import-text', `Cookie: token=${secondToken}; ssxmod_itna=1`);
  await page.fill('#import-name', 'second');
  await page.click('#import-form button[type=submit]');
  const result = page.locator('#import-result');
  await result.filter({ hasText: 'Imported account second' }).waitFor({ timeout: WAIT_MS });
  const text = await result.textContent();
  assert.match(text, /user id second-user/);
  assert.match(text, /in 59m|in 1h 0m/);
  assert.equal(await page.inputValue('#import-text'), '', 'the pasted secret is cleared');
  const html = await page.content();
  assert.ok(!html.includes(secondToken) && !html.includes(secondToken.split('.')[2]), 'the token is never shown');
  await page.locator('#accounts-body tr[data-account="second"][data-health="ok"]').waitFor({ timeout: WAIT_MS });
  assert.equal(await row('second').locator('.badge').textContent(), 'healthy');
  await shot('3-imported');
});

test('4. a streamed request shows among the live requests and in the counters', async (t) => {
  if (!haveAdminApi) return t.skip(NO_ADMIN_API);
  const before = await counter('c-requests');
  await mock.hold();
  const r = await chat(stack.baseUrl, { model: MODEL, stream: true, messages: [{ role: 'user', content: 'hello dashboard' }] });
  assert.equal(r.status, 200);
  const id = r.headers.get('x-request-id');
  assert.ok(id);
  const live = page.locator(`#requests-body tr[data-request="${id}"]`);
  await live.waitFor({ timeout: WAIT_MS });
  assert.equal(await live.locator('td').nth(1).textContent(), MODEL);
  assert.equal(await live.locator('td').nth(4).textContent(), 'yes');
  assert.ok((await counter('c-in-flight')) >= 1);
  await shot('4-live-request');
  await mock.release();
  const events = [];
  for await (const e of sseEvents(r)) events.push(e);
  assert.equal(events.at(-1), '[DONE]');
  await live.waitFor({ state: 'detached', timeout: WAIT_MS });
  await page.waitForFunction((n) => Number(document.getElementById('c-requests').textContent) >= n, before + 1, { timeout: WAIT_MS });
  assert.ok((await counter('c-requests')) >= before + 1);
});

test('5. drain the demo account: the next request is served by the other', async (t) => {
  if (!haveAdminApi) return t.skip(NO_ADMIN_API);
  await row('demo').locator('button[data-action="drain"]').click();
  await page.locator('#accounts-body tr[data-account="demo"][data-draining="yes"]').waitFor({ timeout: WAIT_MS });
  assert.equal(await row('demo').locator('.badge').textContent(), 'draining');
  const lastHour = async (name) => Number((await row(name).locator('td').nth(4).textContent()).match(/^(\d+) req/)[1]);
  // Start from a page that shows what the API counts (an earlier request's
  // account event may still be on its way).
  const api = await (await fetch(`${stack.baseUrl}/admin/v1/accounts`, { headers: { authorization: `Bearer ${ADMIN_KEY}` } })).json();
  const counts = Object.fromEntries(api.accounts.map((a) => [a.name, a.last_hour.requests]));
  await page.waitForFunction((want) => Object.entries(want).every(([name, n]) =>
    /^(\d+) req/.exec(document.querySelector(`#accounts-body tr[data-account="${name}"] td:nth-child(5)`)?.textContent ?? '')?.[1] === String(n)),
  counts, { timeout: WAIT_MS });
  const demoBefore = await lastHour('demo');
  const secondBefore = await lastHour('second');
  const r = await chat(stack.baseUrl, { model: MODEL, messages: [{ role: 'user', content: 'who serves this?' }] });
  assert.equal(r.status, 200, await r.text());
  await page.waitForFunction(
    (n) => /^(\d+) req/.exec(document.querySelector('#accounts-body tr[data-account="second"] td:nth-child(5)')?.textContent ?? '')?.[1] >= n,
    secondBefore + 1, { timeout: WAIT_MS });
  assert.equal(await lastHour('demo'), demoBefore, 'the drained account served nothing');
  await shot('5-drained');
  // The top of the page, as in docs/dashboard.md (docs/img/dashboard.png).
  await page.locator('#notices li[data-kind="token_expiring"]').waitFor({ timeout: WAIT_MS });
  await page.screenshot({ path: join(ARTIFACTS, 'dashboard-top.png') });
  await row('demo').locator('button[data-action="resume"]').click();
  await page.locator('#accounts-body tr[data-account="demo"][data-draining="no"]').waitFor({ timeout: WAIT_MS });
});

test('6. a token that expires in an hour: banner and row warn', async (t) => {
  if (!haveAdminApi) return t.skip(NO_ADMIN_API);
  const notice = page.locator('#notices li[data-kind="token_expiring"][data-account="second"]');
  await notice.waitFor({ timeout: WAIT_MS });
  assert.equal(await page.locator('#notices').isVisible(), true);
  const expiry = row('second').locator('.expiry');
  assert.match(await expiry.getAttribute('class'), /\bwarn\b/);
  assert.match(await expiry.textContent(), /^expires in (59m|1h 0m)/);
  assert.doesNotMatch(await row('demo').locator('.expiry').getAttribute('class'), /\b(warn|bad)\b/);
  await shot('6-expiring');
  assert.deepEqual(unexpectedErrors(), []);
  assert.deepEqual(await page.evaluate(() => window.__cspViolations), []);
  assert.deepEqual(offsite, []);
});

test('7. Cancel ends a live request: the client gets an error event', async (t) => {
  if (!haveAdminApi) return t.skip(NO_ADMIN_API);
  await mock.hold();
  try {
    const r = await chat(stack.baseUrl, { model: MODEL, stream: true, messages: [{ role: 'user', content: 'cancel me' }] });
    assert.equal(r.status, 200);
    const id = r.headers.get('x-request-id');
    const live = page.locator(`#requests-body tr[data-request="${id}"]`);
    await live.locator('button[data-cancel]').click({ timeout: WAIT_MS });
    const events = [];
    for await (const e of sseEvents(r)) events.push(e);
    assert.ok(events.some((e) => e !== '[DONE]' && JSON.parse(e).error), `an error event: ${events.join(' | ')}`);
    await live.waitFor({ state: 'detached', timeout: WAIT_MS });
  } finally {
    await mock.release();
  }
});

test('8. Remove, confirmed in the dialog, renames the account file', async (t) => {
  if (!haveAdminApi) return t.skip(NO_ADMIN_API);
  const dialog = new Promise((resolve) => page.once('dialog', (d) => { resolve(d.message()); d.accept(); }));
  await row('second').locator('button[data-action="remove"]').click();
  assert.match(await dialog, /Remove account second\?/);
  await page.locator('#account-result').filter({ hasText: /^second removed: its file is now / }).waitFor({ timeout: WAIT_MS });
  const accounts = join(stack.dir, 'accounts');
  assert.equal(existsSync(join(accounts, 'second.toml')), false);
  assert.ok(readdirSync(accounts).some((f) => /^second\.toml\.removed-\d+$/.test(f)));
  assert.deepEqual(unexpectedErrors(), []);
});
