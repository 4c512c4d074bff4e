// SPDX-License-Identifier: MIT
// The client's WebRTC statistics as one JSON object, the way `/call stats` shows them and
// POSTs them (the server takes at most 64 KiB): every report of getStats() keyed by its
// id, minus the bulky certificate blobs, plus a summary of the audio and video bytes
// flowing each way.

const MAX_BYTES = 60000;
const KEEP_WHEN_LARGE = new Set(['inbound-rtp', 'outbound-rtp', 'remote-inbound-rtp', 'candidate-pair', 'transport', 'media-source']);

export async function collectStats(pc, extra = {}) {
  const reports = {};
  const summary = {
    audio_bytes_sent: 0, audio_bytes_received: 0, audio_packets_received: 0,
    video_bytes_sent: 0, video_bytes_received: 0, connection_state: pc ? pc.connectionState : 'closed',
  };
  if (pc) {
    const stats = await pc.getStats();
    stats.forEach((r) => {
      const copy = { ...r };
      delete copy.base64Certificate;
      reports[r.id] = copy;
      const kind = r.kind || r.mediaType;
      if (r.type === 'outbound-rtp' && kind) summary[`${kind}_bytes_sent`] += r.bytesSent || 0;
      if (r.type === 'inbound-rtp' && kind) {
        summary[`${kind}_bytes_received`] += r.bytesReceived || 0;
        if (kind === 'audio') summary.audio_packets_received += r.packetsReceived || 0;
      }
    });
  }
  const out = { collected_at: Date.now(), ...extra, summary, reports };
  if (JSON.stringify(out).length > MAX_BYTES) {
    for (const [id, r] of Object.entries(reports)) if (!KEEP_WHEN_LARGE.has(r.type)) delete reports[id];
    out.trimmed = true;
  }
  return out;
}
