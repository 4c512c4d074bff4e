// SPDX-License-Identifier: MIT
// Browser end-to-end tests of the web client (web/) in Debian's Chromium, against a real
// callrec-server started by run-browser-tests.sh. Prints TAP; exit status 1 on failure.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  ARTIFACTS, BASE, adminToken, rest, openBrowser, screenshot, signIn, say, lastNotice, assert, equal, runTests,
} from './harness.mjs';

const admin = adminToken();
const browsers = [];
const ctx = {};

async function setup() {
  for (const [username, display] of [['alice', 'Alice'], ['bob', 'Bob']]) {
    const u = await rest(admin, 'POST', '/users', { username, display_name: display });
    const t = await rest(admin, 'POST', `/users/${u.id}/tokens`, { label: 'browser test' });
    ctx[username] = { user: u, token: t.token };
  }
  ctx.town = await rest(ctx.alice.token, 'POST', '/channels',
    { type: 'public', name: 'town', display_name: 'Town Square', members: ['bob'] });
  ctx.lobby = await rest(ctx.alice.token, 'POST', '/channels', { type: 'public', name: 'lobby', display_name: 'Lobby' });
}

// A looped sine for a participant's fake microphone: Alice 440 Hz, Bob 660 Hz, as the
// sim's voices, so the recording's tones say who was heard.
function makeTone(name, hz) {
  const file = path.join(process.env.CALLREC_TMP, `${name}.wav`);
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i',
    `sine=frequency=${hz}:sample_rate=48000:duration=120`, '-ac', '1', '-c:a', 'pcm_s16le', file]);
  return file;
}

// Tone amplitudes per second of an MP4 (build/tests/media-report's table): { 440: [..], 660: [..] }.
function tonesOf(file) {
  const report = execFileSync(path.join(process.env.CALLREC_BUILD_DIR, 'tests', 'media-report'),
    [file, '1'], { encoding: 'utf8' });
  const rows = report.split('\n').filter((l) => /^\s+\d+\.\d\s/.test(l)).map((l) => l.trim().split(/\s+/));
  return { 440: rows.map((r) => Number(r[1])), 660: rows.map((r) => Number(r[2])),
    880: rows.map((r) => Number(r[3])) };
}

function makeMp4() {
  const file = path.join(process.env.CALLREC_TMP, 'clip.mp4');
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-f', 'lavfi', '-i', 'testsrc=size=320x240:rate=25',
    '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=48000', '-t', '4', '-c:v', 'libx264',
    '-preset', 'ultrafast', '-pix_fmt', 'yuv420p', '-g', '25', '-c:a', 'aac', file]);
  return file;
}

const waitFor = (page, fn, arg, timeout = 15000) => page.waitForFunction(fn, arg, { timeout, polling: 100 });

