/*
 * Maru Store analytics, the "Now" panel: the queue per team, the agents, and every chat with
 * people, each with a control to give it to another agent (POST …/reassign).
 *
 * Pushed, not polled: /api/agent/live/ws sends the whole view at once and again whenever it
 * changes (a chat queued, taken, moved, resolved, a console opened or closed, an agent's
 * availability set; at most once a second, and every 10 s anyway: auto-away comes with time).
 * Waits are counted on here between frames. Rows are kept per conversation, so a frame never
 * swaps out a menu the supervisor is using.
 * Text is only ever set with textContent. analytics.js calls start(token, hooks) and stop().
 * Words and formats are the console's language (console_i18n.js): a switch relabels the panel
 * from the last frame, keeping each row (and the agent picked in its menu).
 */
(function () {
  'use strict';

  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 8000;
  // Codes the server sends, with their words in console_i18n.js as "<kind>.<code>".
  const LANGUAGES = ['ko', 'ja', 'en'];
  const REASONS = ['requested', 'misses', 'not_helpful', 'complaint', 'always_human'];
  const STATES = ['queued', 'assigned'];
  // An agent's availability (HandoffService.status_of): away includes a console closed for long.
  const AVAILABILITY = ['online', 'away', 'busy', 'offline'];
  const CHAT_COLUMNS = ['live.conversation', 'live.state', 'analytics.language', 'live.skill',
    'context.reason', 'live.wait', 'role.agent', 'live.give_to'];

  const I18N = window.maruConsoleI18n;
  const t = I18N.t;
  const say = (key, params) => () => t(key, params);
  const word = (kind, codes, code) => (codes.includes(code) ? t(kind + code) : code ? String(code) : '');
  const languageName = (code) => word('language.', LANGUAGES, code);
  const availabilityOf = (agent) => word('availability.', AVAILABILITY, agent.availability);
  // A supervisor can give a chat to an agent who is there and not away (busy: with force).
  const canTake = (agent) => agent.availability === 'online' || agent.availability === 'busy';

  const $ = (id) => document.getElementById(id);
  const live = {
    token: null, hooks: {}, ws: null, retryTimer: null, backoffMs: BACKOFF_MIN_MS,
    rows: new Map(), agents: [], agentsKey: '', session: 0, frame: null, received: 0,
  };
  // Read by automated browser tests; the page's own hooks are start() and stop().
  const maruLive = (window.maruLive = {
    connected: false, frames: 0, chats: [], lastResult: null, lastError: null, start, stop,
  });

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  const duration = (value) => I18N.formatDuration(value);

  /* ---------- the socket ---------- */

  function start(token, hooks) {
    stop();
    live.session += 1;
    live.token = token;
    live.hooks = hooks || {};
    connect();
  }

  function stop() {
    live.session += 1;
    live.token = null;
    live.frame = null;
    clearTimeout(live.retryTimer);
    const ws = live.ws;
    live.ws = null;
    setConnected(false);
    if (ws) ws.close();
  }

  function connect() {
    clearTimeout(live.retryTimer);
    if (!live.token) return;
    const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
    const ws = new WebSocket(`${scheme}//${location.host}/api/agent/live/ws`);
    live.ws = ws;
    ws.onopen = () => ws.send(JSON.stringify({ type: 'hello', token: live.token }));
    ws.onmessage = (event) => {
      if (ws !== live.ws) return;
      let frame = null;
      try { frame = JSON.parse(event.data); } catch (_) { return; }
      if (frame && frame.type === 'live') {
        live.backoffMs = BACKOFF_MIN_MS;
        setConnected(true);
        maruLive.frames += 1;
        render(frame, Date.now());
      } else if (frame && frame.type === 'error') {
        live.ws = null; // refused: no reconnect
        const hook = frame.code === 'supervisors_only' ? live.hooks.forbidden : live.hooks.expired;
        if (hook) hook();
      }
    };
    ws.onclose = () => {
      if (ws !== live.ws) return;
      live.ws = null;
      setConnected(false);
      live.retryTimer = setTimeout(connect, live.backoffMs);
      live.backoffMs = Math.min(live.backoffMs * 2, BACKOFF_MAX_MS);
    };
  }

  function setConnected(on) {
    maruLive.connected = on;
    const stamp = $('live-stamp');
    if (stamp) stamp.dataset.state = on ? 'live' : 'reconnecting';
    if (!on && stamp && live.token) I18N.bindText(stamp, say('connection.reconnecting'));
  }

  /* ---------- rendering ---------- */

  /** A frame, `received` at that time (kept: a language switch draws it again). */
  function render(data, received) {
    live.frame = data;
    live.received = received;
    maruLive.chats = data.chats || [];
    live.agents = data.agents || [];
    const number = (n) => I18N.formatNumber(n);
    renderTable($('live-queue'), ['live.team', 'analytics.language', 'live.skill', 'live.waiting', 'live.oldest_wait'],
      (data.queue || []).map((g) => [g.team, languageName(g.language), g.skill || '–',
        number(g.waiting), { since: received - g.oldest_wait_seconds * 1000 }]),
      t('queue.empty'));
    renderTable($('live-agents'), ['role.agent', 'live.availability', 'live.open_chats', 'live.capacity', 'live.languages'],
      live.agents.map((a) => [a.display_name || a.username, { availability: a.availability, text: availabilityOf(a) },
        number(a.open_chats), number(a.capacity), I18N.formatList((a.languages || []).map(languageName))]),
      t('live.no_agents'));
    renderChats(maruLive.chats, received);
    const agentsTotal = live.agents.length;
    I18N.bindText($('live-stamp'), () => t('live.summary', {
      waiting: I18N.formatNumber(data.queued_total), online: I18N.formatNumber(data.agents_online),
      total: I18N.formatNumber(agentsTotal), time: I18N.formatClock(received),
    }));
  }

  /** The language changed: the chats' header and rows relabelled, then the last frame again. */
  function relabel() {
    const table = $('live-chats').querySelector('table');
    if (table) table.querySelector('thead').replaceWith(chatsHead());
    live.rows.forEach(labelRow);
    live.agentsKey = ''; // the menus' options are words too
    if (live.frame) render(live.frame, live.received);
  }

  /** cells: text, or {since: ms} for a wait that keeps counting. */
  function renderTable(box, headers, rows, emptyText) {
    if (!rows.length) {
      box.replaceChildren(make('p', 'muted empty', emptyText));
      return;
    }
    const head = make('tr');
    headers.forEach((key) => head.append(make('th', null, t(key))));
    const body = make('tbody');
    rows.forEach((cells) => {
      const tr = make('tr');
      cells.forEach((cell) => tr.append(cell && cell.since !== undefined ? waitCell(cell.since)
        : cell && cell.availability !== undefined ? availabilityCell(cell) : make('td', null, cell)));
      body.append(tr);
    });
    const thead = make('thead');
    thead.append(head);
    const table = make('table');
    table.append(thead, body);
    box.replaceChildren(table);
  }

  /** The word, and the code for the stylesheet and tests (data-availability). */
  function availabilityCell(cell) {
    const td = make('td', 'availability', cell.text);
    td.dataset.availability = String(cell.availability || '');
    return td;
  }

  function waitCell(since) {
    const td = make('td', 'wait', duration((Date.now() - since) / 1000));
    td.dataset.since = String(since);
    return td;
  }

  /** Keyed: a chat's row (and the menu in it) stays while the chat is listed. */
  function renderChats(chats, received) {
    const box = $('live-chats');
    let body = box.querySelector('tbody');
    if (!chats.length) {
      live.rows.clear();
      box.replaceChildren(make('p', 'muted empty', t('live.no_chats')));
      return;
    }
    if (!body) {
      body = make('tbody');
      const table = make('table', 'live-chats-table');
      table.append(chatsHead(), body);
      box.replaceChildren(table);
      live.rows.clear();
    }
    const agentsKey = JSON.stringify(live.agents.map((a) => [a.username, a.availability, a.open_chats]));
    const agentsChanged = agentsKey !== live.agentsKey;
    live.agentsKey = agentsKey;
    const seen = new Set();
    chats.forEach((chat, i) => {
      seen.add(chat.conversation_id);
      let row = live.rows.get(chat.conversation_id);
      if (!row) {
        row = buildRow(chat.conversation_id);
        live.rows.set(chat.conversation_id, row);
      }
      fillRow(row, chat, received, agentsChanged || row.agent !== chat.agent);
      if (body.children[i] !== row.tr) body.insertBefore(row.tr, body.children[i] || null);
    });
    for (const [id, row] of live.rows) {
      if (!seen.has(id)) { row.tr.remove(); live.rows.delete(id); }
    }
  }

  function chatsHead() {
    const head = make('tr');
    CHAT_COLUMNS.forEach((key) => head.append(make('th', null, t(key))));
    const thead = make('thead');
    thead.append(head);
    return thead;
  }

  function buildRow(id) {
    const tr = make('tr', 'live-chat');
    tr.dataset.conversationId = id;
    const cells = ['id', 'state', 'language', 'skill', 'reason', 'wait', 'agent'].map((name) => {
      const td = make('td', 'chat-' + name);
      tr.append(td);
      return td;
    });
    cells[0].textContent = id.slice(0, 8);
    cells[0].title = id;
    const select = make('select', 'reassign-agent');
    const forceBox = make('input', 'reassign-force');
    forceBox.type = 'checkbox';
    const forceText = make('span');
    const force = make('label', 'reassign-force-label');
    force.append(forceBox, ' ', forceText);
    const go = make('button', 'button-small reassign');
    go.type = 'button';
    go.addEventListener('click', () => reassign(id, select, forceBox, go));
    const control = make('td', 'chat-control');
    control.append(select, force, go);
    tr.append(control);
    const row = { tr, cells, select, forceBox, force, forceText, go, agent: undefined };
    labelRow(row);
    return row;
  }

  /** A row's own words: the control's labels (its data is filled by fillRow). */
  function labelRow(row) {
    row.select.setAttribute('aria-label', t('live.agent_select'));
    row.forceText.textContent = t('live.force');
    row.force.title = t('live.force_title');
    row.go.textContent = t('live.reassign');
  }

  function fillRow(row, chat, received, newOptions) {
    const [, state, language, skill, reason, wait, agent] = row.cells;
    state.textContent = word('live.state.', STATES, chat.state);
    row.tr.dataset.state = chat.state;
    language.textContent = (chat.language || '').toUpperCase();
    language.title = languageName(chat.language);
    skill.textContent = chat.skill || '–';
    reason.textContent = word('reason.', REASONS, chat.reason);
    row.tr.title = chat.summary || '';
    if (chat.state === 'queued') {
      wait.dataset.since = String(received - chat.wait_seconds * 1000);
      wait.textContent = duration(chat.wait_seconds);
    } else {
      delete wait.dataset.since;
      wait.textContent = duration(chat.wait_seconds);
    }
    const holder = live.agents.find((a) => a.username === chat.agent);
    agent.textContent = chat.agent ? (holder && holder.display_name) || chat.agent : '–';
    row.agent = chat.agent;
    if (newOptions) fillOptions(row.select, chat.agent);
  }

  /** Every agent but the one who has the chat; those away or offline cannot take it. */
  function fillOptions(select, current) {
    const keep = select.value;
    const options = [new Option(t('live.choose_agent'), '')];
    live.agents.filter((a) => a.username !== current).forEach((a) => {
      const load = `${I18N.formatNumber(a.open_chats)}/${I18N.formatNumber(a.capacity)}`;
      const label = `${a.display_name || a.username} (${a.availability === 'online' ? load : I18N.formatList([load, availabilityOf(a)])})`;
      const option = new Option(label, a.username); // sets text, not HTML
      option.disabled = !canTake(a);
      options.push(option);
    });
    select.replaceChildren(...options);
    if (options.some((o) => o.value === keep && !o.disabled)) select.value = keep;
  }

  async function reassign(id, select, forceBox, go) {
    const status = $('live-result');
    const agent = select.value;
    if (!agent) { I18N.bindText(status, say('live.choose_first')); return; }
    const session = live.session;
    go.disabled = true;
    let res = null;
    let data = null;
    try {
      res = await fetch('/api/agent/conversations/' + encodeURIComponent(id) + '/reassign', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json', Accept: 'application/json', Authorization: 'Bearer ' + live.token },
        body: JSON.stringify({ agent, force: forceBox.checked }),
      });
      data = await res.json().catch(() => null);
    } catch (_) { /* res stays null */ }
    go.disabled = false;
    if (session !== live.session) return;
    if (res && res.status === 401 && live.hooks.expired) { live.hooks.expired(); return; }
    if (res && res.ok && data) {
      maruLive.lastResult = data;
      maruLive.lastError = null;
      forceBox.checked = false;
      const params = { id: id.slice(0, 8), agent: data.agent, from: data.from_agent };
      I18N.bindText(status, say(data.from_agent ? 'live.reassigned_from' : 'live.reassigned', params));
      return; // the row changes with the next pushed frame
    }
    // The server's message as it came; our own words in the page's language.
    const serverMessage = data && data.error && data.error.message;
    const message = () => (!res ? t('error.unreachable')
      : serverMessage || t('live.reassign_failed', { status: res.status }));
    maruLive.lastError = (data && data.error && data.error.code) || serverMessage
      || (res ? `Reassign failed (${res.status}).` : 'Cannot reach the server.');
    I18N.bindText(status, () => t('live.not_reassigned', { message: message() }));
  }

  I18N.onChange(relabel);

  // Waits keep counting between frames.
  setInterval(() => {
    const now = Date.now();
    document.querySelectorAll('#live [data-since]').forEach((el) => {
      el.textContent = duration((now - Number(el.dataset.since)) / 1000);
    });
  }, 1000);
})();
