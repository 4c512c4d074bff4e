// SPDX-License-Identifier: MIT
// The channel list in the sidebar: one button per channel, the current one marked
// (aria-current), channels with a running call marked.

import { h, $ } from './dom.js';

export function channelLabel(ch) {
  return ch.display_name || ch.name;
}

export function renderChannels(channels, currentId, callChannels, onSelect) {
  const list = $('channel-list');
  list.replaceChildren(...channels.map((ch) => {
    const classes = [ch.archived ? 'archived' : '', callChannels.has(ch.id) ? 'in-call' : ''].filter(Boolean).join(' ');
    return h('li', {},
      h('button', {
        type: 'button', class: classes, 'data-channel': ch.name, 'data-channel-id': ch.id,
        'aria-current': ch.id === currentId ? 'true' : 'false', onclick: () => onSelect(ch),
        title: ch.archived ? 'archived' : undefined,
      }, `${ch.type === 'private' ? '🔒 ' : '# '}${channelLabel(ch)}`));
  }));
  if (channels.length === 0) list.append(h('li', { text: 'You are in no channel yet.' }));
}
