// The playground page (src/web/, served at /) in a real headless Chromium against a real server
// (port 0, real Redis + BullMQ, a real worker process, the demo models): it loads with no console
// errors and asks no other host; a prompt streams tokens into the page; a chat keeps its session
// over two turns; a training job started from the form makes the chart gain points, survives a page
// reload and ends; Stop and Cancel work. Screenshots are written to test-artifacts/.
import t from 'tap';
import { cp, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { ROOT, TINY_TEXT, startServer, startWorker, type Server } from '../helpers/app.ts';
import { chromiumMissing, foreignRequests, launchBrowser, screenshot, type Browser } from '../helpers/browser.ts';

// The functions passed to page.evaluate / waitForFunction run in the page: its globals, untyped
// here (the project's TypeScript has no DOM lib).
declare const document: any;
declare const window: any;
declare const location: any;
declare const MutationObserver: any;

const DEMOS = ['kjv-char', 'freedroid-chat', 'numbers-en-fr', 'countries-qa'];

async function demoServer(t: Parameters<typeof startServer>[0]): Promise<Server> {
  const s = await startServer(t);
  for (const name of DEMOS) await cp(path.join(ROOT, 'models', name), path.join(s.config.modelsDir, name), { recursive: true });
  return s;
}

/** Records textContent lengths of `selector` on every DOM mutation (one entry per change). */
async function recordLengths(page: Page, selector: string): Promise<void> {
  await page.evaluate((sel) => {
    const w = window;
    w.__lengths = [];
    const target = document.querySelector(sel)!;
    new MutationObserver(() => {
      const node = document.querySelector(`${sel} .generated`) ?? document.querySelector(`${sel} .msg.assistant:last-child .text`);
      if (node) w.__lengths.push(node.textContent.length);
    }).observe(target, { childList: true, subtree: true, characterData: true });
  }, selector);
}
/** With UPDATE_README_SCREENSHOTS=1 (npm run screenshots), the README's images in docs/img/. */
async function readmeImage(page: Page, selector: string, name: string): Promise<void> {
  if (!process.env.UPDATE_README_SCREENSHOTS) return;
  await mkdir(path.join(ROOT, 'docs/img'), { recursive: true });
  await page.locator(selector).screenshot({ path: path.join(ROOT, 'docs/img', `${name}.png`) });
}
const lengths = (page: Page): Promise<number[]> => page.evaluate(() => window.__lengths);

t.test('the playground in a real browser', { skip: chromiumMissing() ?? false, timeout: 230_000 }, async (t) => {
  const s = await demoServer(t);
  const browser: Browser = await launchBrowser(t);
  const page = await browser.newPage();

  await t.test('the page loads: models with their quality, no console errors, no other hosts', async (t) => {
    const res = await page.goto(`${s.url}/`);
    t.equal(res?.status(), 200);
    t.match(res?.headers()['content-type'], /text\/html/);
    await page.waitForSelector('#models-body tr[data-model="kjv-char"]');
    await page.waitForSelector('#models-body tr[data-model="freedroid-chat"]');
    const kjv = await page.textContent('#models-body tr[data-model="kjv-char"]');
    t.match(kjv, /generate/);
    t.match(kjv, /lstm/);
    t.match(kjv, /perplexity 2\.71/, 'held-out metric shown');
    const chat = await page.textContent('#models-body tr[data-model="freedroid-chat"]');
    t.match(chat, /perplexity 89\.4/);
    t.match(chat, /retrieval 246/, 'the baseline beside it');
    // two versions side by side
    await page.selectOption('#cmp-a', 'kjv-char@1');
    await page.selectOption('#cmp-b', 'freedroid-chat@1');
    const compare = await page.textContent('#compare');
    t.match(compare, /kjv-char@1/);
    t.match(compare, /freedroid-chat@1/);
    t.match(compare, /perplexity/);
    // assets: the chart library is served from node_modules, not a CDN
    const uplot = await page.request.get(`${s.url}/playground/vendor/uplot/uPlot.iife.min.js`);
    t.equal(uplot.status(), 200);
    const missing = await page.request.get(`${s.url}/playground/nope.js`);
    t.equal(missing.status(), 404);
    t.match(await missing.json(), { error: { code: 'route_not_found' } }, 'a missing file answers the one error shape');
    const traversal = await page.request.get(`${s.url}/playground/..%2f..%2fpackage.json`);
    t.not(traversal.status(), 200, 'no file outside src/web is served');
    await screenshot(page, 'playground-models');
    // keyboard and screen readers: every control has a label, and Tab reaches the section links
    const unlabelled = await page.$$eval('input, select, textarea', (els) =>
      els.filter((e) => e.labels?.length === 0 && !e.getAttribute('aria-label')).map((e) => e.id || e.outerHTML.slice(0, 60)),
    );
    t.same(unlabelled, [], 'every form control has a label');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    t.equal(await page.evaluate(() => document.activeElement?.id), 'tab-models', 'Tab: skip link, then the section links');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => !document.getElementById('try')!.hidden);
    t.equal(new URL(page.url()).hash.split('/')[0], '#try', 'Enter on a section link opens it');
    // a phone: nothing wider than the screen
    const phone = await browser.newPage({ width: 390, height: 844 });
    await phone.goto(`${s.url}/`);
    await phone.waitForSelector('#models-body tr[data-model="kjv-char"]');
    await screenshot(phone, 'playground-phone');
    for (const hash of ['#models', '#try/freedroid-chat', '#try/countries-qa', '#train']) {
      await phone.goto(`${s.url}/${hash}`);
      await phone.waitForFunction((id) => !document.getElementById(id)!.hidden, hash.slice(1).split('/')[0]);
      t.ok(await phone.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), `${hash}: no horizontal scrolling at 390 px`);
    }
    await phone.close();
    t.same(browser.errors, [], 'no console errors');
  });

  await t.test('a prompt streams tokens into the page; Stop cancels; translate with beams; QA', async (t) => {
    await page.goto(`${s.url}/#try/kjv-char`);
    await page.waitForFunction(() => (document.getElementById('try-task')?.textContent ?? '') === 'generate');
    await page.fill('#try-prompt', 'And God said');
    await page.click('#params summary');
    await page.fill('#p-max-new-tokens', '200');
    await page.fill('#p-seed', '1');
    await recordLengths(page, '#try-output');
    await page.click('#try-run');
    await page.waitForSelector('#try-output[data-done]', { timeout: 60_000 });
    const seen = await lengths(page);
    const growing = seen.filter((n, i) => i > 0 && n > seen[i - 1]!).length;
    t.ok(growing >= 5, `the text grew over ${growing} separate frames (lengths ${seen.slice(0, 12).join(',')}…)`);
    t.equal(await page.getAttribute('#try-output', 'data-done'), 'length');
    t.equal(await page.getAttribute('#try-output', 'data-tokens'), '200', '200 token frames');
    t.match(await page.textContent('#try-details'), /200 tokens · \d+ input tokens · seed 1 .*kjv-char@1/);
    const code = await page.textContent('#code-curl');
    t.match(code, /curl -s http:\/\/127\.0\.0\.1:\d+\/generate/);
    t.match(code, /"max_new_tokens":200/);
    t.match(await page.textContent('#code-openai'), /client\.completions\.create\(\{[\s\S]*"max_tokens": 200/);

    // Stop: a long generation is cancelled mid-way
    await page.fill('#p-max-new-tokens', '1000');
    await page.click('#try-run');
    await page.waitForFunction(() => Number(document.getElementById('try-output')?.dataset.tokens ?? 0) >= 5);
    await page.click('#try-stop');
    await page.waitForSelector('#try-output[data-done]');
    t.equal(await page.getAttribute('#try-output', 'data-done'), 'cancelled', 'finish_reason cancelled');
    const tokens = Number(await page.getAttribute('#try-output', 'data-tokens'));
    t.ok(tokens < 1000, `stopped after ${tokens} of 1000 tokens`);
    t.ok(await page.isDisabled('#try-stop'), 'Stop is disabled again');

    // Seq2Seq: beam search on the translation demo, a question with a context on the QA demo
    await page.goto(`${s.url}/#try/numbers-en-fr`);
    await page.waitForFunction(() => document.getElementById('try-task')?.textContent === 'translate');
    t.ok(await page.isVisible('#p-num-beams'), 'beam parameters shown for a Seq2Seq task');
    t.notOk(await page.isVisible('#try-prompt'), 'the prompt field is hidden');
    await page.fill('#try-text', 'forty-two');
    await page.fill('#p-num-beams', '4');
    await page.click('#try-run');
    await page.waitForSelector('#try-output[data-done]');
    t.equal(await page.textContent('#try-generated'), 'quarante-deux');
    t.match(await page.textContent('#try-details'), /4 beams/);
    await page.goto(`${s.url}/#try/countries-qa`);
    await page.waitForFunction(() => document.getElementById('try-task')?.textContent === 'qa');
    await page.fill('#p-num-beams', '');
    await page.fill('#try-question', 'What is the capital of Peru?');
    await page.fill('#try-context', 'Peru lies in South America. The capital of Peru is Lima.');
    await page.click('#try-run');
    await page.waitForSelector('#try-output[data-done]');
    t.equal(await page.textContent('#try-generated'), 'Lima');
    t.match(await page.textContent('#code-curl'), /\/qa .*"context":"Peru lies/s);
    t.same(browser.errors, []);
  });

  await t.test('a chat keeps its session over two turns', async (t) => {
    await page.goto(`${s.url}/#try/freedroid-chat`);
    await page.waitForFunction(() => (document.getElementById('try-task')?.textContent ?? '') === 'chat');
    await page.fill('#p-max-new-tokens', '40');
    await page.fill('#p-seed', '3');
    await recordLengths(page, '#chat-log');
    await page.fill('#chat-message', "Hello! I'm new here.");
    await page.press('#chat-message', 'Enter');
    await page.waitForSelector('#chat-log .msg.assistant[data-session]', { timeout: 60_000 });
    const growing = (await lengths(page)).filter((n, i, a) => i > 0 && n > a[i - 1]!).length;
    t.ok(growing >= 3, `the reply streamed over ${growing} frames`);
    await page.fill('#chat-message', 'Where can I find the doctor?');
    await page.click('#chat-send');
    await page.waitForSelector('#chat-log .msg.assistant:nth-of-type(4)[data-session]', { timeout: 60_000 });
    const turns = await page.$$eval('#chat-log .msg.assistant', (els) => els.map((e) => ({ session: e.dataset.session, cached: Number(e.dataset.cachedTokens), text: e.querySelector('.text')!.textContent })));
    t.equal(turns.length, 2);
    t.equal(turns[0]!.cached, 0, 'the first turn reads the whole prompt');
    t.equal(turns[1]!.session, turns[0]!.session, 'the same session');
    t.ok(turns[1]!.cached > 0, `the second turn reuses the kept state (${turns[1]!.cached} cached tokens)`);
    t.ok(turns.every((x) => x.text!.length > 0), 'both replies have text');
    const sessionId = turns[0]!.session!;
    const kept = await page.request.get(`${s.url}/sessions/${sessionId}`);
    t.equal(kept.status(), 200, 'the server keeps the session');
    t.match(await kept.json(), { id: sessionId, messages: 5 }, 'system + two user + two assistant messages');
    t.match(await page.textContent('#code-openai'), /chat\.completions\.create/);
    await screenshot(page, 'playground-chat');
    await readmeImage(page, '#try .chat', 'playground-chat');
    t.same(browser.errors, []);
  });

  await t.test('training from the form: the chart gains points, survives a reload, the job ends; cancel works', async (t) => {
    startWorker(t, s.config);
    const dir = path.join(s.config.dataDir, 'upload');
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, 'tiny.txt');
    await writeFile(file, TINY_TEXT.repeat(4));

    await page.goto(`${s.url}/#train`);
    await page.waitForSelector('#jobs-body tr');
    await page.selectOption('#job-task', 'generate');
    await page.setInputFiles('#ds-file', file);
    await page.click('#ds-upload');
    await page.waitForFunction(() => /rows/.test(document.getElementById('ds-info')?.textContent ?? ''));
    const info = await page.textContent('#ds-info');
    t.match(info, /^ds_[0-9a-f]{24} · 1 rows · columns text · text · 7\.\d kB$/, `dataset info: ${info}`);
    await page.fill('#job-name', 'web-tiny');
    await page.click('#job-form details summary');
    await page.fill('#hp-epochs', '6');
    await page.fill('#hp-units', '16');
    await page.fill('#hp-embedding-dim', '8');
    await page.fill('#hp-sequence-length', '16');
    await page.fill('#hp-batch-size', '8');
    await page.fill('#hp-eval-every', '10');
    await page.click('#job-start');
    await page.waitForFunction(() => /^#train\/\d+$/.test(location.hash) || !document.getElementById('alert').hidden, undefined, { timeout: 60_000 });
    t.equal(await page.textContent('#alert'), '', 'the job was accepted');
    const jobId = page.url().split('/').pop()!;
    await page.waitForFunction(() => Number(document.getElementById('job-chart')?.dataset.points ?? 0) >= 2, undefined, { timeout: 120_000 });
    const before = Number(await page.getAttribute('#job-chart', 'data-points'));
    const statusBefore = await page.getAttribute('#job', 'data-status');
    t.ok(before >= 2, `the chart has ${before} points (job ${statusBefore})`);
    t.ok(await page.$('#job-chart canvas'), 'uPlot drew a canvas');

    await page.reload();
    await page.waitForFunction((id) => (document.getElementById('job-title')?.textContent ?? '').startsWith(`Job ${id}:`), jobId);
    await page.waitForFunction((n) => Number(document.getElementById('job-chart')?.dataset.points ?? 0) >= n, before);
    t.pass(`after a reload the same job is shown with its ${before}+ points (it was ${statusBefore})`);

    await page.waitForSelector('#job[data-status="completed"]', { timeout: 120_000 });
    const after = Number(await page.getAttribute('#job-chart', 'data-points'));
    t.ok(after > before || statusBefore !== 'running', `the chart gained points: ${before} → ${after}`);
    t.match(await page.textContent('#job-result'), /Published web-tiny@1/);
    t.match(await page.textContent('#job-stats'), /stopped\s*max_epochs/);
    await page.waitForFunction(() => /published web-tiny@1/.test(document.getElementById('job-logs')?.textContent ?? ''));
    await page.waitForSelector(`#jobs-body tr[data-job="${jobId}"] .status.completed`, { timeout: 15_000 });
    await screenshot(page, 'playground-train');
    await readmeImage(page, '#job', 'playground');

    // cancel: a long job is stopped from the page
    await page.goto(`${s.url}/#train`);
    await page.waitForFunction(() => document.querySelectorAll('#ds-choice option').length > 1);
    await page.selectOption('#ds-choice', { index: 1 });
    await page.fill('#job-name', 'web-cancel');
    await page.click('#job-form details summary');
    await page.fill('#hp-epochs', '500');
    await page.fill('#hp-units', '16');
    await page.fill('#hp-embedding-dim', '8');
    await page.fill('#hp-sequence-length', '16');
    await page.fill('#hp-batch-size', '8');
    await page.fill('#hp-eval-every', '');
    await page.click('#job-start');
    await page.waitForFunction((first) => (/^#train\/\d+$/.test(location.hash) && location.hash !== `#train/${first}`) || !document.getElementById('alert').hidden, jobId, { timeout: 60_000 });
    t.equal(await page.textContent('#alert'), '', 'the second job was accepted');
    await page.waitForFunction(() => Number(document.getElementById('job-chart')?.dataset.points ?? 0) >= 1, undefined, { timeout: 120_000 });
    await page.click('#job-cancel');
    await page.waitForSelector('#job[data-status="cancelled"]', { timeout: 60_000 });
    t.pass('the job was cancelled from the page');
    t.same(browser.errors, [], 'no console errors');
  });

  t.same(foreignRequests(browser.requests, s.url), [], `no requests to other hosts (of ${browser.requests.length})`);
});
