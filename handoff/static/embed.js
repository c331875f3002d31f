/*
 * The support chat on any site, from one tag:
 *
 *   <script src="https://support.example.com/static/embed.js" async
 *           data-language="ja" data-color="#0b7a4b" data-position="left"></script>
 *
 * data-language  ko | ja | en (default: the visitor's browser language)
 * data-color     the brand colour, #rrggbb (default: the widget's own)
 * data-position  right | left (default: right)
 *
 * The script adds a launcher button in a shadow root (the host page's CSS cannot
 * reach it) and, on the first click, the widget page (/) of the gateway the script came
 * from in an iframe: the chat runs on the gateway's origin, under its own CSP, with
 * nothing shared with the host page. The gateway must list the host's origin in
 * ASSISTANT_WIDGET_FRAME_ORIGINS (CSP frame-ancestors), or the browser shows no chat.
 *
 * `window.maruSupport.open()` / `.close()` let the host page open or close it.
 *
 * A signed-in customer (README, Customer API: the host's back end signs the identity with
 * the secret it shares with the gateway, `python -m handoff sign-identity` shows how):
 *
 *   <script src="…/static/embed.js" async data-user-id="cust-42" data-user-email="…"
 *           data-user-name="…" data-identity-expires="1767225600"
 *           data-identity-signature="9f2c…"></script>
 *
 * or `window.maruSupport.identify({id, email, name, expires, signature})` (before the chat
 * opens, or again after a sign-in or sign-out: `identify(null)`; the chat then starts
 * afresh). The identity goes to the chat's frame by postMessage, to the gateway's origin
 * only, never in the frame's URL (URLs end up in logs and history). A verified customer
 * sees their earlier conversations from any device; a refused identity (bad signature,
 * expired) leaves an anonymous chat and a console warning naming the reason.
 * No dependencies, no build step, no HTML strings: served as-is.
 */
