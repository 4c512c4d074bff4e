// SPDX-License-Identifier: MIT
// One call with media: the RTCPeerConnection toward the SFU, the local microphone and
// screen share, and the call state the server broadcasts (participants, host, hands,
// voice, recording). Emits "change" after every state change, "reaction" for
// user_reacted, "post" for post_created, "ended" when the call is over for us, and
// "remote-track" for a track the SFU forwards.
//
// Negotiation (docs/signaling.md): we send the first offer with `join`; afterwards the
// SFU offers whenever the tracks it forwards to us change, and we answer. The screen
// share rides on a video transceiver created up front, so starting or stopping a share
// is replaceTrack() plus screen_on/screen_off, with no renegotiation of our own.

import { SignalingError } from './ws.js';

export class CallSession extends EventTarget {
  constructor(signaling, channelId) {
    super();
    this.sig = signaling;
    this.channelId = channelId;
    this.call = null;
    this.sessionId = null;
    this.pc = null;
    this.micStream = null;
    this.screenStream = null;
    this.audioSender = null;
    this.videoSender = null;
    this.micDeviceId = '';
    this.connected = false;
    this.handlers = [];
    this.negotiation = Promise.resolve();
  }

  get participants() {
    return this.call ? this.call.participants : [];
  }

  me() {
    return this.participants.find((p) => p.session_id === this.sessionId) || null;
  }

  // Joins (starting the call if none runs). The microphone is optional: without one we
  // still join, receive, and can share the screen.
  async join() {
    this.listen();
    this.pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle' });
    this.pc.addEventListener('connectionstatechange', () => this.onConnectionState());
    this.pc.addEventListener('icecandidate', (ev) => this.onIceCandidate(ev));
    this.pc.addEventListener('track', (ev) => {
      this.dispatchEvent(new CustomEvent('remote-track', { detail: { track: ev.track, streams: ev.streams } }));
    });
    const audio = this.pc.addTransceiver('audio', { direction: 'sendrecv' });
    this.audioSender = audio.sender;
    const video = this.pc.addTransceiver('video', { direction: 'sendrecv' });
    this.videoSender = video.sender;
    try {
      await this.openMic(this.micDeviceId);
    } catch (e) {
      this.emitNotice(`No microphone: ${e.message}. You can still listen and share your screen.`);
    }
    const offer = await this.pc.createOffer();
    await this.pc.setLocalDescription(offer);
    let joined;
    try {
      joined = await this.sig.request('join', { channel_id: this.channelId, sdp: this.pc.localDescription.sdp }, ['joined']);
    } catch (e) {
      this.teardown();
      throw e;
    }
    this.sessionId = joined.session_id;
    this.call = joined.call;
    if (joined.ice_servers && joined.ice_servers.length) {
      try {
        this.pc.setConfiguration({ ...this.pc.getConfiguration(), iceServers: joined.ice_servers });
      } catch (e) {
        console.warn('ice servers not applied:', e.message);
      }
    }
    this.changed();
    return this.call;
  }

  listen() {
    const on = (type, fn) => {
      const h = (ev) => fn.call(this, ev.detail);
      this.sig.addEventListener(type, h);
      this.handlers.push([type, h]);
    };
    on('signal', this.onSignal);
    on('user_joined', (d) => { this.upsert(d.participant); });
    on('user_left', (d) => {
      if (!this.call) return;
      this.call.participants = this.call.participants.filter((p) => p.session_id !== d.session_id);
      if (d.session_id === this.sessionId) this.finish('left');
      else this.changed();
    });
    const flag = (type, field, value) => on(type, (d) => this.patch(d.session_id, { [field]: value }));
    flag('user_muted', 'muted', true);
    flag('user_unmuted', 'muted', false);
    flag('user_voice_on', 'voice', true);
    flag('user_voice_off', 'voice', false);
    flag('user_lowered_hand', 'hand_raised', false);
    on('user_raised_hand', (d) => this.patch(d.session_id, { hand_raised: true, hand_raised_at: d.raised_at }));
    on('user_screen_on', (d) => {
      if (this.call) this.call.screen_sharer_id = d.user_id;
      this.patch(d.session_id, { screen: true });
    });
    on('user_screen_off', (d) => {
      if (this.call && this.call.screen_sharer_id === d.user_id) this.call.screen_sharer_id = null;
      this.patch(d.session_id, { screen: false });
    });
    on('user_reacted', (d) => this.dispatchEvent(new CustomEvent('reaction', { detail: d })));
    on('call_host_changed', (d) => {
      if (this.call && d.call_id === this.call.id) {
        this.call.host_id = d.host_id;
        this.changed();
      }
    });
    on('call_end', (d) => {
      if (this.call && d.call_id === this.call.id) this.finish(d.reason);
    });
    on('post_created', (d) => this.dispatchEvent(new CustomEvent('post', { detail: d.post })));
    on('recording_state', (d) => {
      if (this.call && d.call_id === this.call.id) {
        this.call.recording = d.recording;
        this.recordingWarning = null;
        this.changed();
      }
    });
    on('recording_warning', (d) => {
      if (this.call && d.call_id === this.call.id) {
        this.recordingWarning = d;
        this.changed();
      }
    });
    on('close', () => { if (this.call) this.finish('disconnected'); });
  }

  upsert(p) {
    if (!this.call) return;
    const i = this.call.participants.findIndex((x) => x.session_id === p.session_id);
    if (i >= 0) this.call.participants[i] = p;
    else this.call.participants.push(p);
    this.changed();
  }

