// SPDX-License-Identifier: MIT
// The recording banner everyone in the call sees: starting, in progress (with the time
// left once the server warns), stopping, failed with its reason. Hidden when there is no
// recording or it stopped.

import { $ } from './dom.js';

export function renderRecordingBanner(recording, warning) {
  const el = $('recording-banner');
  let text = '';
  let kind = '';
  const state = recording && recording.state;
  if (state === 'initializing') {
    kind = 'pending';
    text = recording.queue_position > 0
      ? `Recording is queued (position ${recording.queue_position})…`
      : 'Recording is starting…';
  } else if (state === 'recording') {
    kind = 'recording';
    text = '● Recording in progress: this call is being recorded.';
    if (warning) {
      const min = Math.max(1, Math.round(warning.remaining_s / 60));
      kind = 'warning';
      text += ` It stops in ${min} minute${min === 1 ? '' : 's'} (the recording length limit).`;
    }
  } else if (state === 'stopping') {
    kind = 'pending';
    text = 'Recording is stopping; the file will be posted in the call thread.';
  } else if (state === 'failed') {
    kind = 'failed';
    text = `Recording failed: ${recording.reason || 'no reason given'}.`;
  }
  el.hidden = !text;
  el.className = `banner ${kind}`;
  el.dataset.state = state || '';
  el.textContent = text;
}