(function () {
  'use strict';

  const script = document.currentScript;
  if (!script || window.maruSupport) return; // loaded twice: the first one stays

  const LANGUAGES = ['ko', 'ja', 'en'];
  const LABELS = {
    open: { ko: '고객센터 채팅 열기', ja: 'サポートチャットを開く', en: 'Open the support chat' },
    close: { ko: '고객센터 채팅 닫기', ja: 'サポートチャットを閉じる', en: 'Close the support chat' },
    frame: { ko: '마루 스토어 고객센터 채팅', ja: 'マルストア サポートチャット', en: 'Maru Store support chat' },
  };
  const COLOUR = /^#[0-9a-fA-F]{6}$/;
  const CLOSE_MESSAGE = 'maru-support:close'; // posted by widget.js when embedded
  const READY_MESSAGE = 'maru-support:ready'; // widget.js: send me the identity now
  const IDENTITY_MESSAGE = 'maru-support:identity';

  const origin = new URL(script.src, location.href).origin;
  const options = script.dataset;
  const forced = LANGUAGES.includes(options.language) ? options.language : '';
  const language = forced || browserLanguage();
  const colour = COLOUR.test(options.color || '') ? options.color : '';
  const side = options.position === 'left' ? 'left' : 'right';
  let identity = identityOf({
    id: options.userId, email: options.userEmail, name: options.userName,
    expires: options.identityExpires, signature: options.identitySignature,
  });

  /** Only the five fields, as strings and a whole number; null when there is no signature
     (the widget and the gateway check the rest and say what is wrong). */
  function identityOf(value) {
    if (!value || typeof value !== 'object' || !value.signature) return null;
    const text = (v) => (v === undefined || v === null ? '' : String(v));
    return {
      id: text(value.id), email: text(value.email), name: text(value.name),
      expires: Number(value.expires), signature: text(value.signature),
    };
  }

  function browserLanguage() {
    const raw = (navigator.language || 'en').toLowerCase();
    return LANGUAGES.find((code) => raw.startsWith(code)) || 'en';
  }

  // The host element's own box: inline and !important, which no selector of the host page
  // outranks; everything inside lives in the shadow root.
  const host = document.createElement('maru-support');
  const box = { position: 'fixed', bottom: '20px', [side]: '20px', 'z-index': '2147483000',
    display: 'block', margin: '0', padding: '0', border: '0', width: 'auto', height: 'auto' };
  for (const [name, value] of Object.entries(box)) host.style.setProperty(name, value, 'important');

  const root = host.attachShadow({ mode: 'open' });
  const css = `
    :host { all: initial; }
    * { box-sizing: border-box; }
    .launcher {
      all: unset; box-sizing: border-box; display: flex; align-items: center;
      justify-content: center; width: 56px; height: 56px; border-radius: 50%;
      background: ${colour || '#1f6f8b'}; color: #fff; cursor: pointer;
      box-shadow: 0 4px 14px rgba(0, 0, 0, 0.25);
    }
    .launcher:focus-visible { outline: 3px solid #111; outline-offset: 3px; }
    .launcher svg { width: 28px; height: 28px; fill: currentColor; }
    .panel {
      position: absolute; bottom: 68px; ${side}: 0;
      width: min(380px, calc(100vw - 40px)); height: min(620px, calc(100vh - 110px));
      border-radius: 12px; overflow: hidden; background: #fff;
      box-shadow: 0 8px 28px rgba(0, 0, 0, 0.3);
    }
    .panel[hidden] { display: none; }
    iframe { display: block; width: 100%; height: 100%; border: 0; }
  `;
  if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function') {
    const sheet = new CSSStyleSheet();
    sheet.replaceSync(css);
    root.adoptedStyleSheets = [sheet];
  } else {
    const style = document.createElement('style');
    style.textContent = css;
    root.append(style);
  }

  const panel = document.createElement('div');
  panel.className = 'panel';
  panel.id = 'panel';
  panel.hidden = true;

  const launcher = document.createElement('button');
  launcher.type = 'button';
  launcher.className = 'launcher';
  launcher.setAttribute('aria-controls', 'panel');
  launcher.append(chatIcon());
  root.append(panel, launcher);

  let frame = null;

  function chatIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const svg = document.createElementNS(ns, 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS(ns, 'path');
    path.setAttribute('d', 'M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z');
    svg.append(path);
    return svg;
  }

  function label(key) {
    return LABELS[key][language];
  }

  function render(open) {
    panel.hidden = !open;
    launcher.setAttribute('aria-expanded', String(open));
    launcher.setAttribute('aria-label', label(open ? 'close' : 'open'));
    launcher.title = label(open ? 'close' : 'open');
  }

  function open() {
    if (!frame) {
      // Made on the first open: the widget starts a conversation as soon as it loads.
      const query = new URLSearchParams({ embed: '1' });
      // Only that an identity is coming (the widget waits for it): never the identity.
      if (identity) query.set('identity', '1');
      if (forced) query.set('lang', forced);
      if (colour) query.set('color', colour);
      frame = document.createElement('iframe');
      frame.src = `${origin}/?${query}`;
      frame.title = label('frame');
      panel.append(frame);
    }
    render(true);
    frame.focus();
  }

  function close() {
    render(false);
    launcher.focus();
  }

  /** A new identity (or none, after a sign-out): the chat starts afresh with it. */
  function identify(value) {
    identity = identityOf(value);
    if (!frame) return;
    frame.remove();
    frame = null;
    if (!panel.hidden) open();
  }

  launcher.addEventListener('click', () => (panel.hidden ? open() : close()));
  // Only the chat's own frame may close it (any page can post messages to this window).
  window.addEventListener('message', (event) => {
    if (!frame || event.source !== frame.contentWindow || event.origin !== origin) return;
    if (event.data && event.data.type === CLOSE_MESSAGE) close();
    // The targetOrigin: delivered only if the frame is still the gateway's page.
    if (event.data && event.data.type === READY_MESSAGE && identity) {
      frame.contentWindow.postMessage({ type: IDENTITY_MESSAGE, identity }, origin);
    }
  });

  render(false);
  (document.body || document.documentElement).append(host);
  window.maruSupport = { open, close, identify };
})();
