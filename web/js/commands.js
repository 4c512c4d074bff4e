// SPDX-License-Identifier: MIT
// The message box's slash commands, parsed without side effects (main.js runs them).
// They mirror the CLI: `/call start|join|leave|end|link|stats` and
// `/call recording start|stop`, always about the current channel.

export const CALL_USAGE = 'usage: /call start|join|leave|end|link|stats, /call recording start|stop';

const CALL_SUBCOMMANDS = new Set(['start', 'join', 'leave', 'end', 'link', 'stats']);

// Returns null for an ordinary message (to be posted as it is), otherwise
// {command: 'call', action} or {error: text}. "//text" posts "/text" literally.
export function parseCommand(text) {
  const trimmed = text.trim();
  if (!trimmed.startsWith('/') || trimmed.startsWith('//')) return null;
  const words = trimmed.slice(1).split(/\s+/).filter(Boolean);
  const [name, ...args] = words;
  if (!name) return { error: `empty command; ${CALL_USAGE}` };
  if (name !== 'call') return { error: `unknown command '/${name}'; ${CALL_USAGE} (start a message with // to post a slash)` };
  if (args.length === 0) return { error: `missing subcommand; ${CALL_USAGE}` };
  const [sub, ...rest] = args;
  if (sub === 'recording') {
    if (rest.length !== 1 || (rest[0] !== 'start' && rest[0] !== 'stop'))
      return { error: 'usage: /call recording start|stop' };
    return { command: 'call', action: `recording-${rest[0]}` };
  }
  if (!CALL_SUBCOMMANDS.has(sub)) return { error: `unknown subcommand '${sub}'; ${CALL_USAGE}` };
  if (rest.length) return { error: `'/call ${sub}' takes no arguments (it acts on this channel)` };
  return { command: 'call', action: sub };
}

// What a message that starts with "//" posts.
export function literalText(text) {
  const t = text.trim();
  return t.startsWith('//') ? t.slice(1) : text;
}