  patch(sessionId, fields) {
    const p = this.participants.find((x) => x.session_id === sessionId);
    if (!p) return;
    Object.assign(p, fields);
    this.changed();
  }

  changed() {
    this.dispatchEvent(new Event('change'));
  }

  emitNotice(text, isError = false) {
    this.dispatchEvent(new CustomEvent('notice', { detail: { text, isError } }));
  }

  // SFU offers and answers are applied one at a time, in arrival order.
  onSignal(d) {
    this.negotiation = this.negotiation.then(async () => {
      if (!this.pc) return;
      try {
        if (d.sdp) {
          await this.pc.setRemoteDescription(d.sdp);
          if (d.sdp.type === 'offer') {
            const answer = await this.pc.createAnswer();
            await this.pc.setLocalDescription(answer);
            this.sig.send('sdp', { type: 'answer', sdp: this.pc.localDescription.sdp });
          }
        } else if (d.candidate && d.candidate.candidate) {
          await this.pc.addIceCandidate(d.candidate);
        }
      } catch (e) {
        console.error('negotiation failed:', e);
        this.emitNotice(`Media negotiation failed: ${e.message}`, true);
      }
    });
  }

  onIceCandidate(ev) {
    if (!this.sig.open || !this.call) return;
    const c = ev.candidate;
    const data = { candidate: c ? c.candidate : '' };
    if (c && c.sdpMid != null) data.sdp_mid = c.sdpMid;
    if (c && c.sdpMLineIndex != null) data.sdp_mline_index = c.sdpMLineIndex;
    try {
      this.sig.send('ice', data);
    } catch {
      // closed: the call ends with the socket
    }
  }

  onConnectionState() {
    const state = this.pc ? this.pc.connectionState : 'closed';
    if (state === 'connected' && !this.connected) {
      this.connected = true;
      console.log('rtc connected');
    } else if (state === 'failed') {
      this.emitNotice('The media connection failed: you may not hear or be heard.', true);
    }
    this.changed();
  }

  // ---- microphone ----

  async openMic(deviceId) {
    const constraints = { audio: deviceId ? { deviceId: { exact: deviceId } } : true };
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    const track = stream.getAudioTracks()[0];
    const old = this.micStream;
    const muted = this.me() ? this.me().muted : true;
    track.enabled = !muted;
    await this.audioSender.replaceTrack(track);
    this.micStream = stream;
    this.micDeviceId = track.getSettings().deviceId || deviceId || '';
    if (old) old.getTracks().forEach((t) => t.stop());
    this.changed();
  }

  get micOn() {
    return !!this.micStream;
  }

  async setMicOn(on) {
    if (on && !this.micStream) {
      await this.openMic(this.micDeviceId);
    } else if (!on && this.micStream) {
      await this.setMuted(true);
      await this.audioSender.replaceTrack(null);
      this.micStream.getTracks().forEach((t) => t.stop());
      this.micStream = null;
      this.changed();
    }
  }

  async chooseMic(deviceId) {
    if (this.micStream) await this.openMic(deviceId);
    else this.micDeviceId = deviceId;
  }

  // The server enforces mute (it drops our audio); the local track is disabled too so
  // that nothing leaves this machine while muted.
  async setMuted(muted) {
    if (!muted && !this.micStream) await this.openMic(this.micDeviceId);
    if (this.micStream) this.micStream.getAudioTracks().forEach((t) => { t.enabled = !muted; });
    this.sig.send(muted ? 'mute' : 'unmute');
  }

  // ---- screen share ----

  get sharing() {
    return !!this.screenStream;
  }

  async startScreenShare() {
    if (this.screenStream) return;
    const stream = await navigator.mediaDevices.getDisplayMedia({ video: true, audio: false });
    const track = stream.getVideoTracks()[0];
    track.addEventListener('ended', () => this.stopScreenShare());
    try {
      await this.videoSender.replaceTrack(track);
      this.screenStream = stream;
      await this.sig.request('screen_on', undefined, ['user_screen_on']);
    } catch (e) {
      stream.getTracks().forEach((t) => t.stop());
      this.screenStream = null;
      await this.videoSender.replaceTrack(null);
      this.changed();
      throw e;
    }
    this.changed();
  }

  async stopScreenShare() {
    if (!this.screenStream) return;
    this.screenStream.getTracks().forEach((t) => t.stop());
    this.screenStream = null;
    if (this.videoSender) await this.videoSender.replaceTrack(null);
    if (this.sig.open && this.call) this.sig.send('screen_off');
    this.changed();
  }

  // ---- the rest ----

  setHand(raised) {
    this.sig.send(raised ? 'raise_hand' : 'lower_hand');
  }

  react(emoji) {
    this.sig.send('react', { emoji });
  }

  async leave() {
    if (this.sig.open && this.call) {
      try {
        await this.sig.request('leave', undefined, ['user_left']);
      } catch (e) {
        if (!(e instanceof SignalingError)) throw e;
      }
    }
    this.finish('left');
  }

  finish(reason) {
    if (!this.call && !this.pc) return;
    const call = this.call;
    this.teardown();
    this.dispatchEvent(new CustomEvent('ended', { detail: { reason, call } }));
  }

  teardown() {
    for (const [type, h] of this.handlers) this.sig.removeEventListener(type, h);
    this.handlers = [];
    if (this.micStream) this.micStream.getTracks().forEach((t) => t.stop());
    if (this.screenStream) this.screenStream.getTracks().forEach((t) => t.stop());
    this.micStream = null;
    this.screenStream = null;
    if (this.pc) this.pc.close();
    this.pc = null;
    this.call = null;
  }
}
