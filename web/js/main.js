// SPDX-License-Identifier: MIT
// The web client's entry point: sign-in, the channel view, the message box and its slash
// commands, and the call (call.js) with its panel. Opening a call link (/call/<channel>)
// signs in if needed, then joins that channel's call.

import { Api } from './api.js';
import { Signaling } from './ws.js';
import { CallSession } from './call.js';
import { collectStats } from './stats.js';
import { parseCommand, literalText } from './commands.js';
import { loadToken, saveToken, clearToken, startServiceWorker } from './auth-store.js';
import { $, errorText } from './ui/dom.js';
import { showSignIn } from './ui/signin.js';
import { renderChannels, channelLabel } from './ui/channels.js';
import { renderPosts } from './ui/posts.js';
import { setServiceWorkerActive } from './ui/attachments.js';
import { CallPanel } from './ui/callpanel.js';
import { renderRecordingBanner } from './ui/banner.js';
import { showNotice, clearNotices } from './ui/notices.js';

const POLL_MS = 5000;
const LAST_CHANNEL = 'callrec.channel';

const app = {
  api: null,
  sig: null,
  user: null,
  channels: [],
  channel: null,
  names: new Map(),
  activeCalls: new Set(), // channel ids with a running call
  session: null,
  panel: null,
  threadRoot: null,
  pollTimer: 0,
  signedIn: false,
};

const callLinkRef = (() => {
  const m = location.pathname.match(/^\/call\/([^/]+)$/);
  return m ? decodeURIComponent(m[1]) : null;
})();

// ---- start, sign in, sign out ----

async function start() {
  setServiceWorkerActive(await startServiceWorker());
  wireStaticControls();
  let token = loadToken();
  let user = null;
  let reason = '';
  if (token) {
    try {
      user = await new Api(token).me();
    } catch (e) {
      reason = e.status === 401 ? 'Your saved sign-in no longer works; sign in again.' : `Cannot reach the server: ${e.message}`;
      if (e.status === 401) await clearToken();
    }
  }
  if (!user) ({ token, user } = await showSignIn(reason));
  await enterApp(token, user);
}

async function enterApp(token, user) {
  await saveToken(token);
  app.api = new Api(token);
  app.user = user;
  app.signedIn = true;
  app.names.set(user.id, user.display_name || user.username);
  $('whoami-name').textContent = user.display_name || user.username;
  $('whoami').hidden = false;
  $('app-view').hidden = false;
  await connectSignaling();
  await loadChannels();
  let first = null;
  if (callLinkRef) first = await findChannel(callLinkRef);
  if (!first) {
    const last = localStorage.getItem(LAST_CHANNEL);
    first = app.channels.find((c) => c.id === last) || app.channels[0] || null;
  }
  if (first) await selectChannel(first);
  if (callLinkRef && first && (first.id === callLinkRef || first.name === callLinkRef)) await joinCall();
  app.pollTimer = setInterval(poll, POLL_MS);
}

async function signOut() {
  app.signedIn = false;
  clearInterval(app.pollTimer);
  if (app.session) await app.session.leave().catch(() => {});
  if (app.sig) app.sig.close();
  await clearToken();
  localStorage.removeItem(LAST_CHANNEL);
  location.assign('/');
}

async function connectSignaling() {
  const sig = new Signaling(app.api.token);
  app.sig = sig;
  sig.addEventListener('call_start', (ev) => {
    app.activeCalls.add(ev.detail.call.channel_id);
    refreshCallUi();
  });
  sig.addEventListener('call_end', (ev) => {
    app.activeCalls.delete(ev.detail.channel_id);
    refreshCallUi();
  });
  sig.addEventListener('close', (ev) => {
    if (!app.signedIn || ev.detail.byUs || app.sig !== sig) return;
    showNotice('Lost the connection to the server; reconnecting…', { isError: true });
    setTimeout(() => { if (app.signedIn && app.sig === sig) connectSignaling(); }, 2000);
  });
  try {
    await sig.connect();
  } catch (e) {
    showNotice(`Calls are unavailable: ${errorText(e)}`, { isError: true });
  }
}

// ---- channels and posts ----

async function loadChannels() {
  try {
    app.channels = await app.api.channels();
  } catch (e) {
    showNotice(`Cannot load channels: ${e.message}`, { isError: true });
  }
  renderChannels(app.channels, app.channel && app.channel.id, app.activeCalls, selectChannel);
}

async function findChannel(ref) {
  const known = app.channels.find((c) => c.id === ref || c.name === ref);
  if (known) return known;
  try {
    return await app.api.channel(ref);
  } catch (e) {
    showNotice(`This call link's channel cannot be opened: ${e.message}`, { isError: true });
    return null;
  }
}

