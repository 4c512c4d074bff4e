// SPDX-License-Identifier: MIT
// What the browser tests share: the server's REST API for setup, Debian's Chromium
// through playwright-core (one fresh profile per participant), a TAP runner, and
// screenshots saved as artifacts.
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const BASE = process.env.CALLREC_URL.replace(/\/$/, '');
export const ARTIFACTS = process.env.CALLREC_ARTIFACTS || os.tmpdir();
const TMP = process.env.CALLREC_TMP || os.tmpdir();

export function adminToken() {
  return fs.readFileSync(process.env.CALLREC_ADMIN_TOKEN_FILE, 'utf8').trim();
}

export async function rest(token, method, p, body) {
  const res = await fetch(`${BASE}/api/v1${p}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
    body: body === undefined ? (method === 'GET' ? undefined : '') : JSON.stringify(body),
  });
  const text = await res.text();
  const json = text ? JSON.parse(text) : null;
  if (!res.ok) throw new Error(`${method} ${p}: ${res.status} ${text}`);
  return json;
}

// playwright-core adds --headless itself (headless: true).
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--allow-loopback-in-peer-connection', '--use-fake-ui-for-media-stream',
  '--use-fake-device-for-media-stream', '--no-proxy-server',
  '--disable-features=WebRtcHideLocalIpsWithMdns', '--autoplay-policy=no-user-gesture-required',
];

// A participant: its own browser profile (fresh --user-data-dir), one page, and its
// console lines. @wav: a WAV file its fake microphone plays (looped) instead of Chromium's
// beep, so a recording can tell the participants apart by tone.
export async function openBrowser(name, wav) {
  const dir = fs.mkdtempSync(path.join(TMP, `chromium-${name}-`));
  const args = wav ? [...FLAGS, `--use-file-for-fake-audio-capture=${wav}`] : FLAGS;
  const ctx = await chromium.launchPersistentContext(dir, {
    executablePath: '/usr/bin/chromium', headless: true, args,
    viewport: { width: 1280, height: 900 },
  });
  const page = ctx.pages()[0] || await ctx.newPage();
  const consoleLines = [];
  page.on('console', (m) => consoleLines.push(m.text()));
  page.on('pageerror', (e) => consoleLines.push(`pageerror: ${e.message}`));
  return { name, ctx, page, consoleLines, close: () => ctx.close() };
}

export async function screenshot(page, name) {
  try {
    await page.screenshot({ path: path.join(ARTIFACTS, `${name}.png`), fullPage: true });
  } catch {
    // a screenshot is an artifact, never a verdict
  }
}

export async function signIn(page, token) {
  await page.goto(`${BASE}/`);
  await page.fill('#token', token);
  await page.click('#signin-form button[type=submit]');
  await page.waitForSelector('#app-view:not([hidden])');
}

// Types into the main message box and sends with Enter.
export async function say(page, text, box = '#message') {
  await page.fill(box, text);
  await page.press(box, 'Enter');
}

export function lastNotice(page) {
  return page.locator('#notices .notice').last();
}

export function assert(cond, message) {
  if (!cond) throw new Error(`assertion failed: ${message}`);
}

export function equal(actual, expected, message) {
  if (actual !== expected)
    throw new Error(`${message}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
}

// Runs the tests in order, printing TAP. A failure takes a screenshot of every open page.
export async function runTests(tests, pagesForScreenshots) {
  console.log(`TAP version 13\n1..${tests.length}`);
  let passed = 0;
  let failed = 0;
  for (let i = 0; i < tests.length; i++) {
    const [name, fn] = tests[i];
    try {
      await fn();
      passed++;
      console.log(`ok ${i + 1} - ${name}`);
    } catch (e) {
      failed++;
      console.log(`not ok ${i + 1} - ${name}`);
      for (const line of String(e.stack || e).split('\n')) console.log(`# ${line}`);
      for (const p of pagesForScreenshots()) {
        await screenshot(p.page, `FAIL-${i + 1}-${p.name}`);
        for (const l of p.consoleLines.slice(-15)) console.log(`#   [${p.name} console] ${l}`);
      }
    }
  }
  console.log(`# ${passed} passed, ${failed} failed`);
  return failed;
}
