// SPDX-License-Identifier: MIT
// The call panel: controls (mute, microphone on/off, device choice, screen share, hand,
// reactions, record for the host, leave, end), the participants with speaking, muted, hand and host markers,
// the shared screen, and the remote audio. Built once per call; updated in place on every
// state change, so focus and open selects survive.

import { h, $, errorText } from './dom.js';
import { showNotice } from './notices.js';

const REACTIONS = ['👍', '👏', '😂', '🎉', '❤️'];
const REACTION_SHOWN_MS = 4000;

export class CallPanel {
  constructor(session, { userId, isAdmin, names, onLeave, onEnd, onRecord }) {
    this.session = session;
    this.userId = userId;
    this.isAdmin = isAdmin;
    this.names = names;
    this.sinkId = '';
    this.recentReactions = new Map(); // session_id -> {emoji, until}
    this.root = $('call-panel');
    this.build(onLeave, onEnd, onRecord);
    session.addEventListener('change', () => this.update());
    session.addEventListener('remote-track', (ev) => this.addRemoteTrack(ev.detail.track));
    session.addEventListener('reaction', (ev) => this.showReaction(ev.detail));
    session.addEventListener('notice', (ev) => showNotice(ev.detail.text, { isError: ev.detail.isError }));
    this.onDeviceChange = () => this.refreshDevices();
    navigator.mediaDevices.addEventListener('devicechange', this.onDeviceChange);
  }

  build(onLeave, onEnd, onRecord) {
    const act = (fn) => async () => {
      try {
        await fn();
      } catch (e) {
        showNotice(errorText(e), { isError: true });
      }
    };
    const s = this.session;
    this.status = h('span', { class: 'call-status', role: 'status' });
    this.muteBtn = h('button', { type: 'button', id: 'mute-button', onclick: act(() => s.setMuted(!this.myMuted())) });
    this.micBtn = h('button', { type: 'button', id: 'mic-button', onclick: act(() => s.setMicOn(!s.micOn)) });
    this.micSelect = h('select', { id: 'mic-select', onchange: act(() => s.chooseMic(this.micSelect.value)) });
    this.sinkSelect = h('select', { id: 'sink-select', onchange: act(() => this.chooseSink(this.sinkSelect.value)) });
    this.shareBtn = h('button', { type: 'button', id: 'share-button',
      onclick: act(() => (s.sharing ? s.stopScreenShare() : s.startScreenShare())) });
    this.handBtn = h('button', { type: 'button', id: 'hand-button', onclick: act(() => s.setHand(!this.myHand())) });
    const reactions = h('span', { role: 'group', 'aria-label': 'Reactions' },
      REACTIONS.map((emoji) => h('button', { type: 'button', class: 'react', 'data-emoji': emoji,
        'aria-label': `React ${emoji}`, onclick: act(() => s.react(emoji)) }, emoji)));
    // Start or stop the call's recording: the host's (or an admin's) button; everyone sees
    // the banner. The server decides; the banner follows its recording_state.
    this.recordBtn = h('button', { type: 'button', id: 'record-button',
      onclick: act(() => onRecord(this.recordingActive() ? 'stop' : 'start')) });
    this.leaveBtn = h('button', { type: 'button', id: 'leave-button', class: 'danger', onclick: act(onLeave) }, 'Leave');
    this.endBtn = h('button', { type: 'button', id: 'end-button', class: 'danger', onclick: act(onEnd) }, 'End call for everyone');
    this.participants = h('ul', { id: 'participants', class: 'participants', 'aria-label': 'Participants' });
    this.reactionsLog = h('p', { class: 'reactions-log', id: 'reactions-log', 'aria-live': 'polite' });
    this.screen = h('video', { id: 'screen-video', class: 'screen-video', autoplay: true, playsInline: true, muted: true, hidden: true,
      'aria-label': 'Shared screen' });
    this.audios = h('div', { id: 'remote-audio', hidden: true });
    this.root.replaceChildren(
      h('h3', { id: 'call-heading' }, 'Call ', this.status),
      h('div', { class: 'call-controls' },
        this.muteBtn, this.micBtn,
        h('label', {}, 'Microphone ', this.micSelect),
        h('label', {}, 'Speaker ', this.sinkSelect),
        this.shareBtn, this.handBtn, reactions, this.recordBtn, this.leaveBtn, this.endBtn),
      this.participants, this.reactionsLog, this.screen, this.audios);
    this.root.hidden = false;
    this.refreshDevices();
    this.update();
  }

  me() {
    return this.session.me();
  }

  // A recording that a stop request makes sense for.
  recordingActive() {
    const r = this.session.call && this.session.call.recording;
    return !!r && (r.state === 'initializing' || r.state === 'recording');
  }

  myMuted() {
    const me = this.me();
    return me ? me.muted : true;
  }

  myHand() {
    const me = this.me();
    return me ? me.hand_raised : false;
  }

