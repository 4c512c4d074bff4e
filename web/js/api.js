// SPDX-License-Identifier: MIT
// The REST API (docs/api.md) over fetch: one function per endpoint the client uses.
// Every failure becomes an ApiError carrying the server's code and message, which the UI
// shows as they are.

export class ApiError extends Error {
  constructor(status, code, message, field) {
    super(message);
    this.name = 'ApiError';
    this.status = status;
    this.code = code;
    this.field = field;
  }
}

const BASE = '/api/v1';
const enc = encodeURIComponent;

export class Api {
  constructor(token) {
    this.token = token;
  }

  async request(method, path, { body, raw, contentType } = {}) {
    const headers = { Authorization: `Bearer ${this.token}` };
    let payload;
    if (raw !== undefined) {
      payload = raw;
      headers['Content-Type'] = contentType || 'application/octet-stream';
    } else if (body !== undefined) {
      payload = JSON.stringify(body);
      headers['Content-Type'] = 'application/json';
    } else if (method !== 'GET' && method !== 'DELETE') {
      // Endpoints "with no body" still get a Content-Length: the server refuses chunked.
      payload = '';
    }
    let res;
    try {
      res = await fetch(BASE + path, { method, headers, body: payload, cache: 'no-store' });
    } catch (e) {
      throw new ApiError(0, 'network', `cannot reach the server (${e.message})`);
    }
    if (res.status === 204) return null;
    const text = await res.text();
    let json = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // a proxy's HTML error page, say
    }
    if (!res.ok) {
      const err = json && json.error;
      if (err) throw new ApiError(res.status, err.code, err.message, err.field);
      throw new ApiError(res.status, 'http_' + res.status, `the server answered ${res.status} ${res.statusText}`);
    }
    return json;
  }

  me() { return this.request('GET', '/users/me'); }
  channels() { return this.request('GET', '/channels'); }
  channel(ch) { return this.request('GET', `/channels/${enc(ch)}`); }
  members(ch) { return this.request('GET', `/channels/${enc(ch)}/members`); }

  posts(ch, { rootId, after, limit } = {}) {
    const q = new URLSearchParams();
    if (rootId) q.set('root_id', rootId);
    if (after) q.set('after', String(after));
    if (limit) q.set('limit', String(limit));
    const qs = q.toString();
    return this.request('GET', `/channels/${enc(ch)}/posts${qs ? '?' + qs : ''}`);
  }

  createPost(ch, message, { rootId, fileIds, props } = {}) {
    const body = { message };
    if (rootId) body.root_id = rootId;
    if (fileIds && fileIds.length) body.file_ids = fileIds;
    if (props) body.props = props;
    return this.request('POST', `/channels/${enc(ch)}/posts`, { body });
  }

  uploadFile(ch, file) {
    return this.request('POST', `/channels/${enc(ch)}/files?name=${enc(file.name)}`,
      { raw: file, contentType: file.type || 'application/octet-stream' });
  }

  fileInfo(id) { return this.request('GET', `/files/${enc(id)}/info`); }

  call(ch) { return this.request('GET', `/calls/${enc(ch)}`); }
  endCall(ch) { return this.request('POST', `/calls/${enc(ch)}/end`); }
  leaveCall(ch) { return this.request('POST', `/calls/${enc(ch)}/leave`); }
  callLink(ch) { return this.request('GET', `/channels/${enc(ch)}/call-link`); }
  postStats(ch, stats) { return this.request('POST', `/calls/${enc(ch)}/stats`, { body: stats }); }
  getStats(ch) { return this.request('GET', `/calls/${enc(ch)}/stats`); }
  recording(ch, action) { return this.request('POST', `/calls/${enc(ch)}/recording/${action}`); }
}

// The URL of a file's bytes. <video>/<img>/<a> cannot send a bearer header: the service
// worker (sw.js) adds it to same-origin requests under /api/v1/files/.
export function fileUrl(id) {
  return `${BASE}/files/${enc(id)}`;
}