const tests = [
  ['static files: content types, call links, no traversal', async () => {
    const get = (p) => fetch(BASE + p);
    let r = await get('/');
    equal(r.status, 200, '/ status');
    assert(r.headers.get('content-type').startsWith('text/html'), '/ is HTML');
    assert(r.headers.get('cache-control') === 'no-cache' && r.headers.get('etag'), '/ has cache headers');
    assert((r.headers.get('content-security-policy') || '').includes("script-src 'self'"), '/ has a CSP');
    const etag = r.headers.get('etag');
    r = await fetch(BASE + '/', { headers: { 'If-None-Match': etag } });
    equal(r.status, 304, 'revalidation with the ETag');
    r = await get('/js/main.js');
    equal(r.headers.get('content-type'), 'text/javascript; charset=utf-8', 'module type');
    r = await get('/style.css');
    equal(r.headers.get('content-type'), 'text/css; charset=utf-8', 'stylesheet type');
    r = await get(`/call/${ctx.town.id}`);
    equal(r.status, 200, 'call link serves the page');
    assert((await r.text()).includes('<script type="module" src="/js/main.js">'), 'call link is index.html');
    for (const p of ['/%2e%2e/%2e%2e/etc/passwd', '/js/%2e%2e/%2e%2e/etc/passwd', '/..%2f..%2fetc/passwd', '/.hidden', '/nope.js']) {
      r = await get(p);
      assert(r.status === 404 || r.status === 400, `${p} refused (got ${r.status})`);
    }
  }],

  ['sign in: a bad token gets a clear message', async () => {
    const { page } = ctx.a;
    await page.goto(`${BASE}/`);
    await page.click('#signin-form button[type=submit]');
    equal(await page.textContent('#signin-error'), 'Enter your access token.', 'empty token');
    await page.fill('#token', 'crt_' + '0'.repeat(64));
    await page.click('#signin-form button[type=submit]');
    await waitFor(page, () => document.querySelector('#signin-error').textContent.includes('not valid'));
    equal(await page.getAttribute('#token', 'aria-invalid'), 'true', 'field marked invalid');
    assert(await page.isHidden('#app-view'), 'app stays hidden');
    equal(await page.evaluate(() => localStorage.getItem('callrec.token')), null, 'bad token not kept');
  }],

  ['sign in, stay signed in across a reload, sign out', async () => {
    const { page } = ctx.a;
    await signIn(page, ctx.alice.token);
    equal(await page.textContent('#whoami-name'), 'Alice', 'who is signed in');
    await page.reload();
    await page.waitForSelector('#app-view:not([hidden])');
    equal(await page.textContent('#whoami-name'), 'Alice', 'still signed in after reload');
    await page.click('#signout');
    await page.waitForSelector('#signin-view:not([hidden])');
    equal(await page.evaluate(() => localStorage.getItem('callrec.token')), null, 'token forgotten');
    await signIn(page, ctx.alice.token);
  }],

  ['channels: list, switch, post, and markup stays text', async () => {
    const { page } = ctx.a;
    await page.waitForSelector('#channel-list button[data-channel="lobby"]');
    const names = await page.$$eval('#channel-list button', (bs) => bs.map((b) => b.dataset.channel));
    assert(names.includes('town') && names.includes('lobby'), `channels listed: ${names}`);
    await page.click('#channel-list button[data-channel="lobby"]');
    await waitFor(page, () => document.querySelector('#channel-title').textContent === 'Lobby');
    equal(await page.getAttribute('#channel-list button[data-channel="lobby"]', 'aria-current'), 'true', 'current channel marked');
    const evil = '<img src=x onerror="window.pwned=1"> hello lobby';
    await say(page, evil);
    await waitFor(page, (t) => [...document.querySelectorAll('#post-list .post .body')].some((b) => b.textContent === t), evil);
    equal(await page.evaluate(() => window.pwned), undefined, 'no markup injection');
    const posts = await rest(ctx.alice.token, 'GET', `/channels/${ctx.lobby.id}/posts`);
    equal(posts.at(-1).message, evil, 'the post is in lobby on the server');
    await page.click('#channel-list button[data-channel="town"]');
    await waitFor(page, () => document.querySelector('#channel-title').textContent === 'Town Square');
    // The title changes at once; the list once town's posts have loaded.
    await waitFor(page, () => document.querySelector('#post-list').dataset.channel === 'town');
    const bodies = await page.$$eval('#post-list .post .body', (bs) => bs.map((b) => b.textContent));
    assert(!bodies.includes(evil), 'lobby post not shown in town');
  }],

  ['threads: reply to a post', async () => {
    const { page } = ctx.a;
    await say(page, 'root message');
    const root = page.locator('#post-list .post', { hasText: 'root message' });
    await root.locator('button.open-thread').click();
    await page.waitForSelector('#thread-panel:not([hidden])');
    await say(page, 'a reply', '#thread-message');
    await waitFor(page, () => [...document.querySelectorAll('#thread-list .body')].some((b) => b.textContent === 'a reply'));
    const rootId = await root.getAttribute('data-post-id');
    const thread = await rest(ctx.alice.token, 'GET', `/channels/${ctx.town.id}/posts?root_id=${rootId}`);
    equal(thread.length, 2, 'root + reply on the server');
    equal(thread[1].root_id, rootId, 'reply is in the thread');
    await page.keyboard.press('Escape');
    assert(await page.isHidden('#thread-panel'), 'Escape closes the thread');
  }],

  ['attachments: an MP4 uploads, plays inline and seeks', async () => {
    const { page } = ctx.a;
    const file = makeMp4();
    const ranges = [];
    page.on('response', (r) => { if (r.url().includes('/api/v1/files/') && !r.url().endsWith('/info')) ranges.push(r.status()); });
    await page.setInputFiles('#attach', file);
    await say(page, 'a clip');
    const video = page.locator('#post-list .post', { hasText: 'a clip' }).locator('video');
    await video.waitFor({ timeout: 15000 });
    await video.evaluate((v) => new Promise((ok, fail) => {
      if (v.readyState >= 1) return ok();
      v.addEventListener('loadedmetadata', ok, { once: true });
      v.addEventListener('error', () => fail(new Error(`video error ${v.error && v.error.code}`)), { once: true });
    }));
    const duration = await video.evaluate((v) => v.duration);
    assert(Math.abs(duration - 4) < 0.2, `duration ~4 s (got ${duration})`);
    const after = await video.evaluate((v) => new Promise((ok) => {
      v.addEventListener('seeked', () => ok({ t: v.currentTime, rs: v.readyState }), { once: true });
      v.currentTime = 2.5;
    }));
    assert(Math.abs(after.t - 2.5) < 0.1, `seeked to 2.5 s (at ${after.t})`);
    await video.evaluate((v) => v.readyState >= 2 || new Promise((ok) => v.addEventListener('loadeddata', ok, { once: true })));
    await video.evaluate((v) => { v.muted = true; return v.play(); });
    await waitFor(page, () => { const v = document.querySelector('#post-list video'); return v.currentTime > 2.7; });
    assert(ranges.includes(206), `the player used Range requests (statuses ${ranges})`);
    await screenshot(page, 'attachment-video');
  }],

  ['slash commands: parsing and errors', async () => {
    const { page } = ctx.a;
    const check = async (text, expected, isError = true) => {
      await say(page, text);
      const n = lastNotice(page);
      await waitFor(page, (e) => {
        const l = [...document.querySelectorAll('#notices .notice')].at(-1);
        return l && l.textContent.includes(e);
      }, expected);
      equal(await n.getAttribute('data-kind'), isError ? 'error' : 'info', `${text} notice kind`);
    };
    await check('/foo', "unknown command '/foo'");
    await check('/call', 'missing subcommand');
    await check('/call dance', "unknown subcommand 'dance'");
    await check('/call start now', 'takes no arguments');
    await check('/call recording pause', 'usage: /call recording start|stop');
    await check('/call end', 'no call');
    await check('/call recording start', 'no call');
    await check('/call stats', 'no stats');
    await check('/call link', `/call/${ctx.town.id}`, false);
    equal(await lastNotice(page).getAttribute('data-url'), `${BASE}/call/${ctx.town.id}`, 'call link URL');
    await say(page, '//call is literal');
    await waitFor(page, () => [...document.querySelectorAll('#post-list .body')].some((b) => b.textContent === '/call is literal'));
  }],

  ['call: start, and a second browser joins from the call link', async () => {
    const { page } = ctx.a;
    await say(page, '/call start');
    await page.waitForSelector('#call-panel:not([hidden]) #participants li[data-user="alice"]');
    equal(await page.getAttribute('#participants li[data-user="alice"]', 'data-host'), 'true', 'starter is host');
    const b = ctx.b.page;
    await b.goto(`${BASE}/call/${ctx.town.id}`);
    await b.fill('#token', ctx.bob.token);
    await b.click('#signin-form button[type=submit]');
    await b.waitForSelector('#participants li[data-user="alice"]', { timeout: 20000 });
    await b.waitForSelector('#participants li[data-user="bob"]');
    await page.waitForSelector('#participants li[data-user="bob"]');
    equal(await b.getAttribute('#participants li[data-user="alice"]', 'data-host'), 'true', 'bob sees alice as host');
    equal(await b.getAttribute('#participants li[data-user="bob"]', 'data-host'), 'false', 'bob is not host');
    const waitConnected = (p) => Promise.resolve().then(() => {
      const t0 = Date.now();
      return new Promise((ok, fail) => {
        const tick = () => (p.consoleLines.includes('rtc connected') ? ok()
          : Date.now() - t0 > 20000 ? fail(new Error(`${p.name}: no 'rtc connected' line`)) : setTimeout(tick, 100));
        tick();
      });
    });
    await waitConnected(ctx.a);
    await waitConnected(ctx.b);
    assert(await b.isVisible('#thread-panel'), 'the call thread opens for the joiner');
  }],

  ['call: mute state shows for the other, audio flows both ways', async () => {
    const a = ctx.a.page;
    const b = ctx.b.page;
    equal(await b.getAttribute('#participants li[data-user="alice"]', 'data-muted'), 'true', 'joins muted');
    await a.click('#mute-button');
    await waitFor(b, () => document.querySelector('#participants li[data-user="alice"]').dataset.muted === 'false');
    await b.click('#mute-button');
    await waitFor(a, () => document.querySelector('#participants li[data-user="bob"]').dataset.muted === 'false');
    // The client's own /call stats, until the inbound audio byte count grows.
    const received = async (p) => {
      for (let i = 0; i < 40; i++) {
        await say(p, '/call stats');
        const pre = p.locator('#notices .notice.stats pre').last();
        await pre.waitFor();
        const s = JSON.parse(await pre.textContent()).summary;
        if (s.audio_bytes_received > 2000 && s.audio_bytes_sent > 2000) return s;
        await p.waitForTimeout(250);
      }
      throw new Error('no audio flowing both ways');
    };
    await received(a);
    await received(b);
    await a.click('#mute-button');
    await waitFor(b, () => document.querySelector('#participants li[data-user="alice"]').dataset.muted === 'true');
  }],

  ['call: raise hand and reactions arrive', async () => {
    const a = ctx.a.page;
    const b = ctx.b.page;
    await b.click('#hand-button');
    await waitFor(a, () => document.querySelector('#participants li[data-user="bob"]').dataset.hand === 'true');
    // Bob's own button flips when his own broadcast comes back, maybe after Alice's.
    await waitFor(b, () => document.querySelector('#hand-button').textContent === 'Lower hand');
    await a.click('button.react[data-emoji="🎉"]');
    await waitFor(b, () => document.querySelector('#reactions-log').textContent === 'Alice reacted 🎉');
    await b.click('#hand-button');
    await waitFor(a, () => document.querySelector('#participants li[data-user="bob"]').dataset.hand === 'false');
  }],

  ['call: chat in the call thread reaches the other', async () => {
    const a = ctx.a.page;
    const b = ctx.b.page;
    await say(a, 'hello from the call', '#thread-message');
    await waitFor(b, () => [...document.querySelectorAll('#thread-list .body')].some((x) => x.textContent === 'hello from the call'));
  }],

  ['call: /call stats shows JSON and the server keeps it', async () => {
    const b = ctx.b.page;
    await say(b, '/call stats');
    const pre = b.locator('#notices .notice.stats pre').last();
    await pre.waitFor();
    const stats = JSON.parse(await pre.textContent());
    assert(stats.summary && stats.summary.audio_bytes_received > 0, 'stats show received audio');
    assert(Object.values(stats.reports).some((r) => r.type === 'inbound-rtp'), 'inbound-rtp reports present');
    let kept = null;
    for (let i = 0; i < 20 && !kept; i++) {
      try {
        kept = await rest(ctx.bob.token, 'GET', `/calls/${ctx.town.id}/stats`);
      } catch {
        await b.waitForTimeout(200);
      }
    }
    assert(kept && kept.stats.summary.audio_bytes_received === stats.summary.audio_bytes_received, 'server has the posted stats');
  }],

  ['call: screen share reaches the other', async () => {
    const a = ctx.a.page;
    const b = ctx.b.page;
    await a.click('#share-button');
    await waitFor(a, () => document.querySelector('#share-button').textContent === 'Stop sharing');
    await waitFor(b, () => document.querySelector('#participants li[data-user="alice"] .tag.screen') !== null);
    await waitFor(b, () => { const v = document.querySelector('#screen-video'); return !v.hidden && v.videoWidth > 0; }, undefined, 20000);
    equal(await b.isDisabled('#share-button'), true, 'a second sharer is refused by the UI');
    await screenshot(a, 'call-alice');
    await screenshot(b, 'call-bob');
    await a.click('#share-button');
    await waitFor(b, () => document.querySelector('#participants li[data-user="alice"] .tag.screen') === null);
  }],

  ['call: the host records; both see the banner; the MP4 is posted with both voices', async () => {
    const a = ctx.a.page;
    const b = ctx.b.page;
    await a.click('#mute-button'); // Alice was muted in an earlier test
    await say(b, '/call recording start');
    await waitFor(b, () => [...document.querySelectorAll('#notices .notice.error')].some((n) => /host|forbidden/i.test(n.textContent)));
    equal(await b.isHidden('#record-button'), true, 'only the host has the record button');
    await a.click('#record-button');
    for (const p of [a, b])
      await waitFor(p, () => document.querySelector('#recording-banner').dataset.state === 'recording', undefined, 30000);
    await waitFor(a, () => document.querySelector('#record-button').textContent === 'Stop recording');
    await screenshot(b, 'recording-banner-bob');
    await new Promise((r) => setTimeout(r, 6000));
    await a.click('#record-button');
    // The post lands in the call thread, with the MP4 attached.
    const call = await rest(ctx.alice.token, 'GET', `/calls/${ctx.town.id}`);
    let post = null;
    for (let i = 0; i < 120 && !post; i++) {
      const thread = await rest(ctx.alice.token, 'GET', `/channels/${ctx.town.id}/posts?root_id=${call.thread_id}`);
      post = thread.find((p) => p.file_ids && p.file_ids.length > 0 && /recording/i.test(p.message));
      if (!post) await new Promise((r) => setTimeout(r, 500));
    }
    assert(post, 'the recording is posted in the call thread');
    const res = await fetch(`${BASE}/api/v1/files/${post.file_ids[0]}`, { headers: { Authorization: `Bearer ${ctx.bob.token}` } });
    equal(res.status, 200, 'a member downloads the recording');
    equal(res.headers.get('content-type'), 'video/mp4', 'served as MP4');
    const file = path.join(ARTIFACTS, 'recording.mp4'); // kept as an artifact
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    // Chromium's noise suppression takes a steady sine down to ~0.01 of full scale (the
    // sim's voices arrive at 0.3); 880 Hz, which nobody sends, is the control.
    const tones = tonesOf(file);
    const heard = (hz) => tones[hz].filter((v) => v > 0.005).length;
    assert(heard(440) >= 3 && heard(660) >= 3 && heard(880) === 0,
      `both voices and nothing else are in the recording (seconds with 440 Hz: ${heard(440)}, ` +
      `660 Hz: ${heard(660)}, 880 Hz: ${heard(880)})`);
    await say(b, '/call end');
    await waitFor(b, () => [...document.querySelectorAll('#notices .notice.error')].some((n) => /host/i.test(n.textContent)));
    await say(a, '/call end');
    await waitFor(a, () => document.querySelector('#call-panel').hidden);
    await waitFor(b, () => document.querySelector('#call-panel').hidden);
    await waitFor(b, () => [...document.querySelectorAll('#notices .notice')].some((n) => n.textContent.includes('The call was ended.')));
    equal(await b.textContent('#call-button'), 'Start call', 'no call running afterwards');
  }],
];

let failed = 1;
try {
  await setup();
  ctx.a = await openBrowser('alice', makeTone('alice', 440));
  ctx.b = await openBrowser('bob', makeTone('bob', 660));
  browsers.push(ctx.a, ctx.b);
  failed = await runTests(tests, () => browsers);
} catch (e) {
  console.log(`Bail out! ${e.stack || e}`);
} finally {
  for (const b of browsers) await b.close().catch(() => {});
}
process.exit(failed ? 1 : 0);
