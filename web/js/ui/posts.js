// SPDX-License-Identifier: MIT
// Posts: the channel's root posts and a thread (root + replies), each with its author,
// time, text and attachments. Rendering keeps already-shown posts (a video that is
// playing is not rebuilt when a new post arrives).

import { h, formatTime } from './dom.js';
import { renderAttachments } from './attachments.js';

function postElement(post, ctx) {
  const author = ctx.names.get(post.user_id) || post.user_id.slice(0, 8);
  const isCall = post.props && post.props.type === 'call';
  const actions = [];
  if (ctx.onOpenThread && !post.root_id)
    actions.push(h('button', { type: 'button', class: 'open-thread', onclick: () => ctx.onOpenThread(post) },
      isCall ? 'Open call thread' : 'Reply'));
  return h('li', { class: isCall ? 'post call-post' : 'post', 'data-post-id': post.id },
    h('div', { class: 'meta' },
      h('span', { class: 'author', text: author }),
      h('time', { datetime: new Date(post.created_at).toISOString(), text: formatTime(post.created_at) })),
    h('div', { class: 'body', text: post.message }),
    post.file_ids && post.file_ids.length ? renderAttachments(ctx.api, post.file_ids) : null,
    actions.length ? h('div', { class: 'actions' }, actions) : null);
}

// Shows @posts (oldest first) in @list, adding only those not yet shown.
export function renderPosts(list, posts, ctx, { reset = false } = {}) {
  if (reset) list.replaceChildren();
  const shown = new Set([...list.children].map((li) => li.dataset.postId));
  const atBottom = list.parentElement.scrollHeight - list.parentElement.scrollTop - list.parentElement.clientHeight < 40;
  for (const post of posts) {
    if (shown.has(post.id)) continue;
    list.append(postElement(post, ctx));
    shown.add(post.id);
  }
  if (reset || atBottom) list.lastElementChild?.scrollIntoView({ block: 'end' });
  if (list.children.length === 0) list.append(h('li', { class: 'post empty', 'data-post-id': '', text: 'No messages yet.' }));
  else list.querySelector('.empty')?.remove();
}
