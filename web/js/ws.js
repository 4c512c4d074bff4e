// SPDX-License-Identifier: MIT
// The signaling WebSocket (docs/signaling.md): authenticates with a first `auth`
// message, then delivers every server message as an event named by its type
// ("user_joined", "signal", "error", …) whose detail is the message's data. `request()`
// sends a message and resolves on the first of the given reply types, or rejects on an
// `error` naming its seq.

export class SignalingError extends Error {
  constructor(code, message) {
    super(message);
    this.name = 'SignalingError';
    this.code = code;
  }
}

export class Signaling extends EventTarget {
  constructor(token) {
    super();
    this.token = token;
    this.ws = null;
    this.seq = 0;
    this.pending = new Map(); // seq -> {types, resolve, reject}
    this.user = null;
    this.closedByUs = false;
  }

  connect() {
    const proto = location.protocol === 'https:' ? 'wss:' : 'ws:';
    this.closedByUs = false;
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`${proto}//${location.host}/api/v1/websocket`);
      this.ws = ws;
      let authed = false;
      ws.addEventListener('open', () => {
        this.request('auth', { token: this.token }, ['hello']).then((hello) => {
          authed = true;
          this.user = hello.user;
          resolve(hello);
        }, reject);
      });
      ws.addEventListener('message', (ev) => this.onMessage(ev.data));
      ws.addEventListener('close', (ev) => {
        for (const p of this.pending.values())
          p.reject(new SignalingError('closed', `the signaling connection closed (${ev.code})`));
        this.pending.clear();
        if (!authed) reject(new SignalingError('closed', `cannot open the signaling connection (${ev.code})`));
        this.dispatchEvent(new CustomEvent('close', { detail: { code: ev.code, byUs: this.closedByUs } }));
      });
    });
  }

  get open() {
    return this.ws && this.ws.readyState === WebSocket.OPEN;
  }

  send(type, data) {
    if (!this.open) throw new SignalingError('closed', 'not connected to the server');
    const seq = ++this.seq;
    const msg = { type, seq };
    if (data !== undefined) msg.data = data;
    this.ws.send(JSON.stringify(msg));
    return seq;
  }

  // Resolves with the data of the first message of one of @types that arrives after the
  // send; rejects with the server's `error` about this message.
  request(type, data, types) {
    return new Promise((resolve, reject) => {
      let seq;
      try {
        seq = this.send(type, data);
      } catch (e) {
        reject(e);
        return;
      }
      this.pending.set(seq, { types, resolve, reject });
    });
  }

  onMessage(text) {
    let msg;
    try {
      msg = JSON.parse(text);
    } catch {
      console.warn('signaling: a message that is not JSON');
      return;
    }
    if (!msg || typeof msg.type !== 'string') return;
    const data = msg.data || {};
    if (msg.type === 'error' && data.seq !== undefined && this.pending.has(data.seq)) {
      const p = this.pending.get(data.seq);
      this.pending.delete(data.seq);
      p.reject(new SignalingError(data.code, data.message));
      return;
    }
    for (const [seq, p] of this.pending) {
      if (p.types.includes(msg.type)) {
        this.pending.delete(seq);
        p.resolve(data);
        break;
      }
    }
    this.dispatchEvent(new CustomEvent(msg.type, { detail: data }));
  }

  close() {
    this.closedByUs = true;
    if (this.ws) this.ws.close(1000);
  }
}