async function selectChannel(ch) {
  app.channel = ch;
  localStorage.setItem(LAST_CHANNEL, ch.id);
  $('channel-title').textContent = `${channelLabel(ch)}${ch.archived ? ' (archived)' : ''}`;
  closeThread();
  clearNotices();
  renderChannels(app.channels, ch.id, app.activeCalls, selectChannel);
  try {
    const members = await app.api.members(ch.id);
    for (const m of members) app.names.set(m.id, m.display_name || m.username);
  } catch {
    // names fall back to ids
  }
  await refreshPosts(true);
  try {
    await app.api.call(ch.id);
    app.activeCalls.add(ch.id);
  } catch {
    app.activeCalls.delete(ch.id);
  }
  refreshCallUi();
  $('message').focus();
}

function postCtx() {
  return { api: app.api, names: app.names, onOpenThread: openThread };
}

async function refreshPosts(reset = false) {
  if (!app.channel) return;
  const ch = app.channel;
  try {
    const posts = await app.api.posts(ch.id, { limit: 200 });
    if (app.channel !== ch) return;
    renderPosts($('post-list'), posts, postCtx(), { reset });
    // Which channel the list shows, once its posts are in (tests wait on it).
    $('post-list').dataset.channel = ch.name;
  } catch (e) {
    showNotice(`Cannot load messages: ${e.message}`, { isError: true });
  }
}

async function openThread(root) {
  app.threadRoot = root;
  $('thread-panel').hidden = false;
  $('thread-title').textContent = root.props && root.props.type === 'call' ? 'Call thread' : 'Thread';
  await refreshThread(true);
  $('thread-message').focus();
}

function closeThread() {
  app.threadRoot = null;
  $('thread-panel').hidden = true;
  $('thread-list').replaceChildren();
}

async function refreshThread(reset = false) {
  const root = app.threadRoot;
  if (!root) return;
  try {
    const posts = await app.api.posts(root.channel_id, { rootId: root.id, limit: 1000 });
    if (app.threadRoot === root)
      renderPosts($('thread-list'), posts, { api: app.api, names: app.names }, { reset });
  } catch (e) {
    showNotice(`Cannot load the thread: ${e.message}`, { isError: true });
  }
}

async function poll() {
  if (document.hidden || !app.channel) return;
  await refreshPosts();
  if (app.threadRoot) await refreshThread();
}

async function uploadAll(input) {
  const ids = [];
  for (const file of input.files) {
    const info = await app.api.uploadFile(app.channel.id, file);
    ids.push(info.id);
  }
  return ids;
}

// ---- the message boxes ----

async function submitMain(ev) {
  ev.preventDefault();
  const box = $('message');
  const text = box.value;
  const cmd = parseCommand(text);
  if (cmd && cmd.error) {
    showNotice(cmd.error, { isError: true });
    return;
  }
  if (!app.channel) return;
  if (cmd) {
    box.value = '';
    await runCallCommand(cmd.action);
    return;
  }
  const files = $('attach');
  if (!text.trim() && files.files.length === 0) return;
  try {
    const fileIds = await uploadAll(files);
    await app.api.createPost(app.channel.id, literalText(text), { fileIds });
    box.value = '';
    files.value = '';
    $('attach-names').textContent = '';
    await refreshPosts();
  } catch (e) {
    showNotice(`Not sent: ${e.message}`, { isError: true });
  }
}

async function submitThread(ev) {
  ev.preventDefault();
  const root = app.threadRoot;
  const box = $('thread-message');
  const files = $('thread-attach');
  if (!root || (!box.value.trim() && files.files.length === 0)) return;
  try {
    const fileIds = await uploadAll(files);
    await app.api.createPost(root.channel_id, box.value, { rootId: root.id, fileIds });
    box.value = '';
    files.value = '';
    await refreshThread();
  } catch (e) {
    showNotice(`Reply not sent: ${e.message}`, { isError: true });
  }
}

// ---- calls ----

function inCallHere() {
  return app.session && app.session.call && app.channel && app.session.channelId === app.channel.id;
}

function refreshCallUi() {
  renderChannels(app.channels, app.channel && app.channel.id, app.activeCalls, selectChannel);
  const btn = $('call-button');
  const ch = app.channel;
  btn.hidden = !ch || ch.archived;
  $('copy-link').hidden = !ch || ch.archived;
  if (!ch) return;
  btn.textContent = inCallHere() ? 'Leave call' : app.activeCalls.has(ch.id) ? 'Join call' : 'Start call';
  const call = app.session && app.session.call;
  renderRecordingBanner(inCallHere() ? call.recording : null, inCallHere() ? app.session.recordingWarning : null);
}