  async refreshDevices() {
    let devices = [];
    try {
      devices = await navigator.mediaDevices.enumerateDevices();
    } catch {
      return;
    }
    const fill = (select, kind, current) => {
      const list = devices.filter((d) => d.kind === kind);
      select.replaceChildren(...list.map((d, i) => h('option', { value: d.deviceId, selected: d.deviceId === current },
        d.label || `${kind === 'audioinput' ? 'Microphone' : 'Speaker'} ${i + 1}`)));
      if (list.length === 0) select.append(h('option', { value: '' }, 'Default'));
    };
    fill(this.micSelect, 'audioinput', this.session.micDeviceId);
    fill(this.sinkSelect, 'audiooutput', this.sinkId);
    this.sinkSelect.disabled = !('setSinkId' in HTMLMediaElement.prototype);
  }

  async chooseSink(id) {
    this.sinkId = id;
    await Promise.all([...this.audios.querySelectorAll('audio')].map((a) => a.setSinkId(id)));
  }

  addRemoteTrack(track) {
    const stream = new MediaStream([track]);
    if (track.kind === 'audio') {
      const a = h('audio', { autoplay: true, 'data-track': track.id });
      a.srcObject = stream;
      if (this.sinkId && a.setSinkId) a.setSinkId(this.sinkId).catch(() => {});
      this.audios.append(a);
      track.addEventListener('ended', () => a.remove());
    } else {
      this.screen.srcObject = stream;
      track.addEventListener('ended', () => { if (this.screen.srcObject === stream) this.screen.srcObject = null; this.update(); });
      track.addEventListener('unmute', () => this.update());
      this.update();
    }
  }

  showReaction(d) {
    const name = this.names.get(d.user_id) || 'Someone';
    this.recentReactions.set(d.session_id, { emoji: d.emoji, until: Date.now() + REACTION_SHOWN_MS });
    this.reactionsLog.textContent = `${name} reacted ${d.emoji}`;
    this.update();
    setTimeout(() => this.update(), REACTION_SHOWN_MS + 50);
  }

  update() {
    const s = this.session;
    const call = s.call;
    if (!call) return;
    const me = this.me();
    const pc = s.pc;
    this.status.textContent = pc ? `(${pc.connectionState === 'connected' ? 'connected' : pc.connectionState})` : '';
    const muted = this.myMuted();
    this.muteBtn.textContent = muted ? 'Unmute' : 'Mute';
    this.muteBtn.setAttribute('aria-pressed', String(muted));
    this.micBtn.textContent = s.micOn ? 'Turn microphone off' : 'Turn microphone on';
    this.shareBtn.textContent = s.sharing ? 'Stop sharing' : 'Share screen';
    this.shareBtn.setAttribute('aria-pressed', String(s.sharing));
    this.shareBtn.disabled = !s.sharing && !!call.screen_sharer_id && call.screen_sharer_id !== this.userId;
    this.handBtn.textContent = this.myHand() ? 'Lower hand' : 'Raise hand';
    this.handBtn.setAttribute('aria-pressed', String(this.myHand()));
    this.endBtn.hidden = !(call.host_id === this.userId || this.isAdmin);
    this.recordBtn.hidden = this.endBtn.hidden;
    const rec = call.recording && call.recording.state;
    this.recordBtn.textContent = this.recordingActive() ? 'Stop recording' : 'Record';
    this.recordBtn.setAttribute('aria-pressed', String(this.recordingActive()));
    this.recordBtn.disabled = rec === 'stopping';
    this.screen.hidden = !call.screen_sharer_id || !this.screen.srcObject || call.screen_sharer_id === this.userId;
    const now = Date.now();
    this.participants.replaceChildren(...call.participants.map((p) => {
      const tags = [];
      if (p.user_id === call.host_id) tags.push(h('span', { class: 'tag host', text: 'host' }));
      if (p.session_id === (me && me.session_id)) tags.push(h('span', { class: 'tag you', text: 'you' }));
      tags.push(h('span', { class: 'tag mic', text: p.muted ? '🔇 muted' : '🎙 unmuted' }));
      if (p.screen) tags.push(h('span', { class: 'tag screen', text: '🖥 sharing' }));
      if (p.hand_raised) tags.push(h('span', { class: 'tag hand', text: '✋ hand raised' }));
      if (!p.media && p.session_id !== (me && me.session_id)) tags.push(h('span', { class: 'tag', text: 'no media' }));
      const r = this.recentReactions.get(p.session_id);
      if (r && r.until > now) tags.push(h('span', { class: 'reaction', text: r.emoji }));
      const label = p.display_name || p.username;
      return h('li', {
        class: p.voice ? 'participant speaking' : 'participant',
        'data-user': p.username, 'data-muted': String(p.muted), 'data-hand': String(p.hand_raised),
        'data-speaking': String(p.voice), 'data-host': String(p.user_id === call.host_id),
        'aria-label': `${label}${p.user_id === call.host_id ? ', host' : ''}${p.muted ? ', muted' : ''}${p.voice ? ', speaking' : ''}${p.hand_raised ? ', hand raised' : ''}`,
      }, h('span', { class: 'name', text: label }), tags);
    }));
  }

  destroy() {
    navigator.mediaDevices.removeEventListener('devicechange', this.onDeviceChange);
    this.root.replaceChildren();
    this.root.hidden = true;
  }
}
