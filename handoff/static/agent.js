/*
 * Maru Store live-agent console.
 *
 * REST for everything the agent does (sign in, accept, send, notes, resolve); one WebSocket
 * pushes the queue, new messages, private notes and state changes. Server text is only ever
 * inserted with textContent / text nodes, never as HTML. No dependencies and no build step: this file is served as-is.
 * Its own words come from console_i18n.js (loaded first), in the language the agent chose.
 */
(function () {
  'use strict';

  const SESSION_KEY = 'maru-agent';          // {token, agent, expires_at, selected}: this tab only
  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 8000;
  const TYPING_IDLE_MS = 3000;               // our "typing off" after this long without a keystroke
  const CUSTOMER_TYPING_MS = 30000;          // hide "customer is typing" if "off" never arrives
  const NOTICE_MS = 6000;
  const MAX_CHARS = 2000;
  const ROLES = ['customer', 'bot', 'agent', 'system'];

  // Codes the server sends whose words live in the strings table (console_i18n.js) as
  // "<kind>.<code>"; a code not listed is shown as it came.
  const I18N = window.maruConsoleI18n;
  const t = I18N.t;
  const CODES = {
    reason: ['requested', 'misses', 'not_helpful', 'complaint', 'always_human'],
    language: ['ko', 'ja', 'en'],  // the customers' languages, as conversations carry them
    state: ['queued', 'assigned', 'resolved', 'cancelled', 'bot', 'offline_ticket', 'abandoned', 'reassigned'],
    decision: ['answer', 'clarify', 'abstain'],
    feedback: ['helpful', 'not_helpful'],
    ticket: ['open', 'claimed', 'answered', 'closed'],
    availability: ['online', 'away', 'busy'],  // what the agent sets (the header's menu)
  };
  /** The words for a server code (`kind` as in CODES), or the code itself; null for no code. */
  const codeText = (kind, code) => (CODES[kind].includes(code) ? t(kind + '.' + code) : code ? String(code) : null);
  const languageName = (code) => codeText('language', code);

  const $ = (id) => document.getElementById(id);
  const ui = {
    shortcuts: $('shortcuts'), shortcutsOpen: $('shortcuts-open'),
    loginView: $('login-view'), loginForm: $('login-form'), username: $('username'),
    password: $('password'), loginButton: $('login-button'), loginError: $('login-error'),
    console: $('console-view'), connection: $('connection'), agentName: $('agent-name'),
    agentLanguages: $('agent-languages'), signOut: $('sign-out'), notice: $('notice'),
    availability: $('availability'),
    queue: $('queue'), queueCount: $('queue-count'), mine: $('my-conversations'),
    tickets: $('tickets'), ticketsRefresh: $('tickets-refresh'), ticketsView: $('tickets-view'), ticketsStatus: $('tickets-status'),
    emptyState: $('empty-state'), view: $('conversation-view'), details: $('details'),
    convLanguage: $('conversation-language'), convSummary: $('conversation-summary'),
    convId: $('conversation-id'), convState: $('conversation-state'), resolve: $('resolve'),
    scroller: $('transcript-scroll'), transcript: $('transcript'), customerTyping: $('customer-typing'),
    form: $('composer-form'), canned: $('canned'), composer: $('composer'), send: $('send'),
    attach: $('attach'), attachInput: $('attach-input'),
    sendError: $('send-error'), charCount: $('char-count'),
    suggestions: $('suggestions'), suggestionsRefresh: $('suggestions-refresh'),
    reason: $('context-reason'), language: $('context-language'), customer: $('context-customer'),
    earlier: $('context-earlier'), attempts: $('context-attempts'),
    notes: $('notes'), noteForm: $('note-form'), noteText: $('note-text'), noteAdd: $('note-add'),
    noteError: $('note-error'),
    transferOpen: $('transfer-open'), transfer: $('transfer'), transferForm: $('transfer-form'),
    transferTarget: $('transfer-target'), transferNone: $('transfer-none'),
    transferReason: $('transfer-reason'), transferError: $('transfer-error'),
    transferSubmit: $('transfer-submit'), transferCancel: $('transfer-cancel'),
    labels: $('labels'), labelAdd: $('label-add'), labelError: $('label-error'),
    labelFilter: $('label-filter'), notifyOn: $('notify-on'), soundToggle: $('sound-toggle'),
  };

  const app = {
    token: null, agent: null, expiresAt: null,
    session: 0,               // bumped on sign-in/out: answers meant for an older session are dropped
    ws: null, retryTimer: null, backoffMs: BACKOFF_MIN_MS,
    queue: [], queueStamp: 0, mine: [], tickets: [], unread: new Map(), canned: [],
    detail: null, openGen: 0, suggestGen: 0,
    seqEls: new Map(),        // seq → element of the open conversation: de-duplicates everything
    noteEls: new Map(),       // note id → element of the open conversation's private notes
    transferEls: new Map(),   // a transfer's time → its line in the open conversation's transcript
    drafts: new Map(),        // conversation id → unsent composer text
    typingConv: null, typingTimer: null, customerTypingTimer: null,
    customerTypingSince: new Map(), // conversation id → when its customer's last "typing on" came
    noticeTimer: null, suggestTimer: null, mineTimer: null,
    labelCatalog: [],         // data/labels.yml as GET /api/agent/labels gives it: [{id, names}]
    labelFilter: '',          // the sidebar's "show only" label; '' for all
    queueKnown: null,         // ids the queue has shown us; null until the first list (no alert for it)
    queueVersion: null,       // the version of the last whole queue frame, moved on by each delta
    audio: null,              // the AudioContext of the beep, made on first use
  };
  const SOUND_KEY = 'maru-agent-sound';   // "off" when the agent turned the beep off

  // Read by automated browser tests; mutated in place so a held reference stays current.
  const maruAgent = (window.maruAgent = { token: null, connected: false, selected: null, availability: null });

  /* ---------- small helpers ---------- */

  /** `content`: text (set with textContent) or an array of nodes/strings (falsy entries skipped). */
  function make(tag, className, content) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (Array.isArray(content)) el.append(...content.filter((c) => c || c === 0));
    else if (content !== undefined && content !== null) el.textContent = String(content);
    return el;
  }

  function button(className, label, onClick) {
    const b = make('button', className, label);
    b.type = 'button';
    b.addEventListener('click', onClick);
    return b;
  }

  /** Sets lang (so the browser picks Korean vs Japanese glyphs for shared Han characters). */
  function setLang(el, lang) {
    if (CODES.language.includes(lang)) el.lang = lang; else el.removeAttribute('lang');
    return el;
  }

  /** KO / JA / EN. Fills an existing element so ids and hooks on it stay valid. */
  function fillBadge(el, lang) {
    const code = String(lang || '?').toLowerCase();
    el.className = 'badge lang-' + code;
    el.textContent = code.toUpperCase();
    el.title = languageName(code);
    return el;
  }
  const langBadge = (lang) => fillBadge(make('span'), lang);

  const reasonText = (code) => codeText('reason', code) || t('reason.unknown');
  const stateText = (state) => codeText('state', state) || '';
  // Only "assigned" accepts replies (after a resolve the server reports "bot", not "resolved").
  const isClosed = () => !app.detail || app.detail.state !== 'assigned';
  const list = (value) => (Array.isArray(value) ? value.filter(Boolean) : []);

  function formatScore(value) {
    const n = Number(value);
    return value === null || value === undefined || !Number.isFinite(n) ? '' : n.toFixed(2);
  }

  function formatWait(seconds) {
    const s = Math.max(0, Math.floor(seconds));
    const pad = (n) => String(n).padStart(2, '0');
    if (s < 60) return t('wait.seconds', { s });
    if (s < 3600) return t('wait.minutes', { m: Math.floor(s / 60), s: pad(s % 60) });
    return t('wait.hours', { h: Math.floor(s / 3600), m: pad(Math.floor(s / 60) % 60) });
  }

  /** A <time> in the console language; it keeps its instant, so a language switch can redo it. */
  function buildTime(ts, withDate) {
    const date = ts ? new Date(ts) : null;
    if (!date || isNaN(date)) return null;
    const time = make('time', 'time', I18N.formatTime(date, withDate));
    time.dateTime = date.toISOString();
    if (withDate) time.dataset.withDate = '1';
    return time;
  }

  /** Cut to the composer's limit without splitting an emoji's surrogate pair. */
  function clampText(text, max) {
    if (text.length <= max) return text;
    const cut = text.slice(0, Math.max(0, max));
    return /[\uD800-\uDBFF]$/.test(cut) ? cut.slice(0, -1) : cut;
  }

  /** An empty message hides the element. */
  function showText(el, message) {
    el.textContent = message || '';
    el.hidden = !message;
  }

  function showNotice(message, isError) {
    clearTimeout(app.noticeTimer);
    showText(ui.notice, message);
    ui.notice.classList.toggle('is-error', Boolean(isError));
    ui.notice.title = message || ''; // the bar may cut a long message short
    if (message) app.noticeTimer = setTimeout(() => showText(ui.notice, ''), NOTICE_MS);
  }

  /* ---------- session ---------- */

  function saveSession() {
    try {
      if (!app.token) sessionStorage.removeItem(SESSION_KEY);
      else sessionStorage.setItem(SESSION_KEY, JSON.stringify({
        token: app.token, agent: app.agent, expires_at: app.expiresAt, selected: maruAgent.selected,
      }));
    } catch (_) { /* storage disabled: the console still works until the tab closes */ }
  }

  function loadSession() {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch (_) { return null; }
    if (!saved || typeof saved.token !== 'string') return null;
    // expires_at as ISO text or epoch seconds; unreadable means "let the server decide".
    const exp = saved.expires_at;
    const expires = typeof exp === 'number' ? exp * 1000 : Date.parse(exp);
    return expires <= Date.now() ? null : saved;
  }

  function startSession(token, agent, expiresAt, selected) {
    app.session += 1;
    app.token = maruAgent.token = token;
    app.agent = agent || {};
    app.expiresAt = expiresAt || null;
    saveSession();
    ui.loginView.hidden = true;
    ui.console.hidden = false;
    renderAgent();
    connect();
    refreshQueue();
    refreshMine();
    loadCanned();
    loadTickets();
    loadLabels();
    renderNotifyControls();
    if (selected) openConversation(selected);
  }

  /** Forget everything about this agent locally; the caller decides what the sign-in form says. */
  function endSession() {
    stopTyping();
    app.session += 1;
    app.token = maruAgent.token = app.agent = null;
    closeSocket();
    clearTimeout(app.retryTimer);
    switchTo(null);
    app.queue = [];
    app.queueKnown = null;
    app.queueVersion = null;
    app.mine = [];
    app.unread.clear();
    app.drafts.clear();
    app.customerTypingSince.clear();
    [ui.queue, ui.mine, ui.tickets].forEach((el) => el.replaceChildren());
    showText(ui.ticketsStatus, '');
    clearSearch();
    updateQueueCount();
    saveSession();
    ui.console.hidden = true;
    ui.loginView.hidden = false;
    ui.username.focus();
  }

  function expireSession() {
    if (!app.token) return;
    endSession();
    showText(ui.loginError, t('session.expired'));
  }

  async function signIn(event) {
    event.preventDefault();
    const username = ui.username.value.trim();
    const password = ui.password.value;
    if (!username || !password) return;
    ui.loginButton.disabled = true;
    showText(ui.loginError, '');
    const res = await api('POST', '/api/agent/login', { username, password });
    ui.loginButton.disabled = false;
    if (!res.ok || !res.data || typeof res.data.token !== 'string') {
      showText(ui.loginError, res.status === 401 ? t('login.wrong') : res.message);
      return;
    }
    ui.password.value = '';
    startSession(res.data.token, res.data.agent, res.data.expires_at, null);
  }

  function signOut() {
    api('POST', '/api/agent/logout'); // its headers are built now, before the token is dropped
    endSession();
  }

  function renderAgent() {
    const agent = app.agent || {};
    ui.agentName.textContent = agent.display_name || agent.username || '';
    ui.agentName.title = list(agent.skills).length ? t('agent.skills', { skills: agent.skills.join(', ') }) : '';
    ui.agentLanguages.replaceChildren(...list(agent.languages).map(langBadge));
    // Supervisors also get the analytics page (it shares this tab's session).
    $('analytics-link').hidden = agent.role !== 'supervisor';
    renderAvailability();
  }

  /* ---------- availability: online / away / busy ---------- */

  const availability = () => (CODES.availability.includes(app.agent && app.agent.availability)
    ? app.agent.availability : 'online');

  /** The header's menu, and the queue's empty text: away and busy are offered no chats. */
  function renderAvailability() {
    const now = availability();
    if (!ui.availability.disabled) ui.availability.value = now;
    ui.availability.dataset.availability = now;
    maruAgent.availability = now;
    const key = now === 'online' ? 'queue.empty' : 'queue.paused_' + now;
    ui.queue.dataset.i18nEmpty = key; // the language switch re-reads it
    ui.queue.dataset.empty = t(key);
  }

  /** Now `value` (the server said so): the queue follows, emptied or read again. */
  function applyAvailability(value) {
    if (!CODES.availability.includes(value) || value === availability()) return;
    app.agent = Object.assign({}, app.agent, { availability: value });
    saveSession();
    renderAvailability();
    if (value === 'online') refreshQueue();
    else { app.queueStamp += 1; setQueue([]); }
  }

  async function changeAvailability() {
    const wanted = ui.availability.value;
    if (wanted === availability()) return;
    ui.availability.disabled = true;
    const res = await api('PUT', '/api/agent/availability', { availability: wanted });
    ui.availability.disabled = false;
    if (res.stale) return;
    if (res.ok && res.data) applyAvailability(res.data.availability);
    else {
      renderAvailability(); // back to what is stored
      showNotice(t('availability.failed', { message: res.message }), true);
    }
  }

  /* ---------- REST ---------- */

  /** Never throws. `stale`: the session changed (or just expired) meanwhile, so drop the answer. */
  async function api(method, path, body) {
    const session = app.session;
    const headers = { Accept: 'application/json' };
    if (body) headers['Content-Type'] = 'application/json';
    if (app.token) headers.Authorization = 'Bearer ' + app.token;
    let res = null;
    let text = '';
    try {
      res = await fetch(path, { method, headers, cache: 'no-store', body: body ? JSON.stringify(body) : undefined });
      text = await res.text();
    } catch (_) { /* network error: res stays null */ }
    if (session !== app.session) return { ok: false, status: 0, stale: true };
    if (!res) return { ok: false, status: 0, message: t('error.unreachable') };
    if (res.status === 401 && path !== '/api/agent/login') {
      expireSession();
      return { ok: false, status: 401, stale: true };
    }
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (_) { /* some errors are plain text */ }
    const error = (data && data.error) || {};
    const plain = !data && !res.ok && text.length < 300 ? text : '';
    return { ok: res.ok, status: res.status, data, code: error.code, message: error.message || plain || t('error.request_failed', { status: res.status }) };
  }

  const conversationPath = (id, action) =>
    '/api/agent/conversations/' + encodeURIComponent(id) + (action ? '/' + action : '');

  /* ---------- WebSocket ---------- */

  function connect() {
    clearTimeout(app.retryTimer);
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/agent/ws`);
    app.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: app.token }));
    ws.onmessage = (event) => {
      if (ws !== app.ws) return; // a frame from a socket we already abandoned
      let frame;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      const handler = frame && FRAMES[frame.type];
      if (handler) handler(frame);
    };
    ws.onclose = () => {
      if (ws !== app.ws) return;
      app.ws = null;
      setConnection(false);
      app.customerTypingSince.clear(); // an "off" may be lost while we are away
      showCustomerTyping();
      app.retryTimer = setTimeout(connect, app.backoffMs);
      app.backoffMs = Math.min(app.backoffMs * 2, BACKOFF_MAX_MS);
    };
  }

  /** Detach first so the close handler does not schedule a reconnect for an intentional close. */
  function closeSocket() {
    const ws = app.ws;
    app.ws = null;
    setConnection(false);
    if (ws) ws.close();
  }

  function setConnection(live) {
    maruAgent.connected = live;
    ui.connection.dataset.state = live ? 'live' : 'reconnecting';
    // Until the first socket opens the markup's "Connecting…" stands; after it, live or not.
    ui.connection.dataset.i18n = live ? 'connection.live' : 'connection.reconnecting';
    ui.connection.textContent = t(ui.connection.dataset.i18n);
  }

  function sendFrame(frame) {
    if (maruAgent.connected && app.ws && app.ws.readyState === WebSocket.OPEN) app.ws.send(JSON.stringify(frame));
  }

  const FRAMES = {
    ready(frame) {
      app.backoffMs = BACKOFF_MIN_MS;
      setConnection(true);
      if (frame.agent) { app.agent = Object.assign({}, app.agent, frame.agent); renderAgent(); saveSession(); }
      // The socket only pushes changes: catch up on whatever happened while it was down.
      app.queueVersion = null;  // the server sends this socket the whole queue first
      refreshQueue();
      refreshMine();
      if (maruAgent.selected) openConversation(maruAgent.selected);
    },
    queue(frame) {
      app.queueStamp += 1;
      app.queueVersion = Number.isInteger(frame.version) ? frame.version : null;
      setQueue(frame.items);
    },
    // What changed since the queue frame (or delta) before: chats gone, chats new or changed.
    queue_delta(frame) {
      if (frame.base !== app.queueVersion) {  // a frame missed: read the whole queue again
        app.queueVersion = Number.isInteger(frame.version) ? frame.version : null;
        refreshQueue();
        return;
      }
      app.queueStamp += 1;
      app.queueVersion = frame.version;
      const gone = new Set(list(frame.removed));
      const changed = new Map(list(frame.upsert).filter((item) => item && item.conversation_id)
        .map((item) => [item.conversation_id, item]));
      const kept = app.queue.filter((item) => !gone.has(item.conversation_id) && !changed.has(item.conversation_id));
      setQueue(inServiceOrder(kept.concat([...changed.values()])));
    },
    // A ticket claimed, answered, released or closed, by anyone: the list shows it at once.
    ticket() {
      scheduleTicketsReload();
    },
    // Set here or in another of our consoles (any replica).
    availability(frame) {
      applyAvailability(frame.availability);
    },
    message(frame) {
      const id = frame.conversation_id;
      if (id === maruAgent.selected) {
        receiveMessage(frame);
        if (frame.role === 'customer') scheduleSuggestions();
      }
      if (frame.role === 'customer') noteCustomerTyping(id, false); // the message replaces it
      // Not the open chat, or the tab is in the background: unread, a beep and a notification.
      if (frame.role === 'customer' && (id !== maruAgent.selected || document.hidden)) {
        app.unread.set(id, (app.unread.get(id) || 0) + 1);
        renderMine();
        updateQueueCount();
        alertAgent(t('notify.message_title', { name: customerName(id) }), t('notify.message_body'), id);
      }
      if (!app.mine.some((c) => c.conversation_id === id)) scheduleMineRefresh();
    },
    // Labels changed on a chat we have open or in our lists (ours, or set by us).
    labels(frame) {
      applyLabels(frame.conversation_id, frame.labels);
    },
    typing(frame) {
      noteCustomerTyping(frame.conversation_id, Boolean(frame.on));
    },
    // A private note on a chat we have (ours, or one we added it to): for the open one, shown.
    note(frame) {
      if (frame.conversation_id === maruAgent.selected) receiveNote(frame);
    },
    state(frame) {
      if (frame.state === 'reassigned') dropReassigned(frame);
      else applyState(frame.conversation_id, frame.state);
    },
    // A supervisor gave us this chat: it comes with its context and transcript.
    assigned(frame) {
      const id = frame.conversation_id;
      if (!id) return;
      if (app.queue.some((q) => q.conversation_id === id)) removeFromQueue(id);
      const moved = frame.transfer;  // a colleague's transfer comes with their reason
      showNotice(moved && typeof moved === 'object'
        ? t('transfer.received', { from: moved.from_agent || frame.by || '', reason: moved.reason || '' })
        : t('notice.assigned', { by: frame.by || t('notice.a_supervisor') }));
      if (!maruAgent.selected) openConversation(id, frame.view);
      else { app.unread.set(id, (app.unread.get(id) || 0) + 1); }
      refreshMine();
    },
    error(frame) {
      if (frame.code === 'unauthorized') expireSession();
      // The database is away a moment: the socket closes next and the console reconnects.
      else if (frame.code === 'store_unavailable') return;
      else showNotice(frame.message || frame.code || t('error.server'), true);
    },
  };

  /* ---------- queue ---------- */

  async function refreshQueue() {
    const stamp = app.queueStamp;
    const res = await api('GET', '/api/agent/queue');
    // A queue frame that arrived while this request was in flight is newer than its answer.
    if (res.ok && Array.isArray(res.data) && stamp === app.queueStamp) setQueue(res.data);
  }

  /** The server's order: highest priority first, then first come. */
  function inServiceOrder(items) {
    const key = (item) => [-(Number(item.priority) || 0), Number(item.queued_at) || 0];
    return items.sort((a, b) => {
      const [pa, qa] = key(a);
      const [pb, qb] = key(b);
      return pa - pb || qa - qb;
    });
  }

  /**
   * `since` turns the server's waiting_seconds into a local start time the clock counts from
   * (an item kept from an earlier frame keeps its own).
   */
  function setQueue(items) {
    const now = Date.now();
    app.queue = list(items).filter((item) => item.conversation_id)
      .map((item) => Object.assign({}, item, { since: item.since ?? now - (Number(item.waiting_seconds) || 0) * 1000 }));
    // The server only lists chats we can take: one we have not seen before is new work.
    const fresh = app.queueKnown ? app.queue.filter((item) => !app.queueKnown.has(item.conversation_id)) : [];
    app.queueKnown = new Set([...(app.queueKnown || []), ...app.queue.map((item) => item.conversation_id)]);
    fresh.forEach((item) => alertAgent(t('notify.queued_title'), t('notify.queued_body', {
      language: languageName(item.language) || '', reason: reasonText(item.reason),
    }), item.conversation_id));
    renderQueue();
  }

  function removeFromQueue(id) {
    app.queueStamp += 1; // an in-flight GET may still list it
    app.queue = app.queue.filter((item) => item.conversation_id !== id);
    renderQueue();
  }

  /**
   * Keyed update: rows are kept and only moved when their position changes, so an Accept
   * button the agent is about to click is not swapped out under the pointer by a queue frame.
   */
  function renderQueue() {
    const old = new Map(Array.from(ui.queue.children, (el) => [el.dataset.conversationId, el]));
    const rows = app.queue.filter(labelled)
      .map((item) => fillQueueItem(old.get(item.conversation_id) || buildQueueItem(item), item));
    rows.forEach((row, i) => {
      if (ui.queue.children[i] !== row) ui.queue.insertBefore(row, ui.queue.children[i] || null);
    });
    while (ui.queue.children.length > rows.length) ui.queue.lastElementChild.remove();
    updateQueueCount();
  }

  function buildQueueItem(item) {
    const accept = button('accept', t('queue.accept'), () => acceptConversation(item.conversation_id, accept));
    const li = make('li', 'queue-item', [
      make('div', 'item-top', [make('span', 'badge'), make('span', 'reason'), make('span', 'skill'), make('span', 'wait')]),
      make('p', 'summary'), make('span', 'chips chips-inline'), accept,
    ]);
    li.dataset.conversationId = item.conversation_id;
    return li;
  }

  function fillQueueItem(li, item) {
    fillBadge(li.querySelector('.badge'), item.language);
    li.querySelector('.reason').textContent = reasonText(item.reason);
    showText(li.querySelector('.skill'), item.skill || ''); // not in the brief's contract; the server sends it
    li.dataset.reason = item.reason || '';
    li.dataset.priority = String(item.priority ?? '');
    const wait = li.querySelector('.wait');
    wait.dataset.since = String(item.since);
    wait.textContent = formatWait((Date.now() - item.since) / 1000);
    setLang(li.querySelector('.summary'), item.language).textContent = item.summary || t('summary.none');
    fillChips(li.querySelector('.chips'), item.labels);
    const accept = li.querySelector('button.accept');
    if (!accept.disabled) accept.textContent = t('queue.accept'); // relabelled after a language switch
    return li;
  }

  function updateQueueCount() {
    const n = app.queue.length;
    ui.queueCount.textContent = String(n);
    // Agents keep this tab in the background: the count in the tab title is what they watch
    // (chats waiting and customer messages not yet read).
    const total = n + Array.from(app.unread.values()).reduce((a, b) => a + b, 0);
    document.title = (total ? `(${total}) ` : '') + t('console.title');
  }

  function tick() {
    const now = Date.now();
    ui.queue.querySelectorAll('.wait[data-since]').forEach((el) => {
      el.textContent = formatWait((now - Number(el.dataset.since)) / 1000);
    });
  }

  async function acceptConversation(id, acceptButton) {
    acceptButton.disabled = true;
    acceptButton.textContent = t('queue.accepting');
    const res = await api('POST', conversationPath(id, 'accept'));
    if (res.stale) return;
    if (res.ok && res.data) {
      removeFromQueue(id);
      refreshMine();
      openConversation(id, res.data);
      return;
    }
    acceptButton.disabled = false;
    acceptButton.textContent = t('queue.accept');
    // Gone for everyone: drop the row. Anything else (at_capacity, not_eligible) is about us: keep it.
    const gone = res.code === 'already_assigned' || res.code === 'not_waiting' || res.status === 404;
    if (gone) removeFromQueue(id);
    showNotice(res.code === 'already_assigned' ? t('notice.already_accepted')
      : gone ? t('notice.not_waiting') : res.message, true);
  }

  /* ---------- my conversations and tickets ---------- */

  async function refreshMine() {
    const res = await api('GET', '/api/agent/conversations');
    if (!res.ok || !Array.isArray(res.data)) return;
    app.mine = list(res.data).filter((c) => c.conversation_id);
    renderMine();
    // The contract's GET /conversations/{id} has no state: then this list is what tells us.
    const current = app.mine.find((c) => c.conversation_id === maruAgent.selected);
    if (current && current.state && app.detail && current.state !== app.detail.state) applyState(current.conversation_id, current.state);
  }

  function scheduleMineRefresh() {
    clearTimeout(app.mineTimer);
    app.mineTimer = setTimeout(refreshMine, 300);
  }

  function renderMine() {
    ui.mine.replaceChildren(...app.mine.filter(labelled).map((c) => {
      const unread = app.unread.get(c.conversation_id);
      const badge = unread ? make('span', 'unread', String(unread)) : null;
      if (badge) badge.setAttribute('aria-label', t('unread.count', { count: unread }));
      const chips = make('span', 'chips chips-inline');
      fillChips(chips, c.labels);
      const li = make('li', 'conv-item', [button('conv-open', [
        make('span', 'item-top', [
          langBadge(c.language), make('span', 'reason', reasonText(c.reason)),
          badge, make('span', 'state-tag', stateText(c.state)),
        ]),
        setLang(make('span', 'summary', c.summary || t('summary.none')), c.language),
        chips,
      ], () => openConversation(c.conversation_id))]);
      li.dataset.conversationId = c.conversation_id;
      li.classList.toggle('selected', c.conversation_id === maruAgent.selected);
      li.classList.toggle('closed', c.state !== 'assigned');
      return li;
    }));
    updateQueueCount();
  }

  /* Offline tickets (handoff/conversation/tickets.py): claim, reply, release, close. The list
     shows a view (open / mine / all); a `ticket` frame from any console reloads it. */
  async function loadTickets() {
    ui.ticketsRefresh.disabled = true;
    const view = ui.ticketsView.value || 'open';
    const res = await api('GET', '/api/agent/tickets?view=' + encodeURIComponent(view));
    ui.ticketsRefresh.disabled = false;
    if (res.stale) return;
    if (!res.ok || !Array.isArray(res.data)) { showNotice(t('tickets.load_failed'), true); return; }
    app.tickets = list(res.data);
    renderTickets();
  }

  function scheduleTicketsReload() {
    clearTimeout(app.ticketsTimer);
    app.ticketsTimer = setTimeout(loadTickets, 200);
  }

  function renderTickets() {
    // Keep a reply being written (and where the focus is) across a reload of the list.
    const drafts = new Map();
    ui.tickets.querySelectorAll('textarea.ticket-reply-text').forEach((el) => {
      if (el.value) drafts.set(el.dataset.ticketId, el.value);
    });
    const focused = document.activeElement && document.activeElement.dataset ? document.activeElement.dataset.focusKey : null;
    ui.tickets.replaceChildren(...app.tickets.map((ticket) => buildTicket(ticket, drafts)));
    if (focused) {
      const again = ui.tickets.querySelector(`[data-focus-key="${CSS.escape(focused)}"]`);
      if (again) again.focus();
    }
  }

  const isMine = (ticket) => Boolean(app.agent) && ticket.claimed_by === app.agent.username;

  function buildTicket(ticket, drafts) {
    const c = ticket.contact || {};
    const id = String(ticket.ticket_id ?? '');
    const claimedBy = ticket.claimed_by
      ? make('div', 'ticket-claimed muted small', t(isMine(ticket) ? 'tickets.claimed_by_me' : 'tickets.claimed_by', { name: ticket.claimed_by }))
      : null;
    const actions = make('div', 'ticket-actions');
    const act = (key, path, body) => {
      const b = button('button-small', t(key), () => ticketAction(ticket, path, body));
      b.dataset.focusKey = id + ':' + path;
      return b;
    };
    actions.append(button('button-small button-quiet', t('tickets.open_transcript'), () => openTranscript({ conversation_id: ticket.conversation_id })));
    if (ticket.state === 'open') actions.append(act('tickets.claim', 'claim'));
    if (isMine(ticket) && ticket.state === 'claimed') actions.append(act('tickets.release', 'release'));
    if (isMine(ticket) && ticket.state !== 'closed') actions.append(act('tickets.close', 'close', {}));
    const li = make('li', 'ticket', [
      make('div', 'item-top', [
        make('span', 'ticket-number', '#' + id), langBadge(ticket.language),
        make('span', 'state-tag', codeText('ticket', ticket.state) || ''), buildTime(ticket.created_at, true),
      ]),
      claimedBy,
      make('div', 'contact', [
        c.name && make('span', null, c.name),
        c.email && link('mailto:' + c.email, c.email),
        c.phone && link('tel:' + String(c.phone).replace(/[^\d+]/g, ''), c.phone),
      ]),
      setLang(make('p', 'summary', ticket.message || ''), ticket.language),
      actions,
      isMine(ticket) && ticket.state !== 'closed' ? buildTicketReply(ticket, drafts.get(id) || '') : null,
    ]);
    li.dataset.ticketId = id;
    li.dataset.state = ticket.state || '';
    return li;
  }

  /** The claimer's reply box: a labelled textarea and Send. */
  function buildTicketReply(ticket, draft) {
    const id = String(ticket.ticket_id);
    const fieldId = 'ticket-reply-' + id;
    const label = make('label', 'small', t('tickets.reply_label', { number: id }));
    label.htmlFor = fieldId;
    const text = make('textarea', 'ticket-reply-text');
    text.id = fieldId;
    text.rows = 3;
    text.maxLength = 2000;
    text.value = draft;
    text.dataset.ticketId = id;
    text.dataset.focusKey = id + ':text';
    setLang(text, ticket.language);
    const send = make('button', 'button-small', t('tickets.send_reply'));
    send.type = 'submit';
    send.dataset.focusKey = id + ':send';
    const form = make('form', 'ticket-reply', [label, text, send]);
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      const value = text.value.trim();
      if (!value) { text.focus(); return; }
      ticketAction(ticket, 'reply', { text: value }, () => { text.value = ''; });
    });
    return form;
  }

  // Written out, not built from the action or code: every key the console uses can be
  // found in this file (tests/e2e/test_console_language_browser.py checks each exists).
  const TICKET_DONE = {
    claim: 'tickets.done_claim', release: 'tickets.done_release',
    reply: 'tickets.done_reply', close: 'tickets.done_close',
  };
  const TICKET_REFUSED = {
    ticket_claimed: 'tickets.error_ticket_claimed', not_yours: 'tickets.error_not_yours',
    ticket_closed: 'tickets.error_ticket_closed', ticket_not_claimed: 'tickets.error_ticket_not_claimed',
  };

  async function ticketAction(ticket, action, body, done) {
    const res = await api('POST', '/api/agent/tickets/' + encodeURIComponent(ticket.ticket_id) + '/' + action, body);
    if (res.stale) return;
    if (res.ok) {
      if (done) done();
      // Claimed: it leaves the open list; the agent's own list is where it is worked.
      if (action === 'claim' && ui.ticketsView.value === 'open') ui.ticketsView.value = 'mine';
      showText(ui.ticketsStatus, t(TICKET_DONE[action], { number: ticket.ticket_id }));
    } else {
      const refused = Object.hasOwn(TICKET_REFUSED, res.code) ? TICKET_REFUSED[res.code] : null;
      showText(ui.ticketsStatus, refused ? t(refused, { number: ticket.ticket_id }) : res.message);
    }
    loadTickets();
  }

  /** Only ever called with a fixed mailto:/tel: prefix, so server text can't become javascript:. */
  function link(href, text) {
    const a = make('a', null, text);
    a.href = href;
    return a;
  }

  /* ---------- the open conversation ---------- */

  /** Open (or, on reconnect, re-read and merge) a conversation; `preloaded` is accept's answer. */
  async function openConversation(id, preloaded) {
    if (maruAgent.selected !== id) switchTo(id);
    const gen = ++app.openGen;
    const res = preloaded ? { ok: true, data: preloaded } : await api('GET', conversationPath(id));
    if (gen !== app.openGen || maruAgent.selected !== id || res.stale) return;
    if (!res.ok || !res.data) {
      const gone = res.status === 403 || res.status === 404;
      showNotice(gone ? t('notice.unavailable') : res.message, true);
      if (gone) switchTo(null);
      return;
    }
    const first = !app.detail;
    const known = app.mine.find((c) => c.conversation_id === id);
    app.detail = Object.assign({}, res.data, {
      state: res.data.state || (known && known.state) || (app.detail && app.detail.state) || 'assigned',
    });
    renderHeader();
    renderContext(app.detail);
    list(res.data.transcript).forEach(receiveMessage);
    list(res.data.notes).forEach(receiveNote);
    list(res.data.transfers).forEach(receiveTransfer);
    renderLabels();
    if (first) ui.scroller.scrollTop = ui.scroller.scrollHeight;
    updateComposerState();
    loadSuggestions();
  }

  /**
   * Leave the current conversation (keeping its draft) and show an empty shell for `id`, or
   * the "pick a conversation" placeholder for null.
   */
  function switchTo(id) {
    stopTyping();
    if (maruAgent.selected && ui.composer.value) app.drafts.set(maruAgent.selected, ui.composer.value);
    maruAgent.selected = id;
    app.detail = null;
    app.openGen += 1; // whatever was loading is for the conversation we are leaving
    app.seqEls.clear();
    app.noteEls.clear();
    app.transferEls.clear();
    revokeFiles();
    if (ui.transfer.open) ui.transfer.close();
    app.unread.delete(id);
    [ui.transcript, ui.suggestions, ui.earlier, ui.attempts, ui.customer, ui.reason, ui.language,
      ui.convSummary, ui.convState, ui.convLanguage, ui.notes].forEach((el) => el.replaceChildren());
    ui.noteText.value = '';
    showText(ui.noteError, '');
    ui.labels.replaceChildren();
    showText(ui.labelError, '');
    ui.composer.value = app.drafts.get(id) || '';
    app.drafts.delete(id);
    showText(ui.sendError, '');
    showCustomerTyping();
    ui.convId.textContent = id || '';
    ui.emptyState.hidden = Boolean(id);
    ui.view.hidden = ui.details.hidden = !id;
    ui.console.classList.toggle('has-conversation', Boolean(id));
    updateComposerState();
    renderMine();
    saveSession();
  }

  function applyState(id, state) {
    const item = app.mine.find((c) => c.conversation_id === id);
    if (item) { item.state = state; renderMine(); } else scheduleMineRefresh();
    if (state !== 'queued' && app.queue.some((q) => q.conversation_id === id)) removeFromQueue(id);
    if (id !== maruAgent.selected || !app.detail) return;
    app.detail.state = state;
    renderHeader();
    updateComposerState();
    if (isClosed()) { stopTyping(); noteCustomerTyping(id, false); }
  }

  /** A supervisor moved one of our chats to someone else: it leaves our list; if it is
   * open, it stays readable but the composer closes (the server refuses our replies now). */
  function dropReassigned(frame) {
    const id = frame.conversation_id;
    applyState(id, 'reassigned');
    app.mine = app.mine.filter((c) => c.conversation_id !== id);
    app.unread.delete(id);
    renderMine();
    // Our own transfer (this console or another of ours) says where it went; a supervisor's
    // move says who moved it.
    if (frame.skill) showNotice(t('transfer.done_team', { team: frame.skill }));
    else if (frame.transfer) showNotice(t('transfer.done_agent', { agent: frame.agent || t('notice.another_agent') }));
    else {
      showNotice(t('notice.reassigned', {
        by: frame.by || t('notice.a_supervisor'), agent: frame.agent || t('notice.another_agent'),
      }));
    }
  }

  /* ---------- transfer: to a colleague or a team's queue, with a reason ---------- */

  /** The dialog, filled with who can take the open chat now (the server's list). */
  async function openTransfer() {
    const id = maruAgent.selected;
    if (!id || isClosed() || ui.transfer.open) return;
    showText(ui.transferError, '');
    ui.transferTarget.replaceChildren();
    ui.transferNone.hidden = true;
    ui.transferSubmit.disabled = true;
    ui.transfer.showModal();
    ui.transferTarget.focus();
    const res = await api('GET', conversationPath(id, 'transfer-options'));
    if (res.stale || maruAgent.selected !== id || !ui.transfer.open) return;
    if (!res.ok || !res.data) {
      showText(ui.transferError, t('transfer.load_failed', { message: res.message }));
      return;
    }
    const agents = list(res.data.agents).filter((a) => a.username);
    const teams = list(res.data.teams);
    const group = (label, options) => {
      const el = document.createElement('optgroup');
      el.label = label;
      el.append(...options);
      return el;
    };
    // new Option() sets text, not HTML.
    ui.transferTarget.replaceChildren(...[
      agents.length && group(t('transfer.colleagues'),
        agents.map((a) => new Option(String(a.display_name || a.username), 'agent:' + a.username))),
      teams.length && group(t('transfer.teams'),
        teams.map((team) => new Option(t('transfer.team', { team }), 'team:' + team))),
    ].filter(Boolean));
    ui.transferNone.hidden = Boolean(agents.length || teams.length);
    ui.transferSubmit.disabled = !(agents.length || teams.length);
  }

  async function submitTransfer() {
    const id = maruAgent.selected;
    const choice = ui.transferTarget.value;
    const reason = ui.transferReason.value.trim();
    if (!id || !choice || ui.transferSubmit.disabled) return;
    if (!reason) { ui.transferReason.focus(); return; }
    const [kind, ...rest] = choice.split(':');
    const name = rest.join(':');
    const body = kind === 'team' ? { to_skill: name, reason } : { to_agent: name, reason };
    const label = ui.transferTarget.selectedOptions[0];
    ui.transferSubmit.disabled = true;
    showText(ui.transferError, '');
    const res = await api('POST', conversationPath(id, 'transfer'), body);
    if (res.stale) return;
    ui.transferSubmit.disabled = false;
    if (!res.ok) { showText(ui.transferError, t('transfer.failed', { message: res.message })); return; }
    ui.transferReason.value = '';
    if (ui.transfer.open) ui.transfer.close();
    dropReassigned({
      conversation_id: id, transfer: true,
      agent: kind === 'agent' ? (label ? label.textContent : name) : undefined,
      skill: kind === 'team' ? name : undefined,
    });
  }

  /** "Transferred from A: why", placed after the last message written before it (agents only). */
  function receiveTransfer(x) {
    const key = String(x && x.ts);
    if (!x || app.transferEls.has(key)) return;
    const el = make('div', 'msg msg-transfer', [make('div', 'msg-meta', [buildTime(x.ts)]), make('div', 'bubble')]);
    el.dataset.transfer = JSON.stringify({ from: x.from_agent || '', team: x.to_skill || '', reason: x.reason || '' });
    labelTransfer(el);
    const after = Number(x.after_seq) || 0;
    el.dataset.seq = String(after + 0.5); // between its message and the next
    app.transferEls.set(key, el);
    withAutoScroll(() => placeBySeq(el, after + 0.5), false);
  }

  function labelTransfer(el) {
    const x = JSON.parse(el.dataset.transfer);
    el.querySelector('.bubble').textContent = x.team
      ? t('transfer.line_team', { from: x.from, team: x.team, reason: x.reason })
      : t('transfer.line_agent', { from: x.from, reason: x.reason });
  }

  function renderHeader() {
    const d = app.detail;
    fillBadge(ui.convLanguage, d.language);
    ui.convSummary.textContent = d.summary || t('conversation.untitled');
    ui.convState.textContent = stateText(d.state);
    ui.convState.dataset.state = d.state || '';
    [ui.convSummary, ui.transcript, ui.composer, ui.suggestions].forEach((el) => setLang(el, d.language));
  }

  function updateComposerState() {
    const closed = isClosed();
    [ui.composer, ui.send, ui.canned, ui.resolve, ui.transferOpen, ui.attach].forEach((el) => { el.disabled = closed; });
    // Notes stay open after a resolve (a follow-up for colleagues); a chat moved to someone
    // else is theirs now, notes included.
    const noNotes = !app.detail || app.detail.state === 'reassigned';
    ui.noteText.disabled = ui.noteAdd.disabled = noNotes;
    ui.suggestions.querySelectorAll('button.insert').forEach((b) => { b.disabled = closed; });
    ui.composer.placeholder = !app.detail ? t('composer.loading')
      : closed ? t('composer.closed', { state: stateText(app.detail.state).toLowerCase() })
        : t('composer.reply_in', { language: languageName(app.detail.language) || t('composer.customer_language') });
    updateCount();
  }

  /* ---------- transcript ---------- */

  function receiveMessage(m) {
    const seq = Number(m.seq);
    if (!Number.isFinite(seq) || app.seqEls.has(seq)) return;
    const el = buildMessage(m);
    el.dataset.seq = String(seq);
    app.seqEls.set(seq, el);
    withAutoScroll(() => placeBySeq(el, seq), false);
  }

  /** Insert after the last element with a smaller seq; pending (seq-less) bubbles stay last. */
  function placeBySeq(el, seq) {
    for (let other = ui.transcript.lastElementChild; other; other = other.previousElementSibling) {
      if (other.dataset.seq && Number(other.dataset.seq) < seq) { other.after(el); return; }
    }
    ui.transcript.prepend(el);
  }

  function buildMessage(m) {
    const role = ROLES.includes(m.role) ? m.role : 'system';
    const intent = role === 'customer' && m.intent && m.intent.name
      ? make('span', 'intent-tag', `${m.intent.name} ${formatScore(m.intent.confidence)}`.trim()) : null;
    if (intent) intent.title = t('message.intent_title');
    // A turn the customer sent by email (handoff/email/): one thread, the channel marked.
    const channel = m.channel === 'email' ? make('span', 'channel-tag', t('message.email')) : null;
    if (channel) channel.title = t('message.email_title');
    // Plain text on purpose, no linkify: a URL a customer sent is never one careless click away.
    return make('div', `msg msg-${role}`, [
      make('div', 'msg-meta', [roleLabel(role), channel, intent, buildTime(m.ts)]),
      m.attachment && typeof m.attachment === 'object'
        ? buildAttachment(m.attachment, maruAgent.selected)
        : make('div', 'bubble', m.text ?? ''),
    ]);
  }

  /* ---------- attachments ---------- */

  const IMAGE_TYPES = ['image/jpeg', 'image/png', 'image/gif', 'image/webp'];

  // The blob: URLs of the files on screen; each holds its file in memory until revoked,
  // which revokeFiles does when the transcript they belong to is cleared.
  const fileUrls = new Set();

  /** The file as a blob: URL, fetched with the session in a header (never in a URL). */
  async function attachmentUrl(conversationId, attachment) {
    const path = conversationPath(conversationId, 'attachments/' + encodeURIComponent(String(attachment.id)));
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + app.token }, cache: 'no-store' });
    if (!res.ok) throw new Error(t('error.request_failed', { status: res.status }));
    const url = URL.createObjectURL(await res.blob());
    fileUrls.add(url);
    return url;
  }

  function revokeFiles() {
    fileUrls.forEach((url) => URL.revokeObjectURL(url));
    fileUrls.clear();
  }

  /** A thumbnail for an image, a file chip (a download) for a PDF; the name as plain text. */
  function buildAttachment(attachment, conversationId) {
    const name = String(attachment.name || '');
    const chip = make('a', 'file-chip', name);
    chip.href = '#';
    chip.dataset.attachmentId = String(attachment.id);
    chip.title = t('attachment.download', { name });
    chip.addEventListener('click', async (event) => {
      if (chip.download) return; // fetched already: the browser saves it
      event.preventDefault();
      try {
        chip.href = await attachmentUrl(conversationId, attachment);
        chip.download = name;
        chip.click();
      } catch (err) { showNotice(t('attachment.failed', { message: err.message }), true); }
    });
    const box = make('div', 'bubble attachment');
    if (IMAGE_TYPES.includes(attachment.content_type)) {
      const img = make('img', 'attachment-image');
      img.alt = t('attachment.image_alt', { name });
      img.dataset.attachmentId = String(attachment.id);
      attachmentUrl(conversationId, attachment).then((url) => { img.src = url; }, () => { img.hidden = true; });
      box.append(img);
    }
    box.append(chip);
    return box;
  }

  async function sendFile(file) {
    const id = maruAgent.selected;
    if (!file || !id || isClosed()) return;
    showText(ui.sendError, '');
    ui.attach.disabled = true;
    const body = new FormData();
    body.append('file', file, file.name);
    let res = null;
    let data = null;
    try {
      res = await fetch(conversationPath(id, 'attachments'), {
        method: 'POST', body, headers: { Authorization: 'Bearer ' + app.token }, cache: 'no-store',
      });
      data = await res.json();
    } catch (_) { /* network error or no JSON */ }
    ui.attach.disabled = isClosed();
    if (res && res.status === 201 && data && data.message) {
      if (maruAgent.selected === id) receiveMessage(data.message);
      return;
    }
    const status = res ? res.status : 0;
    const message = (data && data.error && data.error.message) || t('error.unreachable');
    // The limit is the gateway's setting, told with the refusal: never a number of our own.
    const limit = Number(data && data.error && data.error.max_bytes) || 5 * 1024 * 1024;
    showText(ui.sendError, status === 413 ? t('attachment.too_big', { size: I18N.formatNumber(Math.round((limit / (1024 * 1024)) * 10) / 10) })
      : status === 415 ? t('attachment.wrong_type')
        : status === 429 ? t('attachment.slow') : t('attachment.failed', { message }));
  }

  function roleLabel(role) {
    const label = make('span', 'msg-role', t('role.' + role));
    label.dataset.role = role;
    return label;
  }

  /** Follow new content only if the agent was already at the bottom (or it is their own). */
  function withAutoScroll(mutate, force) {
    const s = ui.scroller;
    const atBottom = s.scrollHeight - s.scrollTop - s.clientHeight < 80;
    mutate();
    if (force || atBottom) s.scrollTop = s.scrollHeight;
  }

  /** Remember what a chat's customer last told about typing ("on": since when; "off":
      forgotten), for every chat, not only the open one: a chat opened just after its "on"
      came (an accept answered after the customer's first keystroke) still says so. */
  function noteCustomerTyping(id, on) {
    const now = Date.now();
    for (const [other, since] of app.customerTypingSince) {
      if (now - since >= CUSTOMER_TYPING_MS) app.customerTypingSince.delete(other); // stale
    }
    if (on) app.customerTypingSince.set(id, now);
    else app.customerTypingSince.delete(id);
    if (id === maruAgent.selected) showCustomerTyping();
  }

  /** "Customer is typing" for the open chat, until CUSTOMER_TYPING_MS after its last "on"
      (in case the "off" never comes). */
  function showCustomerTyping() {
    clearTimeout(app.customerTypingTimer);
    const id = maruAgent.selected;
    const since = app.customerTypingSince.get(id);
    const left = since === undefined ? 0 : CUSTOMER_TYPING_MS - (Date.now() - since);
    withAutoScroll(() => { ui.customerTyping.hidden = left <= 0; }, false);
    if (left > 0) app.customerTypingTimer = setTimeout(() => noteCustomerTyping(id, false), left);
  }

  /* ---------- private notes ---------- */

  /** Show a note once (the POST's answer and the websocket's frame may both bring it), by id. */
  function receiveNote(n) {
    const id = Number(n && n.id);
    if (!Number.isFinite(id) || app.noteEls.has(id)) return;
    const el = make('li', 'note', [
      make('div', 'note-meta', [make('span', 'note-author', n.author || ''), buildTime(n.created_at, true)]),
      make('p', 'note-text', n.text ?? ''),
    ]);
    el.dataset.noteId = String(id);
    app.noteEls.set(id, el);
    for (let other = ui.notes.lastElementChild; other; other = other.previousElementSibling) {
      if (Number(other.dataset.noteId) < id) { other.after(el); return; }
    }
    ui.notes.prepend(el);
  }

  async function addNote() {
    const id = maruAgent.selected;
    const text = ui.noteText.value.trim();
    if (!id || !text || ui.noteAdd.disabled) return;
    ui.noteAdd.disabled = true;
    showText(ui.noteError, '');
    const res = await api('POST', conversationPath(id, 'notes'), { text });
    if (res.stale) return;
    updateComposerState();
    if (maruAgent.selected !== id) return;
    if (res.ok && res.data) {
      receiveNote(res.data);
      if (ui.noteText.value.trim() === text) ui.noteText.value = '';
      return;
    }
    showText(ui.noteError, t('notes.add_failed', { message: res.message }));
  }

  /* ---------- labels ---------- */

  async function loadLabels() {
    const res = await api('GET', '/api/agent/labels');
    if (res.stale || !res.ok || !Array.isArray(res.data)) return;
    app.labelCatalog = list(res.data).filter((label) => label && label.id);
    renderLabelOptions();
    renderQueue();
    renderMine();
    renderLabels();
  }

  /** A label's name in the console language (its id if the list does not have it). */
  function labelName(id) {
    const label = app.labelCatalog.find((l) => l.id === id);
    return (label && label.names && (label.names[I18N.language] || label.names.en)) || String(id);
  }

  /** Whether a queue or list item passes the sidebar's label filter. */
  function labelled(item) {
    return !app.labelFilter || list(item.labels).includes(app.labelFilter);
  }

  function fillChips(el, labels) {
    const ids = list(labels);
    el.replaceChildren(...ids.map((id) => {
      const chip = make('span', 'chip', labelName(id));
      chip.dataset.label = id;
      return chip;
    }));
    if (ids.length) el.setAttribute('aria-label', t('labels.list', { names: I18N.formatList(ids.map(labelName)) }));
    else el.removeAttribute('aria-label');
  }

  /** The filter's and the open chat's "add" menus, in the console language. */
  function renderLabelOptions() {
    const options = (select, first) => {
      const chosen = select.value;
      const head = new Option(t(first), '');
      head.dataset.i18n = first;
      select.replaceChildren(head, ...app.labelCatalog.map((l) => new Option(labelName(l.id), l.id)));
      select.value = app.labelCatalog.some((l) => l.id === chosen) ? chosen : '';
    };
    options(ui.labelFilter, 'labels.filter_all');
    options(ui.labelAdd, 'labels.add_placeholder');
  }

  /** The open chat's chips, each with a button that removes it. */
  function renderLabels() {
    const labels = app.detail ? list(app.detail.labels) : [];
    ui.labels.replaceChildren(...labels.map((id) => {
      const remove = button('chip-remove', '×', () => saveLabels(labels.filter((l) => l !== id)));
      remove.setAttribute('aria-label', t('labels.remove', { name: labelName(id) }));
      remove.disabled = !app.detail || app.detail.state === 'reassigned';
      const chip = make('li', 'chip', [make('span', null, labelName(id)), remove]);
      chip.dataset.label = id;
      return chip;
    }));
    ui.labelAdd.disabled = !app.detail || app.detail.state === 'reassigned';
    Array.from(ui.labelAdd.options).forEach((o) => { o.disabled = Boolean(o.value) && labels.includes(o.value); });
  }

  async function saveLabels(labels) {
    const id = maruAgent.selected;
    if (!id) return;
    showText(ui.labelError, '');
    const res = await api('PUT', conversationPath(id, 'labels'), { labels });
    if (res.stale) return;
    if (res.ok && res.data) applyLabels(id, res.data.labels);
    else if (maruAgent.selected === id) showText(ui.labelError, t('labels.save_failed', { message: res.message }));
  }

  /** New labels of a chat: wherever the console shows it. */
  function applyLabels(id, labels) {
    const now = list(labels);
    [app.queue, app.mine].forEach((items) => items.forEach((item) => {
      if (item.conversation_id === id) item.labels = now;
    }));
    if (app.detail && maruAgent.selected === id) { app.detail.labels = now; renderLabels(); }
    renderQueue();
    renderMine();
  }

  /* ---------- notifications ---------- */

  const notificationsExist = () => 'Notification' in window;
  const soundOn = () => { try { return localStorage.getItem(SOUND_KEY) !== 'off'; } catch (_) { return true; } };

  function renderNotifyControls() {
    ui.notifyOn.hidden = !notificationsExist() || Notification.permission !== 'default';
    const on = soundOn();
    ui.soundToggle.setAttribute('aria-pressed', String(on));
    ui.soundToggle.dataset.i18n = on ? 'notify.sound_on' : 'notify.sound_off';
    ui.soundToggle.textContent = t(ui.soundToggle.dataset.i18n);
  }

  /** Asked once, from the button's click (browsers only ask from a user gesture). */
  async function askNotifications() {
    if (!notificationsExist()) return;
    try { await Notification.requestPermission(); } catch (_) { /* refused: the button goes */ }
    renderNotifyControls();
  }

  function toggleSound() {
    try { localStorage.setItem(SOUND_KEY, soundOn() ? 'off' : 'on'); } catch (_) { /* this page only */ }
    renderNotifyControls();
  }

  /** A short beep, made by the browser (no audio file to fetch). */
  function beep() {
    try {
      const Context = window.AudioContext || window.webkitAudioContext;
      if (!Context) return;
      app.audio = app.audio || new Context();
      const oscillator = app.audio.createOscillator();
      const gain = app.audio.createGain();
      oscillator.frequency.value = 880;
      gain.gain.value = 0.08;
      oscillator.connect(gain).connect(app.audio.destination);
      oscillator.start();
      oscillator.stop(app.audio.currentTime + 0.15);
      maruAgent.beeps = (maruAgent.beeps || 0) + 1;
    } catch (_) { /* no sound is no reason to miss the rest */ }
  }

  /** New work: a beep (unless turned off) and, if allowed, a desktop notification whose
   * click brings the console forward on that chat. No message text: only a display name. */
  function alertAgent(title, body, id) {
    if (soundOn()) beep();
    if (!notificationsExist() || Notification.permission !== 'granted') return;
    try {
      const shown = new Notification(title, { body, tag: 'maru-' + id, lang: I18N.language });
      shown.onclick = () => {
        window.focus();
        if (app.mine.some((c) => c.conversation_id === id)) openConversation(id);
        shown.close();
      };
    } catch (_) { /* e.g. a browser that only notifies from a service worker */ }
  }

  /** The customer's display name for a notification, if the console knows it. */
  function customerName(id) {
    const name = app.detail && maruAgent.selected === id && app.detail.customer && app.detail.customer.name;
    return name ? clampText(String(name), 40) : t('notify.a_customer');
  }

  /* ---------- context ---------- */

  function renderContext(d) {
    ui.reason.textContent = reasonText(d.reason);
    ui.language.replaceChildren(langBadge(d.language), ' ' + (languageName(d.language) || ''));
    const c = d.customer || {};
    const facts = [[t('customer.name'), c.name], [t('customer.email'), c.email], [t('customer.id'), c.id]]
      .filter(([, value]) => value !== undefined && value !== null && value !== '')
      .flatMap(([label, value]) => [make('dt', null, label), make('dd', null, value)]);
    // Only a host-signed identity is vouched for; anything else is what the customer typed.
    const identity = c.verified
      ? make('p', 'identity identity-verified', t('customer.verified'))
      : make('p', 'identity identity-unverified', t('customer.unverified'));
    ui.customer.replaceChildren(...(facts.length
      ? [identity, make('dl', 'facts', facts)]
      : [make('p', 'muted', t('customer.anonymous'))]));
    ui.earlier.replaceChildren(...list(c.earlier_conversations).map((e) => make('li', 'earlier', [
      buildTime(e.created_at, true), setLang(make('span', 'summary', e.summary || t('summary.none')), d.language),
    ])));
    ui.attempts.replaceChildren(...list(d.bot_attempts).map(buildAttempt));
  }

  function buildAttempt(a) {
    return make('li', 'attempt', [
      setLang(make('q', 'attempt-query', a.query || ''), app.detail.language),
      make('div', 'item-top', [
        make('span', 'decision decision-' + (a.decision || 'unknown'), codeText('decision', a.decision) || '?'),
        a.feedback && make('span', 'feedback feedback-' + a.feedback, codeText('feedback', a.feedback)),
      ]),
      make('ul', 'articles', list(a.articles).map((art) => make('li', null, [
        setLang(make('span', 'article-title', art.title || art.article_id || ''), app.detail.language),
        make('span', 'score', formatScore(art.score)),
      ]))),
    ]);
  }

  /* ---------- suggestions and canned replies ---------- */

  function scheduleSuggestions() {
    clearTimeout(app.suggestTimer);
    app.suggestTimer = setTimeout(loadSuggestions, 400); // a burst of short messages → one lookup
  }

  async function loadSuggestions() {
    const id = maruAgent.selected;
    if (!id) return;
    const gen = ++app.suggestGen;
    ui.suggestions.setAttribute('aria-busy', 'true');
    const res = await api('GET', conversationPath(id, 'suggestions'));
    if (gen !== app.suggestGen || id !== maruAgent.selected || res.stale) return;
    ui.suggestions.removeAttribute('aria-busy');
    ui.suggestions.replaceChildren(...(res.ok && Array.isArray(res.data)
      ? list(res.data).map(buildSuggestion) : [make('li', 'muted', t('suggestions.load_failed'))]));
    updateComposerState();
  }

  /** A long answer scrolls in its box: focusable, so the keyboard can scroll it too. */
  function scrollable(el) {
    el.tabIndex = 0;
    return el;
  }

  function buildSuggestion(s) {
    const li = make('li', 'suggestion', [
      make('div', 'item-top', [make('strong', 'suggestion-title', s.title || s.article_id || ''), make('span', 'score', formatScore(s.score))]),
      scrollable(make('p', 'answer', s.answer || '')),
      button('insert', t('suggestions.insert'), () => insertIntoComposer(s.answer || '')),
    ]);
    li.dataset.articleId = String(s.article_id ?? '');
    return li;
  }

  async function loadCanned() {
    const res = await api('GET', '/api/agent/canned');
    if (!res.ok || !Array.isArray(res.data)) return;
    app.canned = list(res.data).filter((c) => c.id !== undefined && c.text);
    // new Option() sets text, not HTML.
    ui.canned.replaceChildren(cannedPlaceholder(),
      ...app.canned.map((c) => new Option(String(c.title || c.id), String(c.id))));
  }

  /** The canned list's first entry; marked, so a language switch relabels it with the page. */
  function cannedPlaceholder() {
    const option = new Option(t('composer.canned_placeholder'), '');
    option.dataset.i18n = 'composer.canned_placeholder';
    return option;
  }

  function insertCanned() {
    const canned = app.canned.find((c) => String(c.id) === ui.canned.value);
    ui.canned.value = ''; // back to the placeholder, so the same reply can be picked again
    if (canned && app.detail) insertIntoComposer(canned.text[app.detail.language] || canned.text.en || '');
  }

  /** At the cursor, on its own line if text precedes it, within the 2000-character limit. */
  function insertIntoComposer(text) {
    const box = ui.composer;
    if (!text || box.disabled) return;
    const { selectionStart: start, selectionEnd: end } = box;
    const before = box.value.slice(0, start);
    const full = (before && !/\s$/.test(before) ? '\n' : '') + text;
    // setRangeText ignores maxlength: clamp here rather than send what the server would refuse.
    const piece = clampText(full, MAX_CHARS - (box.value.length - (end - start)));
    box.setRangeText(piece, start, end, 'end');
    box.focus();
    onComposerInput();
    showText(ui.sendError, piece.length < full.length ? t('composer.shortened', { max: MAX_CHARS }) : '');
  }

  /* ---------- composer ---------- */

  function updateCount() {
    const n = ui.composer.value.length;
    ui.charCount.textContent = `${n} / ${MAX_CHARS}`;
    ui.charCount.classList.toggle('near-limit', n > MAX_CHARS * 0.9);
  }

  function onComposerInput() {
    updateCount();
    showText(ui.sendError, ''); // the last error was about what is being edited now
    const id = maruAgent.selected;
    if (!id || isClosed() || !ui.composer.value) { stopTyping(); return; }
    if (app.typingConv !== id) {
      stopTyping();
      sendFrame({ type: 'typing', conversation_id: id, on: true });
      app.typingConv = id;
    }
    clearTimeout(app.typingTimer);
    app.typingTimer = setTimeout(stopTyping, TYPING_IDLE_MS);
  }

  function stopTyping() {
    clearTimeout(app.typingTimer);
    if (app.typingConv) sendFrame({ type: 'typing', conversation_id: app.typingConv, on: false });
    app.typingConv = null;
  }

  async function send() {
    const id = maruAgent.selected;
    const text = ui.composer.value.trim();
    if (!id || !text || isClosed()) return;
    stopTyping();
    ui.composer.value = '';
    updateCount();
    showText(ui.sendError, '');
    const el = buildMessage({ role: 'agent', text, ts: new Date().toISOString() });
    el.dataset.pending = '1';
    withAutoScroll(() => ui.transcript.appendChild(el), true);
    const res = await api('POST', conversationPath(id, 'messages'), { text });
    if (res.stale) return;
    const seq = Number(res.data && res.data.seq);
    const here = maruAgent.selected === id;
    el.removeAttribute('data-pending');
    if (res.ok && Number.isFinite(seq)) {
      // The websocket echo may have beaten this response: keep one copy, in seq order.
      el.remove();
      if (!here || app.seqEls.has(seq)) return;
      el.dataset.seq = String(seq);
      app.seqEls.set(seq, el);
      withAutoScroll(() => placeBySeq(el, seq), true);
      return;
    }
    el.dataset.failed = '1';
    markNotSent(el);
    // Give the text back so nothing typed is lost.
    if (!here) { if (!app.drafts.has(id)) app.drafts.set(id, text); return; }
    if (!ui.composer.value) { ui.composer.value = text; updateCount(); }
    showText(ui.sendError, t('message.send_failed', { message: res.message }));
  }

  /** A failed bubble's label (the stylesheet shows it after the time) and tooltip. */
  function markNotSent(el) {
    el.title = t('message.not_sent');
    el.querySelector('.msg-meta').dataset.failedLabel = el.title;
  }

  async function resolve() {
    const id = maruAgent.selected;
    if (!id || isClosed()) return;
    if (!window.confirm(t('confirm.resolve'))) return;
    ui.resolve.disabled = true;
    stopTyping();
    const res = await api('POST', conversationPath(id, 'resolve'));
    if (res.stale) return;
    if (res.ok) {
      applyState(id, 'resolved');
      refreshMine();
      showNotice(t('notice.resolved'));
    } else {
      showNotice(res.message, true);
      if (maruAgent.selected === id) updateComposerState();
    }
  }

  /* ---------- search: every conversation and ticket, opened read-only ---------- */

  const search = {
    form: $('search-form'), text: $('search-text'), from: $('search-from'), to: $('search-to'),
    state: $('search-state'), submit: $('search-submit'), status: $('search-status'),
    results: $('search-results'), dialog: $('search-transcript'), meta: $('search-transcript-meta'),
    body: $('search-transcript-body'),
    hits: null, query: '', gen: 0, openGen: 0, view: null,
  };
  // Where a hit was found, and a conversation's state, by the server's codes. Not CODES.state's
  // words: those speak of the agent's own chat ("Assigned to you").
  const FOUND_IN = { message: 'search.found_message', customer: 'search.found_customer', ticket: 'search.found_ticket' };
  const SEARCH_STATES = {
    bot: 'search.state_bot', queued: 'search.state_queued', assigned: 'search.state_assigned',
    resolved: 'search.state_resolved', cancelled: 'search.state_cancelled',
    offline_ticket: 'search.state_offline_ticket', abandoned: 'search.state_abandoned',
  };
  const searchStateText = (state) => (Object.hasOwn(SEARCH_STATES, state) ? t(SEARCH_STATES[state]) : String(state || ''));

  /** The count line (role=status), re-worded by a language switch; null empties it. */
  function searchStatus(key, values) {
    I18N.bindText(search.status, key ? () => t(key, values) : null);
  }

  async function runSearch() {
    const params = new URLSearchParams();
    const q = search.text.value.trim();
    if (q) params.set('q', q);
    if (search.from.value) params.set('from', search.from.value);
    if (search.to.value) params.set('to', search.to.value);
    if (search.state.value) params.set('state', search.state.value);
    if (!q && params.toString() === '') { searchStatus('search.need_something'); return; }
    const gen = ++search.gen;
    searchStatus('search.searching');
    const res = await api('GET', '/api/agent/search?' + params.toString());
    if (res.stale || gen !== search.gen) return; // signed out, or a newer search was asked
    if (!res.ok || !res.data || !Array.isArray(res.data.results)) {
      search.hits = null;
      renderSearch();
      searchStatus('search.failed', { message: res.message });
      return;
    }
    search.hits = res.data.results.filter((hit) => hit && hit.conversation_id);
    search.query = q;
    renderSearch();
    const n = search.hits.length;
    searchStatus(n ? 'search.count' : 'search.none', { n: I18N.formatNumber(n) });
  }

  function renderSearch() {
    search.results.replaceChildren(...list(search.hits).map(buildSearchHit));
  }

  function buildSearchHit(hit) {
    const state = make('span', 'state-tag', searchStateText(hit.state));
    state.dataset.state = hit.state || '';
    const open = button('conv-open search-hit', [
      make('span', 'item-top', [
        langBadge(hit.language), make('span', 'search-name', hit.customer_name || t('search.no_name')),
        state,
      ]),
      setLang(highlight(make('span', 'summary snippet'), hit.snippet || '', search.query), hit.language),
      make('span', 'search-where muted small', [
        Object.hasOwn(FOUND_IN, hit.found_in) ? t(FOUND_IN[hit.found_in]) : null,
        buildTime(hit.updated_at, true),
      ]),
    ], () => openTranscript(hit));
    open.title = t('search.open');
    const li = make('li', 'search-item', [open]);
    li.dataset.conversationId = hit.conversation_id;
    return li;
  }

  /** `text` into `el`, the first case-folded match of `query` in a <mark> (text nodes only). */
  function highlight(el, text, query) {
    const at = query && text.toLowerCase().length === text.length ? text.toLowerCase().indexOf(query.toLowerCase()) : -1;
    if (at < 0) { el.textContent = text; return el; }
    el.append(text.slice(0, at), make('mark', null, text.slice(at, at + query.length)), text.slice(at + query.length));
    return el;
  }

  /** The hit's conversation in the read-only dialog, scrolled to the message that matched. */
  async function openTranscript(hit) {
    const gen = ++search.openGen;
    const res = await api('GET', conversationPath(hit.conversation_id, 'transcript'));
    if (res.stale || gen !== search.openGen) return;
    if (!res.ok || !res.data || !Array.isArray(res.data.transcript)) {
      showNotice(t('search.transcript_failed', { message: res.message }), true);
      return;
    }
    const view = search.view = res.data;
    I18N.bindText(search.meta, () => t('search.transcript_meta', {
      name: (view.customer && view.customer.name) || t('search.no_name'),
      state: searchStateText(view.state),
      started: I18N.formatTime(view.created_at, true) || '',
    }));
    search.body.replaceChildren(...view.transcript.map((m) => {
      const el = buildMessage(m);
      el.dataset.seq = String(m.seq);
      return el;
    }));
    setLang(search.body, view.language);
    search.body.dataset.conversationId = view.conversation_id;
    if (!search.dialog.open) search.dialog.showModal();
    const match = Number.isInteger(hit.seq) ? search.body.querySelector(`[data-seq="${hit.seq}"]`) : null;
    if (match) { match.classList.add('search-match'); match.scrollIntoView({ block: 'center' }); }
    else search.body.scrollTop = 0;
  }

  /** Signed out: the next person at this browser sees none of it. */
  function clearSearch() {
    search.gen += 1;
    search.openGen += 1;
    search.hits = null;
    search.query = '';
    search.view = null;
    search.form.reset();
    renderSearch();
    searchStatus(null);
    search.body.replaceChildren();
    revokeFiles();
    if (search.dialog.open) search.dialog.close();
  }

  search.form.addEventListener('submit', (event) => { event.preventDefault(); runSearch(); });
  I18N.onChange(() => {
    renderSearch();
    search.body.querySelectorAll('.msg-role').forEach((el) => { el.textContent = t('role.' + el.dataset.role); });
  });

  /* ---------- console language ---------- */

  /**
   * After a language switch (the marked labels are already done): everything else the console
   * wrote, rewritten from the data it holds. Server text stays as it came; a notice or an
   * error on screen stays until it goes.
   */
  function relabel() {
    renderLabelOptions();
    renderLabels();
    renderNotifyControls();
    updateQueueCount();
    renderQueue();
    tick();
    renderMine();
    renderTickets();
    if (app.token) renderAgent();
    if (app.detail) { renderHeader(); renderContext(app.detail); }
    document.querySelectorAll('time.time').forEach((el) => {
      el.textContent = I18N.formatTime(el.dateTime, Boolean(el.dataset.withDate)) || el.textContent;
    });
    ui.transcript.querySelectorAll('.msg-role').forEach((el) => { el.textContent = t('role.' + el.dataset.role); });
    ui.transcript.querySelectorAll('.intent-tag').forEach((el) => { el.title = t('message.intent_title'); });
    ui.transcript.querySelectorAll('[data-failed]').forEach(markNotSent);
    ui.transcript.querySelectorAll('.msg-transfer').forEach(labelTransfer);
    ui.suggestions.querySelectorAll('button.insert').forEach((el) => { el.textContent = t('suggestions.insert'); });
    updateComposerState();
  }

  /* ---------- wiring ---------- */

  I18N.bindSwitcher($('ui-language-login'));
  I18N.bindSwitcher($('ui-language'));
  I18N.onChange(relabel);
  I18N.show();

  ui.loginForm.addEventListener('submit', signIn);
  ui.loginButton.disabled = false; // agent.html ships it disabled until this handler is in
  ui.signOut.addEventListener('click', signOut);
  ui.availability.addEventListener('change', changeAvailability);
  ui.ticketsRefresh.addEventListener('click', loadTickets);
  ui.ticketsView.addEventListener('change', loadTickets);
  ui.suggestionsRefresh.addEventListener('click', loadSuggestions);
  ui.canned.addEventListener('change', insertCanned);
  ui.resolve.addEventListener('click', resolve);
  ui.transferOpen.addEventListener('click', openTransfer);
  ui.transferCancel.addEventListener('click', () => ui.transfer.close());
  ui.transferForm.addEventListener('submit', (event) => { event.preventDefault(); submitTransfer(); });
  // Escape closes the native dialog; focus goes back to the button that opened it.
  ui.transfer.addEventListener('close', () => { if (!ui.transferOpen.disabled) ui.transferOpen.focus(); });
  ui.form.addEventListener('submit', (event) => { event.preventDefault(); send(); });
  ui.attach.addEventListener('click', () => ui.attachInput.click());
  ui.attachInput.addEventListener('change', () => {
    const file = ui.attachInput.files && ui.attachInput.files[0];
    ui.attachInput.value = ''; // the same file may be picked again
    sendFile(file);
  });
  ui.noteForm.addEventListener('submit', (event) => { event.preventDefault(); addNote(); });
  ui.noteText.addEventListener('input', () => showText(ui.noteError, ''));
  ui.labelAdd.addEventListener('change', () => {
    const id = ui.labelAdd.value;
    ui.labelAdd.value = '';
    if (id && app.detail) saveLabels([...list(app.detail.labels).filter((l) => l !== id), id]);
  });
  ui.labelFilter.addEventListener('change', () => {
    app.labelFilter = ui.labelFilter.value;
    renderQueue();
    renderMine();
  });
  ui.notifyOn.addEventListener('click', askNotifications);
  ui.soundToggle.addEventListener('click', toggleSound);
  // Back to the tab: what arrived in the open chat meanwhile is on screen now.
  document.addEventListener('visibilitychange', () => {
    if (document.hidden || !maruAgent.selected || !app.unread.has(maruAgent.selected)) return;
    app.unread.delete(maruAgent.selected);
    renderMine();
  });
  ui.composer.addEventListener('input', onComposerInput);
  ui.composer.addEventListener('keydown', (event) => {
    // isComposing: Enter that confirms a Korean/Japanese IME candidate must not send.
    if (event.key !== 'Enter' || event.shiftKey || event.isComposing || event.keyCode === 229) return;
    event.preventDefault();
    send();
  });

  /* ---------- keyboard ---------- */

  /* Alt+letter, by the key's position (event.code), so that it works whatever the keyboard
     layout or input method (a Korean or Japanese IME included) and on macOS, where Option
     turns the letter into another character. Listed in the #shortcuts dialog. */
  const SHORTCUTS = {
    KeyN: acceptNext,
    KeyJ: () => switchChat(1),
    KeyK: () => switchChat(-1),
    KeyC: () => { if (!ui.composer.disabled) ui.composer.focus(); },
    KeyR: resolve,
    Slash: toggleShortcuts,
  };

  function acceptNext() {
    // The first chat the queue shows: with a label filter on, not one it hides.
    const next = app.queue.find(labelled);
    if (!next) return;
    const row = ui.queue.querySelector(`.queue-item[data-conversation-id="${CSS.escape(next.conversation_id)}"]`);
    const acceptButton = row && row.querySelector('button.accept');
    if (acceptButton && !acceptButton.disabled) acceptConversation(next.conversation_id, acceptButton);
  }

  function switchChat(step) {
    // Among the chats the list shows: with a label filter on, not those it hides.
    const shown = app.mine.filter(labelled);
    if (!shown.length) return;
    const at = shown.findIndex((c) => c.conversation_id === maruAgent.selected);
    const next = at < 0 ? (step > 0 ? 0 : shown.length - 1) : (at + step + shown.length) % shown.length;
    openConversation(shown[next].conversation_id);
  }

  function toggleShortcuts() {
    if (ui.shortcuts.open) ui.shortcuts.close();
    else ui.shortcuts.showModal();
  }

  /** A modal dialog other than the shortcuts list (transfer, a search's transcript, …) is
      open: it has the keyboard, so no shortcut acts on the console behind it. One check for
      every dialog, so a new one needs nothing here. */
  function anotherDialogOpen() {
    return document.querySelector('dialog[open]:not(#shortcuts)') !== null;
  }

  document.addEventListener('keydown', (event) => {
    if (ui.console.hidden || anotherDialogOpen() || event.isComposing || event.repeat) return;
    const typing = event.target instanceof HTMLElement
      && (event.target.matches('input, textarea, select') || event.target.isContentEditable);
    if (event.key === '?' && !typing && !event.altKey && !event.ctrlKey && !event.metaKey) {
      event.preventDefault();
      toggleShortcuts();
      return;
    }
    if (!event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const action = SHORTCUTS[event.code];
    if (!action || (ui.shortcuts.open && event.code !== 'Slash')) return;
    event.preventDefault();
    action();
  });
  ui.shortcutsOpen.addEventListener('click', toggleShortcuts);

  // Back online: don't sit out the rest of a long backoff.
  window.addEventListener('online', () => {
    if (app.token && !app.ws) { app.backoffMs = BACKOFF_MIN_MS; connect(); }
  });

  setInterval(tick, 1000);

  const saved = loadSession();
  if (saved) startSession(saved.token, saved.agent, saved.expires_at, saved.selected);
  else ui.username.focus();
})();
