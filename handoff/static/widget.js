/*
 * Maru Store customer chat widget.
 *
 * REST creates and reads a conversation; one WebSocket carries everything live.
 * Server text is only ever inserted with textContent / text nodes, never as HTML.
 * No dependencies and no build step: this file is served as-is.
 */
(function () {
  'use strict';

  const SESSION_KEY = 'maru-chat';          // {conversation_id, token}
  const OUTBOX_KEY = 'maru-chat-outbox';    // {conversation_id, entries: [...]} not yet acked
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 8000;
  const TYPING_TIMEOUT_MS = 30000;          // hide the dots if "typing off" never arrives
  const RESTART_GUARD_MS = 5000;            // don't recreate conversations in a tight loop
  const ROLES = ['customer', 'bot', 'agent', 'system'];

  const STRINGS = {
    en: {
      title: 'Maru Store support', closeEmbed: 'Close the support chat', placeholder: 'Type your message…', send: 'Send',
      reconnecting: 'Reconnecting…', newConversation: 'New conversation', agent: 'Agent',
      typing: 'Typing…', sending: 'Sending…', failed: 'Not sent',
      suggested: 'Suggested articles',
      popular: 'Popular questions',
      notices: 'Service notices', dismiss: 'Dismiss this notice',
      error: 'Something went wrong. Please try again.',
      slowDown: 'You are sending messages very fast. Please wait a moment, then send that again.',
      waitingAgent: 'Waiting for an agent…', assigned: 'You are chatting with an agent',
      assignedTo: (name) => `You are chatting with ${name}`,
      resolved: 'This conversation has been resolved',
      queue: (pos, wait) => `You are #${pos} in the queue` + (wait ? `, ${wait}` : ''),
      wait: (min) => (min < 1 ? 'less than a minute' : `about ${min} min`),
      earlier: (n) => `Earlier conversations (${n})`, backToChat: 'Back to the chat',
      earlierTitle: (date) => `Conversation of ${date}`,
      readOnly: 'An earlier conversation: you can read it here; to write, go back to the chat.',
      attach: 'Attach an image or a PDF', uploading: 'Sending the file…',
      tooBig: (mb) => `That file is too large. Please send one under ${mb} MB.`,
      wrongType: 'Only images (JPEG, PNG, GIF, WebP) and PDF files can be sent.',
      uploadFailed: 'The file could not be sent. Please try again.',
      slowFiles: 'You are sending files very fast. Please wait a moment.',
      download: (name) => `Download ${name}`, imageAlt: (name) => `Image: ${name}`,
      emailMe: 'Email me this answer', emailLabel: 'Your email address', emailSend: 'Send',
      emailCancel: 'Cancel', emailSending: 'Sending…', emailSent: (to) => `Sent to ${to}`,
      emailInvalid: 'Please enter an email address like name@example.com.',
      emailSlow: 'You have asked for several emails in a short time. Please try again later.',
      emailFailed: 'The email could not be sent. Please try again.',
    },
    ko: {
      title: '마루 스토어 고객센터', closeEmbed: '고객센터 채팅 닫기', placeholder: '메시지를 입력하세요…', send: '보내기',
      reconnecting: '다시 연결하는 중…', newConversation: '새 대화', agent: '상담원',
      typing: '입력 중…', sending: '보내는 중…', failed: '전송 실패',
      suggested: '추천 도움말',
      popular: '자주 묻는 질문',
      notices: '서비스 안내', dismiss: '이 안내 닫기',
      error: '문제가 발생했습니다. 다시 시도해 주세요.',
      slowDown: '메시지를 너무 빠르게 보내고 있어요. 잠시 후 다시 보내 주세요.',
      waitingAgent: '상담원 연결을 기다리는 중입니다…', assigned: '상담원과 연결되었습니다',
      assignedTo: (name) => `상담원 ${name}님과 연결되었습니다`,
      resolved: '상담이 종료되었습니다',
      queue: (pos, wait) => `현재 대기 순번 ${pos}번` + (wait ? ` · ${wait}` : ''),
      wait: (min) => (min < 1 ? '1분 이내' : `약 ${min}분`),
      earlier: (n) => `이전 대화 (${n})`, backToChat: '대화로 돌아가기',
      earlierTitle: (date) => `${date} 대화`,
      readOnly: '이전 대화는 읽기만 할 수 있어요. 메시지를 보내려면 대화로 돌아가세요.',
      attach: '이미지 또는 PDF 첨부', uploading: '파일을 보내는 중…',
      tooBig: (mb) => `파일이 너무 커요. ${mb}MB 이하의 파일을 보내 주세요.`,
      wrongType: '이미지(JPEG, PNG, GIF, WebP)와 PDF 파일만 보낼 수 있어요.',
      uploadFailed: '파일을 보내지 못했어요. 다시 시도해 주세요.',
      slowFiles: '파일을 너무 빠르게 보내고 있어요. 잠시 후 다시 보내 주세요.',
      download: (name) => `${name} 내려받기`, imageAlt: (name) => `이미지: ${name}`,
      emailMe: '이 답변 메일로 받기', emailLabel: '이메일 주소', emailSend: '보내기',
      emailCancel: '취소', emailSending: '보내는 중…', emailSent: (to) => `${to}(으)로 보냈어요`,
      emailInvalid: 'name@example.com 형식의 이메일 주소를 입력해 주세요.',
      emailSlow: '짧은 시간에 메일을 여러 번 요청하셨어요. 잠시 후 다시 시도해 주세요.',
      emailFailed: '메일을 보내지 못했어요. 다시 시도해 주세요.',
    },
    ja: {
      title: 'マルストア サポート', closeEmbed: 'サポートチャットを閉じる', placeholder: 'メッセージを入力…', send: '送信',
      reconnecting: '再接続中…', newConversation: '新しい会話', agent: 'オペレーター',
      typing: '入力中…', sending: '送信中…', failed: '送信できませんでした',
      suggested: 'おすすめの記事',
      popular: 'よくある質問',
      notices: 'サービスのお知らせ', dismiss: 'このお知らせを閉じる',
      error: 'エラーが発生しました。もう一度お試しください。',
      slowDown: 'メッセージの送信が速すぎます。少し待ってからもう一度送信してください。',
      waitingAgent: 'オペレーターにおつなぎしています…', assigned: 'オペレーターにつながりました',
      assignedTo: (name) => `担当者の${name}につながりました`,
      resolved: 'このお問い合わせは解決済みです',
      queue: (pos, wait) => `現在${pos}番目にお待ちいただいています` + (wait ? `（${wait}）` : ''),
      wait: (min) => (min < 1 ? '1分以内' : `約${min}分`),
      earlier: (n) => `以前の会話（${n}件）`, backToChat: 'チャットに戻る',
      earlierTitle: (date) => `${date}の会話`,
      readOnly: '以前の会話は閲覧のみです。メッセージを送るにはチャットに戻ってください。',
      attach: '画像またはPDFを添付', uploading: 'ファイルを送信中…',
      tooBig: (mb) => `ファイルが大きすぎます。${mb}MB以下のファイルを送ってください。`,
      wrongType: '送信できるのは画像（JPEG、PNG、GIF、WebP）とPDFファイルのみです。',
      uploadFailed: 'ファイルを送信できませんでした。もう一度お試しください。',
      slowFiles: 'ファイルの送信が速すぎます。少し待ってからもう一度お試しください。',
      download: (name) => `${name}をダウンロード`, imageAlt: (name) => `画像：${name}`,
      emailMe: 'この回答をメールで受け取る', emailLabel: 'メールアドレス', emailSend: '送信',
      emailCancel: 'キャンセル', emailSending: '送信中…', emailSent: (to) => `${to} に送信しました`,
      emailInvalid: 'name@example.com のような形式でメールアドレスを入力してください。',
      emailSlow: '短い時間に何度もメールをご依頼いただきました。しばらくしてからお試しください。',
      emailFailed: 'メールを送信できませんでした。もう一度お試しください。',
    },
  };

  const $ = (id) => document.getElementById(id);
  const ui = {
    title: $('title'), messages: $('messages'), scroller: $('scroller'), typing: $('typing'),
    banner: $('reconnecting'), status: $('status'), error: $('error'), form: $('composer'),
    input: $('input'), send: $('send'), newConversation: $('new-conversation'),
    closeEmbed: $('close-embed'), attach: $('attach'), attachInput: $('attach-input'),
    suggest: $('suggest'), suggestLabel: $('suggest-label'), suggestList: $('suggest-list'),
    earlier: $('earlier'), earlierLabel: $('earlier-label'), earlierList: $('earlier-list'),
    earlierView: $('earlier-view'), earlierTitle: $('earlier-title'), earlierBack: $('earlier-back'),
    earlierNote: $('earlier-note'), earlierMessages: $('earlier-messages'),
  };

  const app = {
    conversationId: null, token: null, language: guessLanguage(),
    queue: null, ws: null, retryTimer: null, retryFn: null, backoffMs: BACKOFF_MIN_MS,
    typingTimer: null, lastRestartAt: 0, generation: 0,
    outbox: [],               // entries sent (or to send) but not acked; persisted
    seqEls: new Map(),        // seq → element: de-duplicates history, catch-up and echoes
    pendingEls: new Map(),    // client_id → element still waiting for its ack
    maxSeq: 0,
    // A signed identity from the host page (embed.js), held in memory only, and whose
    // verified conversation the saved session is (null: an anonymous one).
    identity: null, sessionCustomer: null,
    earlier: [], historyToken: null,  // the customer's earlier conversations (read-only)
    emailAnswers: false,      // the gateway mails bot answers (GET conversation's email_answers)
  };

  // Read by automated browser tests; mutated in place so a held reference stays current.
  const maruChat = (window.maruChat = {
    conversationId: null, state: 'bot', connected: false,
    verified: false, identityRefused: null, earlier: 0,
  });

  /* ---------- language ---------- */

  function guessLanguage() {
    // ?lang= lets a host page force the language regardless of the browser's.
    const forced = new URLSearchParams(location.search).get('lang');
    const raw = (forced || navigator.language || 'en').toLowerCase();
    if (raw.startsWith('ko')) return 'ko';
    if (raw.startsWith('ja')) return 'ja';
    return 'en';
  }

  function t(key, ...args) {
    const value = (STRINGS[app.language] || STRINGS.en)[key];
    return typeof value === 'function' ? value(...args) : value;
  }

  function applyLanguage(lang) {
    if (STRINGS[lang]) app.language = lang;
    document.documentElement.lang = app.language;
    document.title = ui.title.textContent = t('title');
    ui.suggestLabel.textContent = t('suggested');
    ui.input.placeholder = t('placeholder');
    ui.input.setAttribute('aria-label', t('placeholder'));
    ui.send.textContent = t('send');
    ui.attach.setAttribute('aria-label', t('attach'));
    ui.attach.title = t('attach');
    ui.banner.textContent = t('reconnecting');
    ui.newConversation.textContent = t('newConversation');
    ui.closeEmbed.setAttribute('aria-label', t('closeEmbed'));
    ui.closeEmbed.title = t('closeEmbed');
    ui.typing.setAttribute('aria-label', t('typing'));
    ui.messages.querySelectorAll('.msg-label').forEach((el) => { el.textContent = t('agent'); });
    ui.earlierBack.textContent = t('backToChat');
    ui.earlierNote.textContent = t('readOnly');
    relabelEmailAnswers();
    renderEarlier();
    renderStatus();
    renderNotices();
  }

  /* ---------- persistence (localStorage may be unavailable: degrade to memory) ---------- */

  function readJson(key) {
    try { return JSON.parse(localStorage.getItem(key) || 'null'); } catch (_) { return null; }
  }

  function writeJson(key, value) {
    try {
      if (value === null) localStorage.removeItem(key);
      else localStorage.setItem(key, JSON.stringify(value));
    } catch (_) { /* private mode or quota: the chat still works for this page view */ }
  }

  function loadSession() {
    const saved = readJson(SESSION_KEY);
    if (saved && typeof saved.conversation_id === 'string' && typeof saved.token === 'string') {
      app.conversationId = saved.conversation_id;
      app.token = saved.token;
      app.sessionCustomer = typeof saved.customer_id === 'string' ? saved.customer_id : null;
    }
    // An outbox with no conversation id was typed before the conversation existed: adopt it.
    const box = readJson(OUTBOX_KEY);
    const ownsBox = box && Array.isArray(box.entries) &&
      (!box.conversation_id || box.conversation_id === app.conversationId);
    app.outbox = ownsBox ? box.entries.filter((e) => e && e.client_id) : [];
    maruChat.conversationId = app.conversationId;
  }

  function saveOutbox() {
    writeJson(OUTBOX_KEY, { conversation_id: app.conversationId, entries: app.outbox });
  }

  /* Only our own keys: the agent console shares this origin and may keep its session here. */
  function forgetConversation() {
    app.conversationId = app.token = app.sessionCustomer = null;
    app.outbox = [];
    maruChat.conversationId = null;
    writeJson(SESSION_KEY, null);
    writeJson(OUTBOX_KEY, null);
  }

  /* ---------- REST ---------- */

  async function api(method, path, body) {
    const headers = { Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    if (app.token) headers.Authorization = 'Bearer ' + app.token;
    const res = await fetch(path, {
      method, headers, cache: 'no-store', body: body ? JSON.stringify(body) : undefined,
    });
    const isJson = (res.headers.get('content-type') || '').includes('json');
    return { status: res.status, ok: res.ok, data: isJson ? await res.json() : null };
  }

  /** Each run of start() gets a generation; a stale run (user started over meanwhile) stops. */
  async function createConversation(gen) {
    let res = await api('POST', '/api/conversations', Object.assign({ language: app.language }, signedBody()));
    if (gen !== app.generation) return;
    if (app.identity && res.status === 400 && refuseIdentity(res.data)) {
      res = await api('POST', '/api/conversations', { language: app.language }); // anonymous
      if (gen !== app.generation) return;
    }
    if (!res.ok || !res.data || !res.data.conversation_id) throw new Error('create failed: ' + res.status);
    app.conversationId = res.data.conversation_id;
    app.token = res.data.token;
    app.sessionCustomer = app.identity ? app.identity.id : null;
    maruChat.conversationId = app.conversationId;
    writeJson(SESSION_KEY, {
      conversation_id: app.conversationId, token: app.token, customer_id: app.sessionCustomer,
    });
    saveOutbox(); // stamp any early entries with the new id
  }

  /** Renders stored history; returns false when the server no longer knows this conversation. */
  async function loadHistory(gen) {
    const res = await api('GET', '/api/conversations/' + encodeURIComponent(app.conversationId));
    if (gen !== app.generation) return true;
    if ([401, 403, 404].includes(res.status)) return false;
    if (!res.ok || !res.data) throw new Error('history failed: ' + res.status);
    applyLanguage(res.data.language);
    app.emailAnswers = res.data.email_answers === true; // before the messages: they offer it
    setState(res.data.state || 'bot', res.data.queue);
    (res.data.messages || []).forEach(receiveMessage);
    app.outbox.forEach((entry) => renderPending(entry)); // after history: unsent text stays last
    return true;
  }

  /** Boot (and every reconnect): make sure we own a valid conversation, catch up, go live. */
  async function start() {
    cancelPending();
    const gen = app.generation;
    try {
      let fresh = false;
      if (!app.conversationId) { await createConversation(gen); fresh = true; }
      if (gen !== app.generation) return;
      const valid = await loadHistory(gen);
      if (gen !== app.generation) return;
      if (!valid) {
        if (fresh) throw new Error('new conversation rejected'); // server bug: back off, don't loop
        forgetConversation();
        resetMessages();
        start();
        return;
      }
      connect();
      offerPopular();
      loadEarlier();
    } catch (err) {
      if (gen !== app.generation) return;
      console.warn('[maru-chat]', err);
      scheduleRetry(start);
    }
  }

  /** Abandon whatever is in flight: socket, retry timer, an unfinished start(). */
  function cancelPending() {
    app.generation += 1;
    clearTimeout(app.retryTimer);
    app.retryFn = null;
    closeSocket();
  }

  /* ---------- WebSocket ---------- */

  function connect() {
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/conversations/${encodeURIComponent(app.conversationId)}/ws`);
    app.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: app.token, last_seq: app.maxSeq }));
    ws.onmessage = (event) => {
      if (ws !== app.ws) return; // a frame from a socket we already abandoned
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      const handler = frame && FRAME_HANDLERS[frame.type];
      if (handler) handler(frame);
    };
    ws.onclose = () => {
      if (ws !== app.ws) return;
      app.ws = null;
      maruChat.connected = false;
      setTyping(false);
      // Go through start(): its GET tells "server down" apart from "conversation gone".
      scheduleRetry(start);
    };
  }

  /** Detach first so the close handler does not schedule a reconnect for an intentional close. */
  function closeSocket() {
    const ws = app.ws;
    app.ws = null;
    maruChat.connected = false;
    if (ws) ws.close();
  }

  function scheduleRetry(fn) {
    clearTimeout(app.retryTimer);
    ui.banner.hidden = false;
    app.retryFn = fn;
    app.retryTimer = setTimeout(() => { app.retryFn = null; fn(); }, app.backoffMs);
    app.backoffMs = Math.min(app.backoffMs * 2, BACKOFF_MAX_MS);
  }

  const FRAME_HANDLERS = {
    ready(frame) {
      app.backoffMs = BACKOFF_MIN_MS;
      ui.banner.hidden = true;
      maruChat.connected = true;
      if (frame.state) setState(frame.state, frame.queue, frame.agent);
      if (frame.language && frame.language !== app.language) applyLanguage(frame.language);
      loadNotices(); // (re)connected: a notice may have ended while the socket was down
      // Re-send everything unacked with its original client_id; the server de-duplicates.
      app.outbox.forEach(transmit);
    },
    ack(frame) {
      dropFromOutbox(frame.client_id);
      confirmPending(frame.client_id, Number(frame.seq));
    },
    message: receiveMessage,
    typing(frame) { setTyping(Boolean(frame.on)); },
    // Every notice in force (each text in ko, ja and en), at connect and on each change.
    notices(frame) { showNotices(frame.notices); },
    // After a supervisor's reassign, `agent` is the new person's name.
    state(frame) { setState(frame.state, frame.queue, frame.agent); },
    error(frame) {
      if (frame.code === 'unauthorized') { restart(); return; }
      // The database is away a moment: the socket closes next and the reconnect banner says so.
      if (frame.code === 'store_unavailable') return;
      if (frame.client_id && app.pendingEls.has(frame.client_id)) markFailed(frame.client_id);
      // rate_limited: the server stored nothing; the bubble stays, marked not sent.
      showError(frame.code === 'rate_limited' ? t('slowDown') : (frame.message || t('error')));
    },
  };

  /** The stored conversation is dead: start a clean one (rate-limited against a broken server). */
  function restart() {
    cancelPending();
    forgetConversation();
    resetMessages();
    const tooSoon = Date.now() - app.lastRestartAt < RESTART_GUARD_MS;
    app.lastRestartAt = Date.now();
    if (tooSoon) scheduleRetry(start); else start();
  }

  /* ---------- sending ---------- */

  function newClientId() {
    // randomUUID only exists in secure contexts; the widget may be opened over plain http on a LAN.
    if (crypto.randomUUID) return crypto.randomUUID();
    const b = crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const hex = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }

  function sendMessage(text, payload) {
    const entry = { client_id: newClientId(), text };
    if (payload !== undefined && payload !== null) entry.payload = payload;
    app.outbox.push(entry);
    saveOutbox(); // before the network: a reload right now must not lose it
    showError('');
    renderPending(entry, true);
    if (maruChat.connected) transmit(entry);
  }

  function transmit(entry) {
    if (app.ws && app.ws.readyState === WebSocket.OPEN) {
      app.ws.send(JSON.stringify(Object.assign({ type: 'message' }, entry)));
    }
  }

  function dropFromOutbox(clientId) {
    const before = app.outbox.length;
    app.outbox = app.outbox.filter((e) => e.client_id !== clientId);
    if (app.outbox.length !== before) saveOutbox();
  }

  /** The server stored a pending message under `seq`. */
  function confirmPending(clientId, seq) {
    const el = app.pendingEls.get(clientId);
    if (!el || !Number.isFinite(seq)) return;
    app.pendingEls.delete(clientId);
    if (app.seqEls.has(seq)) { el.remove(); return; } // already shown from history or an echo
    el.removeAttribute('data-pending');
    el.removeAttribute('title');
    rememberSeq(el, seq);
  }

  function markFailed(clientId) {
    const el = app.pendingEls.get(clientId);
    app.pendingEls.delete(clientId);
    dropFromOutbox(clientId); // rejected: re-sending it on reconnect would only fail again
    el.removeAttribute('data-pending');
    el.dataset.failed = '1';
    el.title = t('failed');
  }

  /* ---------- rendering ---------- */

  function receiveMessage(m) {
    const seq = Number(m.seq);
    if (!Number.isFinite(seq) || app.seqEls.has(seq)) return;
    if (m.client_id) {
      dropFromOutbox(m.client_id); // stored server-side: never re-send it
      if (app.pendingEls.has(m.client_id)) { confirmPending(m.client_id, seq); return; }
    }
    if (m.role === 'bot' || m.role === 'agent') setTyping(false); // the reply replaces the dots
    const el = buildMessage(m);
    withAutoScroll(() => placeBySeq(el, seq), false);
    rememberSeq(el, seq);
  }

  function renderPending(entry, ownAction) {
    if (app.pendingEls.has(entry.client_id)) return;
    const el = buildMessage({ role: 'customer', text: entry.text });
    el.dataset.pending = '1';
    el.title = t('sending');
    app.pendingEls.set(entry.client_id, el);
    withAutoScroll(() => ui.messages.appendChild(el), ownAction);
  }

  function rememberSeq(el, seq) {
    el.dataset.seq = String(seq);
    app.seqEls.set(seq, el);
    app.maxSeq = Math.max(app.maxSeq, seq);
  }

  /**
   * Insert after the last element with a smaller seq. Scanning from the end keeps a late
   * catch-up message above still-pending bubbles, so the DOM order matches seq order once
   * those bubbles are acked.
   */
  function placeBySeq(el, seq) {
    for (let other = ui.messages.lastElementChild; other; other = other.previousElementSibling) {
      if (other.dataset.seq && Number(other.dataset.seq) < seq) { other.after(el); return; }
    }
    ui.messages.prepend(el);
  }

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined) el.textContent = text;
    return el;
  }

  function buildMessage(m) {
    const role = ROLES.includes(m.role) ? m.role : 'system';
    const el = make('div', `msg msg-${role}`);
    if (role === 'agent') el.appendChild(make('span', 'msg-label', t('agent')));
    if (m.attachment && typeof m.attachment === 'object') {
      el.appendChild(buildAttachment(m.attachment)); // its name is the message's text
    } else if (m.text) {
      const bubble = make('div', 'bubble');
      appendLinkified(bubble, String(m.text));
      el.appendChild(bubble);
    }
    if (Array.isArray(m.links) && m.links.length) el.appendChild(buildLinks(m.links));
    if (Array.isArray(m.buttons) && m.buttons.length) el.appendChild(buildChoices(m.buttons));
    const time = buildTime(m.ts);
    if (time) el.appendChild(time);
    if (role === 'bot' && m.article_id && app.emailAnswers && Number.isInteger(m.seq)) {
      el.appendChild(buildEmailAnswer(m.seq));
    }
    return el;
  }

  /* ---------- attachments ---------- */

  const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

  /**
   * The file behind an attachment, as a blob: URL. Fetched with the token in a header (a
   * token in an <img src> URL would end up in logs); blob: is all the page's CSP lets in.
   */
  async function attachmentUrl(attachment) {
    const path = '/api/conversations/' + encodeURIComponent(app.conversationId) +
      '/attachments/' + encodeURIComponent(String(attachment.id));
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + app.token }, cache: 'no-store' });
    if (!res.ok) throw new Error('attachment ' + res.status);
    return URL.createObjectURL(await res.blob());
  }

  /** A thumbnail for an image, a file chip (a download) for a PDF. */
  function buildAttachment(attachment) {
    const name = String(attachment.name || '');
    const box = make('div', 'bubble attachment');
    const chip = make('a', 'file-chip', name);
    chip.href = '#';
    chip.title = t('download', name);
    chip.setAttribute('aria-label', t('download', name));
    chip.dataset.attachmentId = String(attachment.id);
    chip.addEventListener('click', async (event) => {
      if (chip.download) return; // the blob is here: let the browser save it
      event.preventDefault();
      try {
        chip.href = await attachmentUrl(attachment);
        chip.download = name;
        chip.click();
      } catch (_) { showError(t('uploadFailed')); }
    });
    if (IMAGE_TYPES.includes(attachment.content_type)) {
      const img = make('img', 'attachment-image');
      img.alt = t('imageAlt', name);
      img.dataset.attachmentId = String(attachment.id);
      attachmentUrl(attachment).then((url) => { img.src = url; }, () => { img.hidden = true; });
      box.appendChild(img);
    }
    box.appendChild(chip);
    return box;
  }

  async function uploadFile(file) {
    if (!file || !app.conversationId || !app.token) return;
    showError('');
    ui.attach.disabled = true;
    ui.attach.setAttribute('aria-busy', 'true');
    const body = new FormData();
    body.append('file', file, file.name);
    let res = null;
    try {
      res = await fetch('/api/conversations/' + encodeURIComponent(app.conversationId) + '/attachments', {
        method: 'POST', body, headers: { Authorization: 'Bearer ' + app.token }, cache: 'no-store',
      });
    } catch (_) { /* network error: res stays null */ }
    ui.attach.disabled = false;
    ui.attach.removeAttribute('aria-busy');
    if (res && res.status === 201) {
      const data = await res.json().catch(() => null);
      if (data && data.message) withAutoScroll(() => receiveMessage(data.message), true);
      return;
    }
    const status = res ? res.status : 0;
    // The limit is the gateway's setting, told with the refusal: never a number of our own.
    const refused = status === 413 ? await res.json().catch(() => null) : null;
    const maxBytes = refused && refused.error && Number(refused.error.max_bytes);
    showError(status === 413 ? t('tooBig', megabytes(maxBytes || 5 * 1024 * 1024)) : status === 415 ? t('wrongType')
      : status === 429 ? t('slowFiles') : t('uploadFailed'));
  }

  /** 5242880 -> "5", 1572864 -> "1.5": the size limit as people say it. */
  function megabytes(bytes) {
    return String(Math.round((bytes / (1024 * 1024)) * 10) / 10);
  }

  /** Only http(s) (plus mailto/tel for link chips): a server-sent "javascript:" URL is dropped. */
  function safeUrl(raw, protocols) {
    try {
      const url = new URL(String(raw), location.href);
      return protocols.includes(url.protocol) ? url.href : null;
    } catch (_) { return null; }
  }

  function makeLink(href, label, className) {
    const a = make('a', className, label);
    a.href = href;
    a.target = '_blank';
    a.rel = 'noopener noreferrer';
    return a;
  }

  // ASCII URL characters only, so a URL followed directly by Korean/Japanese text ends there.
  const URL_RE = /https?:\/\/[A-Za-z0-9\-._~:/?#[\]@!$&'()*+,;=%]+/g;

  /** Text nodes plus <a> for URLs; newlines survive through CSS white-space: pre-wrap. */
  function appendLinkified(parent, text) {
    let last = 0;
    for (const match of text.matchAll(URL_RE)) {
      const url = trimUrl(match[0]);
      const href = safeUrl(url, ['http:', 'https:']);
      if (!href || url.length <= 'https://'.length) continue;
      parent.append(text.slice(last, match.index), makeLink(href, url));
      last = match.index + url.length;
    }
    parent.append(text.slice(last));
  }

  /** Sentence punctuation right after a URL is almost never part of it; balanced ")" is. */
  function trimUrl(url) {
    const count = (ch) => url.split(ch).length - 1;
    while (/[.,;:!?'")\]]$/.test(url)) {
      if (url.endsWith(')') && count('(') >= count(')')) break;
      url = url.slice(0, -1);
    }
    return url;
  }

  function buildLinks(links) {
    const row = make('div', 'links');
    for (const link of links) {
      const href = link && safeUrl(link.url, ['http:', 'https:', 'mailto:', 'tel:']);
      if (href) row.appendChild(makeLink(href, String(link.title || link.url), 'link-chip'));
    }
    return row;
  }

  function buildChoices(buttons) {
    const group = make('div', 'choices');
    group.setAttribute('role', 'group');
    for (const b of buttons) {
      const title = String(b.title ?? b.payload ?? '');
      const button = make('button', 'choice', title);
      button.type = 'button';
      button.addEventListener('click', () => {
        // One answer per question: a double tap must not send the choice twice.
        group.querySelectorAll('button').forEach((other) => { other.disabled = true; });
        button.classList.add('chosen');
        sendMessage(title, b.payload);
      });
      group.appendChild(button);
    }
    return group;
  }

  /* ---------- "Email me this answer" (POST .../email-answer) ---------- */

  // The gateway's rule for an address (request_models.EMAIL_PATTERN), checked here too so
  // a typo is said at once; the gateway checks again.
  const EMAIL_RE = /^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)+$/;
  const EMAIL_MAX_CHARS = 254;

  /**
   * Under a KB answer: a small button that opens an inline form (a labelled address field,
   * Send, Cancel). Focus goes into the form and back to the button; the outcome ("Sent to
   * a…@example.com" or why not) is said in a live region. The address is not kept.
   */
  function buildEmailAnswer(seq) {
    const box = make('div', 'email-answer');
    box.dataset.answerSeq = String(seq);
    const id = `email-answer-${seq}`;
    const open = make('button', 'email-answer-open', t('emailMe'));
    open.type = 'button';
    open.setAttribute('aria-expanded', 'false');
    open.setAttribute('aria-controls', `${id}-form`);
    const form = make('form', 'email-answer-form');
    form.id = `${id}-form`;
    form.hidden = true;
    form.noValidate = true; // our own message, in the widget's language, not the browser's
    const label = make('label', 'email-answer-label', t('emailLabel'));
    label.htmlFor = id;
    const input = make('input', 'email-answer-input');
    Object.assign(input, { id, type: 'email', name: 'email', autocomplete: 'email', required: true });
    input.maxLength = EMAIL_MAX_CHARS;
    input.setAttribute('aria-describedby', `${id}-result`);
    const send = make('button', 'email-answer-send', t('emailSend'));
    send.type = 'submit';
    const cancel = make('button', 'email-answer-cancel', t('emailCancel'));
    cancel.type = 'button';
    const actions = make('div', 'email-answer-actions');
    actions.append(send, cancel);
    form.append(label, input, actions);
    // Always in the page (empty when there is nothing to say): a live region added or
    // unhidden at the moment it speaks is not announced by every screen reader.
    const result = make('p', 'email-answer-result');
    result.id = `${id}-result`;
    result.setAttribute('role', 'status');
    result.setAttribute('aria-live', 'polite');

    const say = (text, failed) => {
      result.textContent = text;
      result.classList.toggle('email-answer-failed', Boolean(failed));
    };
    const close = () => {
      form.hidden = true;
      open.setAttribute('aria-expanded', 'false');
      open.focus();
    };
    const refuse = (text) => {
      input.setAttribute('aria-invalid', 'true');
      say(text, true);
      input.focus();
    };
    open.addEventListener('click', () => {
      if (!form.hidden) { close(); return; }
      form.hidden = false;
      open.setAttribute('aria-expanded', 'true');
      say('');
      input.focus();
    });
    cancel.addEventListener('click', close);
    form.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.preventDefault(); // this Escape closed the form, not the embedded chat
      close();
    });
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      const email = input.value.trim();
      if (email.length > EMAIL_MAX_CHARS || !EMAIL_RE.test(email)) { refuse(t('emailInvalid')); return; }
      send.disabled = true;
      say(t('emailSending'));
      let res = null;
      try {
        res = await api('POST', '/api/conversations/' + encodeURIComponent(app.conversationId) +
          '/email-answer', { email, seq });
      } catch (_) { /* network error: res stays null */ }
      send.disabled = false;
      const code = res && res.data && res.data.error ? res.data.error.code : '';
      if (res && res.status === 202) {
        input.value = '';
        input.removeAttribute('aria-invalid');
        close();
        say(t('emailSent', (res.data && res.data.to) || ''));
      } else if (res && res.status === 400) {
        refuse(t('emailInvalid'));
      } else if (res && res.status === 404 && code === 'email_off') {
        // Email was turned off since the page loaded: no button offers it any more.
        app.emailAnswers = false;
        close();
        say(t('emailFailed'), true);
        ui.messages.querySelectorAll('.email-answer-open').forEach((el) => { el.hidden = true; });
      } else {
        say(res && res.status === 429 ? t('emailSlow') : t('emailFailed'), true);
      }
    });
    box.append(open, form, result);
    return box;
  }

  /** The language changed (the conversation's own, once known): the offers follow it. */
  function relabelEmailAnswers() {
    const labels = [['.email-answer-open', 'emailMe'], ['.email-answer-label', 'emailLabel'],
      ['.email-answer-send', 'emailSend'], ['.email-answer-cancel', 'emailCancel']];
    for (const [selector, key] of labels) {
      ui.messages.querySelectorAll(selector).forEach((el) => { el.textContent = t(key); });
    }
  }

  function buildTime(ts) {
    const date = ts ? new Date(ts) : null;
    if (!date || isNaN(date)) return null;
    const time = make('time', 'msg-time',
      date.toLocaleTimeString(app.language, { hour: '2-digit', minute: '2-digit' }));
    time.dateTime = date.toISOString();
    return time;
  }

  /** Follow new content only if the reader was already at the bottom (or it is their own). */
  function withAutoScroll(mutate, force) {
    const s = ui.scroller;
    const atBottom = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
    mutate();
    if (force || atBottom) s.scrollTop = s.scrollHeight;
  }

  function resetMessages() {
    ui.messages.replaceChildren();
    app.seqEls.clear();
    app.pendingEls.clear();
    app.maxSeq = 0;
    setTyping(false);
    setState('bot');
    showError('');
  }

  /* ---------- status, typing, errors ---------- */

  function setState(state, queue, agent) {
    maruChat.state = state || 'bot';
    app.queue = queue || null;
    maruChat.agent = typeof agent === 'string' && agent ? agent : null;
    renderStatus();
  }

  function renderStatus() {
    let text = '';
    const q = app.queue;
    if (maruChat.state === 'queued') {
      const wait = q && Number.isFinite(q.estimated_wait_seconds)
        ? t('wait', Math.round(q.estimated_wait_seconds / 60)) : '';
      text = q && q.position ? t('queue', q.position, wait) : t('waitingAgent');
    } else if (maruChat.state === 'assigned') {
      text = maruChat.agent ? t('assignedTo', maruChat.agent) : t('assigned');
    } else if (maruChat.state === 'resolved') {
      text = t('resolved');
    }
    ui.status.textContent = text;
    ui.status.hidden = !text;
  }

  function setTyping(on) {
    clearTimeout(app.typingTimer);
    withAutoScroll(() => { ui.typing.hidden = !on; }, false);
    if (on) app.typingTimer = setTimeout(() => setTyping(false), TYPING_TIMEOUT_MS);
  }

  /** An empty message hides the error line. */
  function showError(message) {
    ui.error.textContent = message;
    ui.error.hidden = !message;
  }

  /* ---------- composer ---------- */

  function autosize() {
    ui.input.style.height = 'auto';
    ui.input.style.height = Math.min(ui.input.scrollHeight, 160) + 'px';
  }

  /* Typing, told to the agent who has the chat (to no one while the bot answers): "on"
     at the first keystroke, again at most every TYPING_REFRESH_MS while it goes on (the
     console hides a stale "typing" by itself), "off" after TYPING_IDLE_MS without a
     keystroke, on sending or on emptying the box. */
  const TYPING_IDLE_MS = 3000;
  const TYPING_REFRESH_MS = 10000;
  let typingOnAt = 0;
  let typingIdleTimer = null;

  function sendTyping(on) {
    if (app.ws && app.ws.readyState === WebSocket.OPEN) {
      app.ws.send(JSON.stringify({ type: 'typing', on }));
    }
  }

  function onInputTyping() {
    if (maruChat.state !== 'assigned' || !ui.input.value.trim()) { stopTyping(); return; }
    const now = Date.now();
    if (now - typingOnAt >= TYPING_REFRESH_MS) {
      sendTyping(true);
      typingOnAt = now;
    }
    clearTimeout(typingIdleTimer);
    typingIdleTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(typingIdleTimer);
    if (typingOnAt) sendTyping(false);
    typingOnAt = 0;
  }

  /* Suggestions while typing: help-centre articles matching the box (GET /api/suggestions),
     asked from the 2nd character once typing pauses, while the bot has the chat. Picking
     one sends the bot that article's choice, as a clarify button does. */
  const SUGGEST_DELAY_MS = 250;
  const SUGGEST_MIN_CHARS = 2;
  let suggestTimer = null;
  let suggestAsked = null; // the AbortController of the request in flight

  function onInputSuggest() {
    clearTimeout(suggestTimer);
    const text = ui.input.value.trim();
    if (maruChat.state !== 'bot' || text.length < SUGGEST_MIN_CHARS) { hideSuggestions(); return; }
    suggestTimer = setTimeout(() => askSuggestions(text), SUGGEST_DELAY_MS);
  }

  async function askSuggestions(text) {
    if (suggestAsked) suggestAsked.abort();
    const asked = (suggestAsked = new AbortController());
    const query = new URLSearchParams({ q: text, language: app.language });
    let found = [];
    try {
      const res = await fetch(`/api/suggestions?${query}`, { signal: asked.signal });
      if (res.ok) found = (await res.json()).suggestions || [];
    } catch (err) {
      if (err.name === 'AbortError') return; // a newer request took over
    }
    // Only if the box still says what was asked (the customer may have sent it meanwhile).
    if (asked !== suggestAsked || ui.input.value.trim() !== text) return;
    showSuggestions(found);
  }

  /* Popular questions (GET /api/popular), offered in the same place while the customer
     has said nothing yet in this conversation. */
  async function offerPopular() {
    const untouched = () => !ui.messages.querySelector('.msg-customer') && !app.outbox.length
      && maruChat.state === 'bot' && !ui.input.value.trim();
    if (!untouched()) return;
    try {
      const res = await fetch(`/api/popular?${new URLSearchParams({ language: app.language })}`);
      if (!res.ok) return;
      const found = (await res.json()).questions || [];
      if (untouched()) showSuggestions(found, t('popular'));
    } catch (err) {
      console.warn('[maru-chat] popular questions', err); // the chat works without them
    }
  }

  function showSuggestions(found, label = t('suggested')) {
    ui.suggestLabel.textContent = label;
    ui.suggestList.replaceChildren();
    for (const item of found.slice(0, 3)) {
      const li = document.createElement('li');
      const button = make('button', 'suggestion', item.title);
      button.type = 'button';
      button.addEventListener('click', () => {
        hideSuggestions();
        stopTyping();
        sendMessage(item.title, item.payload);
        ui.input.value = '';
        autosize();
        ui.input.focus();
      });
      li.append(button);
      ui.suggestList.append(li);
    }
    ui.suggest.hidden = found.length === 0;
  }

  function hideSuggestions() {
    clearTimeout(suggestTimer);
    if (suggestAsked) suggestAsked.abort();
    suggestAsked = null;
    ui.suggest.hidden = true;
    ui.suggestList.replaceChildren();
  }

  function submit() {
    const text = ui.input.value.trim();
    if (!text) return;
    hideSuggestions();
    stopTyping();
    sendMessage(text);
    ui.input.value = '';
    autosize();
    ui.input.focus();
  }

  ui.form.addEventListener('submit', (event) => { event.preventDefault(); submit(); });
  ui.attach.addEventListener('click', () => ui.attachInput.click());
  ui.attachInput.addEventListener('change', () => {
    const file = ui.attachInput.files && ui.attachInput.files[0];
    ui.attachInput.value = ''; // the same file may be picked again
    uploadFile(file);
  });
  ui.input.addEventListener('input', autosize);
  ui.input.addEventListener('input', onInputTyping);
  ui.input.addEventListener('input', onInputSuggest);
  ui.input.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape' || ui.suggest.hidden) return;
    hideSuggestions();
    event.preventDefault(); // this Escape closed the suggestions, not the embedded chat
  });
  ui.input.addEventListener('keydown', (event) => {
    // isComposing: Enter that confirms a Korean/Japanese IME candidate must not send.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    submit();
  });

  ui.newConversation.addEventListener('click', (event) => {
    event.preventDefault();
    cancelPending();
    forgetConversation();
    resetMessages();
    start();
  });

  // Back online: don't sit out the rest of a long backoff.
  window.addEventListener('online', () => {
    if (!app.retryFn) return;
    const fn = app.retryFn;
    clearTimeout(app.retryTimer);
    app.retryFn = null;
    fn();
  });

  /* ---------- notices of outages and maintenance (GET /api/notices, `notices` frames) ---------- */

  const DISMISSED_KEY = 'maru-chat-dismissed-notices'; // per browser session (sessionStorage)
  let notices = [];                                     // [{id, severity, text: {lang: text}}]

  function dismissedNotices() {
    try { return JSON.parse(sessionStorage.getItem(DISMISSED_KEY) || '[]'); } catch (_) { return []; }
  }

  function dismissNotice(id) {
    const ids = dismissedNotices().concat(id).slice(-50);
    try { sessionStorage.setItem(DISMISSED_KEY, JSON.stringify(ids)); } catch (_) { /* memory only */ }
    renderNotices();
  }

  function showNotices(list) {
    notices = (Array.isArray(list) ? list : []).filter((n) => n && typeof n.id === 'string');
    renderNotices();
  }

  function noticeText(notice) {
    const text = notice.text;
    if (typeof text === 'string') return text;
    return (text && (text[app.language] || text.en)) || '';
  }

  /** The banner: one line per notice not dismissed; gone when none is left. */
  function renderNotices() {
    let box = $('notices');
    if (!box) {
      box = make('div', 'notices');
      box.id = 'notices';
      box.setAttribute('role', 'status');
      ui.status.before(box);
    }
    box.setAttribute('aria-label', t('notices'));
    const dismissed = dismissedNotices();
    const shown = notices.filter((n) => !dismissed.includes(n.id) && noticeText(n));
    box.replaceChildren();
    for (const notice of shown) {
      const item = make('div', `notice notice-${notice.severity === 'outage' ? 'outage' : 'info'}`);
      item.dataset.noticeId = notice.id;
      const text = make('p', 'notice-text');
      appendLinkified(text, noticeText(notice));
      const close = make('button', 'notice-dismiss', '×');
      close.type = 'button';
      close.setAttribute('aria-label', t('dismiss'));
      close.addEventListener('click', () => dismissNotice(notice.id));
      item.append(text, close);
      box.append(item);
    }
    box.hidden = shown.length === 0;
  }

  async function loadNotices() {
    try {
      const res = await fetch(`/api/notices?${new URLSearchParams({ language: app.language })}`);
      if (!res.ok) return;
      const found = (await res.json()).notices || [];
      // Until the socket's frame brings every language, the text in this one.
      showNotices(found.map((n) => Object.assign({}, n, { text: { [app.language]: n.text } })));
    } catch (err) {
      console.warn('[maru-chat] notices', err); // the chat works without them
    }
  }

  /* ---------- a signed identity from the host page (embed.js) ---------- */

  /* The host site signs who is signed in (README, Customer API) and embed.js posts it to
     this frame: never in the URL, which ends up in logs and history. It is taken only from
     the parent window, and only before the conversation starts; the frame's URL says
     (identity=1) that one is coming, and the chat waits for it a moment, then goes on
     anonymously. The standalone page (no parent) is always anonymous. */
  const IDENTITY_MESSAGE = 'maru-support:identity';
  const READY_MESSAGE = 'maru-support:ready';
  const IDENTITY_WAIT_MS = 5000;
  const IDENTITY_ERRORS = ['invalid_identity', 'invalid_identity_signature', 'identity_expired',
    'identity_not_configured'];

  /** The fields as POST /api/conversations and /api/customers/history take them. */
  function signedBody() {
    const id = app.identity;
    if (!id) return {};
    const customer = { id: id.id };
    if (id.email) customer.email = id.email;
    if (id.name) customer.name = id.name;
    return { customer, identity_expires: id.expires, identity_signature: id.signature };
  }

  /** A refused identity: say why on the console (for the host's developers) and go on
     as an anonymous visitor. False when the refusal was about something else. */
  function refuseIdentity(data) {
    const error = data && data.error;
    if (!error || !IDENTITY_ERRORS.includes(error.code)) return false;
    console.warn(`[maru-chat] the signed identity was refused (${error.code}): ${error.message}` +
      ' The chat goes on anonymously, without earlier conversations.');
    app.identity = null;
    maruChat.identityRefused = error.code;
    maruChat.verified = false;
    showEarlier([]);
    return true;
  }

  function validIdentity(value) {
    if (!value || typeof value !== 'object') return null;
    const { id, email, name, expires, signature } = value;
    const text = (v, required) => (typeof v === 'string' && v.length <= 200 && (v || !required));
    if (!text(id, true) || !(email === undefined || text(email)) || !(name === undefined || text(name))) return null;
    if (!Number.isInteger(expires) || typeof signature !== 'string' || !signature || signature.length > 128) return null;
    return { id, email: email || '', name: name || '', expires, signature };
  }

  /** Resolves once the host page's identity is in (or it is not coming). */
  function awaitIdentity() {
    const params = new URLSearchParams(location.search);
    const expected = params.get('embed') === '1' && params.get('identity') === '1' && window.parent !== window;
    return new Promise((resolve) => {
      let open = expected;
      const timer = expected ? setTimeout(() => {
        if (!open) return;
        open = false;
        console.warn('[maru-chat] no identity came from the host page: chatting anonymously');
        resolve();
      }, IDENTITY_WAIT_MS) : null;
      window.addEventListener('message', (event) => {
        // Any page can post to this window: only the page that embeds it is heard.
        if (event.source !== window.parent || window.parent === window) return;
        if (!event.data || event.data.type !== IDENTITY_MESSAGE) return;
        if (!open) {
          console.warn('[maru-chat] an identity arrived after the conversation started: ignored');
          return;
        }
        open = false;
        clearTimeout(timer);
        app.identity = validIdentity(event.data.identity);
        if (!app.identity) console.warn('[maru-chat] the identity from the host page is malformed: chatting anonymously');
        resolve();
      });
      if (expected) window.parent.postMessage({ type: READY_MESSAGE }, '*'); // carries nothing
      else resolve();
    });
  }

  /** The saved conversation is someone else's (another customer signed in on this browser,
     or they signed out): it is not shown; a new one starts. */
  function dropSessionOfAnother() {
    const owner = app.identity ? app.identity.id : null;
    if (app.conversationId && app.sessionCustomer !== owner) forgetConversation();
  }

  /* ---------- earlier conversations of a verified customer (POST /api/customers/history) ---------- */

  async function loadEarlier() {
    maruChat.verified = Boolean(app.identity && app.sessionCustomer === app.identity.id);
    if (!app.identity) { showEarlier([]); return; }
    try {
      const res = await api('POST', '/api/customers/history', signedBody());
      if (res.status === 400 && refuseIdentity(res.data)) return;
      if (!res.ok || !res.data) return; // the chat works without them
      app.historyToken = res.data.history_token;
      showEarlier((res.data.conversations || []).filter((c) => c && c.conversation_id !== app.conversationId));
    } catch (err) {
      console.warn('[maru-chat] earlier conversations', err);
    }
  }

  function showEarlier(list) {
    app.earlier = list;
    maruChat.earlier = list.length;
    renderEarlier();
  }

  function shortDate(ts) {
    const date = new Date(ts);
    return isNaN(date) ? '' : date.toLocaleDateString(app.language, { year: 'numeric', month: 'short', day: 'numeric' });
  }

  /** A closed <details> above the chat: one button per conversation, date and last words. */
  function renderEarlier() {
    ui.earlierLabel.textContent = t('earlier', app.earlier.length);
    ui.earlierList.replaceChildren();
    for (const item of app.earlier) {
      const button = make('button', 'earlier-item');
      button.type = 'button';
      button.dataset.conversationId = item.conversation_id;
      button.append(make('span', 'earlier-date', shortDate(item.started_at)),
        make('span', 'earlier-preview', String(item.preview || '')));
      button.addEventListener('click', () => openEarlier(item));
      const li = document.createElement('li');
      li.append(button);
      ui.earlierList.append(li);
    }
    // A reconnect refreshes the list while one is open: it stays out of the way until "back".
    ui.earlier.hidden = app.earlier.length === 0 || !ui.earlierView.hidden;
  }

  /** One earlier conversation, read-only, in place of the chat until "Back to the chat". */
  async function openEarlier(item) {
    let res;
    try {
      res = await fetch('/api/customers/history/' + encodeURIComponent(item.conversation_id), {
        headers: { Accept: 'application/json', Authorization: 'Bearer ' + app.historyToken },
        cache: 'no-store',
      });
    } catch (err) { showError(t('error')); return; }
    if (res.status === 401) { await loadEarlier(); showError(t('error')); return; } // token expired
    if (!res.ok) { showError(t('error')); return; }
    const data = await res.json();
    ui.earlierTitle.textContent = t('earlierTitle', shortDate(item.started_at));
    // Buttons dropped: a choice in an old conversation would send a message in this one.
    // Nor an "email me this answer": its seq is of the other conversation.
    ui.earlierMessages.replaceChildren(...(data.messages || []).map((m) => buildMessage(Object.assign({}, m, { buttons: [], article_id: null }))));
    showEarlierView(true);
    ui.earlierBack.focus();
  }

  function showEarlierView(open) {
    ui.earlierView.hidden = !open;
    for (const el of [ui.scroller, ui.form, ui.earlier]) el.hidden = open;
    if (open) hideSuggestions();
    else { ui.earlier.hidden = app.earlier.length === 0; ui.input.focus(); }
  }

  ui.earlierBack.addEventListener('click', () => showEarlierView(false));
  ui.earlierView.addEventListener('keydown', (event) => {
    if (event.key !== 'Escape') return;
    event.preventDefault(); // this Escape closed the earlier conversation, not the embedded chat
    showEarlierView(false);
  });

  /* ---------- inside a host site's page (/static/embed.js) ---------- */

  function setUpEmbedding() {
    const params = new URLSearchParams(location.search);
    // The host's brand colour, checked: it goes into the page's style.
    const colour = params.get('color') || '';
    if (/^#[0-9a-fA-F]{6}$/.test(colour)) {
      document.documentElement.style.setProperty('--brand', colour);
      document.documentElement.style.setProperty('--brand-dark', `color-mix(in srgb, ${colour} 80%, #000)`);
    }
    if (params.get('embed') !== '1' || window.parent === window) return;
    // The host page (any origin) closes the frame; the message carries nothing else.
    const closeFrame = () => window.parent.postMessage({ type: 'maru-support:close' }, '*');
    ui.closeEmbed.hidden = false;
    ui.closeEmbed.addEventListener('click', closeFrame);
    document.addEventListener('keydown', (event) => {
      if (event.key === 'Escape' && !event.defaultPrevented) closeFrame();
    });
  }

  // index.html ships the box and its button disabled: text typed while this script was
  // still loading would have stayed in the box unsent (Enter only sends once the handlers
  // above are in). Now it does.
  ui.input.disabled = false;
  ui.send.disabled = false;
  loadSession();
  setUpEmbedding();
  applyLanguage(app.language);
  loadNotices();
  awaitIdentity().then(() => {
    dropSessionOfAnother();
    start();
  });
})();
