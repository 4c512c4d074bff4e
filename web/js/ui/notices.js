// SPDX-License-Identifier: MIT
// Messages only the caller sees (the answers to /call link and /call stats, command
// errors), shown above the message box; the newest few are kept.

import { h, $ } from './dom.js';

const MAX = 4;

export function showNotice(text, { isError = false, pre = null, label = 'Only visible to you' } = {}) {
  const box = $('notices');
  const el = h('div', { class: isError ? 'notice error' : 'notice', 'data-kind': isError ? 'error' : 'info' },
    h('span', { class: 'label', text: label }),
    h('span', { class: 'notice-text', text }),
    pre !== null ? h('pre', { class: 'notice-pre', text: pre }) : null,
    h('button', { type: 'button', text: 'Dismiss', onclick: () => el.remove() }));
  box.append(el);
  while (box.children.length > MAX) box.firstElementChild.remove();
  return el;
}

export function clearNotices() {
  $('notices').replaceChildren();
}