async function joinCall() {
  const ch = app.channel;
  if (inCallHere()) {
    showNotice('You are already in this call.');
    return;
  }
  if (!app.sig || !app.sig.open) await connectSignaling();
  if (app.session) await app.session.leave();
  const session = new CallSession(app.sig, ch.id);
  app.session = session;
  const panel = new CallPanel(session, {
    userId: app.user.id,
    isAdmin: app.user.role === 'system_admin',
    names: app.names,
    onLeave: () => session.leave(),
    onEnd: () => app.api.endCall(ch.id),
    onRecord: async (action) => {
      await app.api.recording(ch.id, action);
      showNotice(action === 'start' ? 'Recording requested.' : 'Recording stop requested.');
    },
  });
  app.panel = panel;
  session.addEventListener('change', refreshCallUi);
  session.addEventListener('post', (ev) => {
    const post = ev.detail;
    if (app.threadRoot && post.root_id === app.threadRoot.id) refreshThread();
  });
  session.addEventListener('ended', (ev) => {
    panel.destroy();
    if (app.session === session) {
      app.session = null;
      app.panel = null;
    }
    const why = { ended: 'The call was ended.', empty: 'The call ended.', left: 'You left the call.',
      channel_archived: 'The call ended: the channel was archived.', channel_deleted: 'The call ended: the channel was deleted.',
      disconnected: 'You were disconnected from the call.', shutdown: 'The call ended: the server is shutting down.' };
    showNotice(why[ev.detail.reason] || `The call ended (${ev.detail.reason}).`);
    refreshCallUi();
  });
  try {
    const call = await session.join();
    app.activeCalls.add(ch.id);
    refreshCallUi();
    await refreshPosts();
    const root = { id: call.thread_id, channel_id: ch.id, props: { type: 'call' } };
    await openThread(root);
  } catch (e) {
    panel.destroy();
    app.session = null;
    app.panel = null;
    showNotice(`Cannot join the call: ${errorText(e)}`, { isError: true });
    refreshCallUi();
  }
}

async function showStats() {
  const ch = app.channel;
  if (inCallHere()) {
    const stats = await collectStats(app.session.pc, { call_id: app.session.call.id, channel_id: ch.id });
    const el = showNotice('Your WebRTC stats for this call (sent to the server):', { pre: JSON.stringify(stats, null, 2) });
    el.classList.add('stats');
    try {
      await app.api.postStats(ch.id, stats);
    } catch (e) {
      showNotice(`The server did not take the stats: ${e.message}`, { isError: true });
    }
    return;
  }
  const last = await app.api.getStats(ch.id);
  const el = showNotice(`Your stats from your last call here (${new Date(last.updated_at).toLocaleString()}):`,
    { pre: JSON.stringify(last.stats, null, 2) });
  el.classList.add('stats');
}

async function runCallCommand(action) {
  const ch = app.channel;
  try {
    switch (action) {
    case 'start':
      if (app.activeCalls.has(ch.id) || inCallHere()) {
        showNotice('A call is already running in this channel: use /call join.', { isError: true });
        return;
      }
      await joinCall();
      break;
    case 'join':
      await joinCall();
      break;
    case 'leave':
      if (inCallHere()) await app.session.leave();
      else await app.api.leaveCall(ch.id).then(() => showNotice('You left the call.'));
      break;
    case 'end':
      await app.api.endCall(ch.id);
      showNotice('Call ended.');
      break;
    case 'link': {
      const link = await app.api.callLink(ch.id);
      showNotice(`Call link: ${link.url}`).dataset.url = link.url;
      break;
    }
    case 'stats':
      await showStats();
      break;
    case 'recording-start':
    case 'recording-stop':
      await app.api.recording(ch.id, action === 'recording-start' ? 'start' : 'stop');
      showNotice(action === 'recording-start' ? 'Recording requested.' : 'Recording stop requested.');
      break;
    default:
      showNotice(`unknown action ${action}`, { isError: true });
    }
  } catch (e) {
    showNotice(errorText(e), { isError: true });
  }
}

async function copyCallLink() {
  try {
    const link = await app.api.callLink(app.channel.id);
    let copied = false;
    try {
      await navigator.clipboard.writeText(link.url);
      copied = true;
    } catch {
      // no clipboard permission: the notice shows the link to copy by hand
    }
    showNotice(copied ? `Call link copied: ${link.url}` : `Call link: ${link.url}`).dataset.url = link.url;
  } catch (e) {
    showNotice(e.message, { isError: true });
  }
}

// ---- static controls ----

function wireStaticControls() {
  $('signout').addEventListener('click', signOut);
  $('composer').addEventListener('submit', submitMain);
  $('thread-composer').addEventListener('submit', submitThread);
  $('thread-close').addEventListener('click', closeThread);
  $('copy-link').addEventListener('click', copyCallLink);
  $('call-button').addEventListener('click', () => (inCallHere() ? app.session.leave() : joinCall()));
  $('attach').addEventListener('change', () => {
    $('attach-names').textContent = [...$('attach').files].map((f) => f.name).join(', ');
  });
  // Enter sends, Shift+Enter is a new line.
  for (const [box, form] of [['message', 'composer'], ['thread-message', 'thread-composer']]) {
    $(box).addEventListener('keydown', (ev) => {
      if (ev.key === 'Enter' && !ev.shiftKey && !ev.isComposing) {
        ev.preventDefault();
        $(form).requestSubmit();
      }
    });
  }
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape' && !$('thread-panel').hidden) closeThread();
  });
}

start().catch((e) => {
  console.error(e);
  showNotice(`Something went wrong: ${errorText(e)}`, { isError: true });
});
