// SPDX-License-Identifier: MIT
// The sign-in form: a token, checked against GET /users/me before it is kept.

import { $ } from './dom.js';
import { Api } from '../api.js';

const MESSAGES = {
  invalid_token: 'That token is not valid. Check that you pasted all of it.',
  user_deactivated: 'This account is deactivated. Ask an administrator.',
  rate_limited: 'Too many failed attempts from this address. Wait a minute and try again.',
};

// Resolves with {token, user} once a token works.
export function showSignIn(reason = '') {
  $('signin-view').hidden = false;
  $('app-view').hidden = true;
  $('whoami').hidden = true;
  const form = $('signin-form');
  const input = $('token');
  const error = $('signin-error');
  error.textContent = reason;
  input.value = '';
  input.focus();
  return new Promise((resolve) => {
    const onSubmit = async (ev) => {
      ev.preventDefault();
      const token = input.value.trim();
      if (!token) {
        error.textContent = 'Enter your access token.';
        input.setAttribute('aria-invalid', 'true');
        return;
      }
      error.textContent = 'Checking…';
      try {
        const user = await new Api(token).me();
        input.removeAttribute('aria-invalid');
        error.textContent = '';
        form.removeEventListener('submit', onSubmit);
        $('signin-view').hidden = true;
        resolve({ token, user });
      } catch (e) {
        input.setAttribute('aria-invalid', 'true');
        error.textContent = MESSAGES[e.code] || `Sign-in failed: ${e.message}`;
      }
    };
    form.addEventListener('submit', onSubmit);
  });
}
