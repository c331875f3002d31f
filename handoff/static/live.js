/*
 * Maru Store analytics, the "Now" panel: the queue per team, the agents, and every chat with
 * people, each with a control to give it to another agent (POST …/reassign).
 *
 * Pushed, not polled: /api/agent/live/ws sends the whole view at once and again whenever it
 * changes (a chat queued, taken, moved, resolved, a console opened or closed; at most once a
 * second, and every 10 s anyway). Waits are counted on here between frames. Rows are kept per
 * conversation, so a frame never swaps out a menu the supervisor is using.
 * Text is only ever set with textContent. analytics.js calls start(token, hooks) and stop().
 */
(function () {
  'use strict';

  const BACKOFF_MIN_MS = 500;
  const BACKOFF_MAX_MS = 8000;
  const LANGUAGES = { ko: 'Korean', ja: 'Japanese', en: 'English' };
  const REASONS = {
    requested: 'Customer asked', misses: 'Two misses', not_helpful: "Didn't help twice",
    complaint: 'Complaint', always_human: 'Always a person',
  };
  const STATES = { queued: 'Waiting', assigned: 'With an agent' };

  const $ = (id) => document.getElementById(id);
  const live = {
    token: null, hooks: {}, ws: null, retryTimer: null, backoffMs: BACKOFF_MIN_MS,
    rows: new Map(), agents: [], agentsKey: '', session: 0,
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

  function duration(value) {
    const s = Math.max(0, Math.round(value));
    const pad = (n) => String(n).padStart(2, '0');
    return s < 60 ? `${s}s` : s < 3600 ? `${Math.floor(s / 60)}m ${pad(s % 60)}s`
      : `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  }

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
        render(frame);
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
    if (!on && stamp && live.token) stamp.textContent = 'Reconnecting…';
  }

  /* ---------- rendering ---------- */

  function render(data) {
    maruLive.frames += 1;
    maruLive.chats = data.chats || [];
    const received = Date.now();
    live.agents = data.agents || [];
    renderTable($('live-queue'), ['Team', 'Language', 'Skill', 'Waiting', 'Oldest wait'],
      (data.queue || []).map((g) => [g.team, LANGUAGES[g.language] || g.language, g.skill || '–',
        String(g.waiting), { since: received - g.oldest_wait_seconds * 1000 }]),
      'Nobody is waiting.');
    renderTable($('live-agents'), ['Agent', 'Online', 'Open chats', 'Capacity', 'Languages'],
      live.agents.map((a) => [a.display_name || a.username, a.online ? 'yes' : 'no',
        String(a.open_chats), String(a.capacity), (a.languages || []).join(', ')]),
      'No agents.');
    renderChats(maruLive.chats, received);
    $('live-stamp').textContent = `${data.queued_total} waiting · agents online: `
      + `${data.agents_online} of ${live.agents.length} · ${new Date(received).toLocaleTimeString()}`;
  }

  /** cells: text, or {since: ms} for a wait that keeps counting. */
  function renderTable(box, headers, rows, emptyText) {
    if (!rows.length) {
      box.replaceChildren(make('p', 'muted empty', emptyText));
      return;
    }
    const head = make('tr');
    headers.forEach((h) => head.append(make('th', null, h)));
    const body = make('tbody');
    rows.forEach((cells) => {
      const tr = make('tr');
      cells.forEach((cell) => tr.append(cell && cell.since !== undefined ? waitCell(cell.since) : make('td', null, cell)));
      body.append(tr);
    });
    const thead = make('thead');
    thead.append(head);
    const table = make('table');
    table.append(thead, body);
    box.replaceChildren(table);
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
      box.replaceChildren(make('p', 'muted empty', 'No chats with people right now.'));
      return;
    }
    if (!body) {
      const head = make('tr');
      ['Conversation', 'State', 'Language', 'Skill', 'Reason', 'Wait', 'Agent', 'Give to']
        .forEach((h) => head.append(make('th', null, h)));
      const thead = make('thead');
      thead.append(head);
      body = make('tbody');
      const table = make('table', 'live-chats-table');
      table.append(thead, body);
      box.replaceChildren(table);
      live.rows.clear();
    }
    const agentsKey = JSON.stringify(live.agents.map((a) => [a.username, a.online, a.open_chats]));
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
    select.setAttribute('aria-label', 'Agent to give this chat to');
    const forceBox = make('input', 'reassign-force');
    forceBox.type = 'checkbox';
    const force = make('label', 'reassign-force-label', ' force');
    force.title = 'Ignore language, skill and capacity (the agent must still be online)';
    force.prepend(forceBox);
    const go = make('button', 'button-small reassign', 'Reassign');
    go.type = 'button';
    go.addEventListener('click', () => reassign(id, select, forceBox, go));
    const control = make('td', 'chat-control');
    control.append(select, force, go);
    tr.append(control);
    return { tr, cells, select, forceBox, go, agent: undefined };
  }

  function fillRow(row, chat, received, newOptions) {
    const [, state, language, skill, reason, wait, agent] = row.cells;
    state.textContent = STATES[chat.state] || chat.state;
    row.tr.dataset.state = chat.state;
    language.textContent = (chat.language || '').toUpperCase();
    language.title = LANGUAGES[chat.language] || chat.language || '';
    skill.textContent = chat.skill || '–';
    reason.textContent = REASONS[chat.reason] || chat.reason || '';
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

  /** Every agent but the one who has the chat; those offline cannot take it. */
  function fillOptions(select, current) {
    const keep = select.value;
    const options = [new Option('Choose an agent…', '')];
    live.agents.filter((a) => a.username !== current).forEach((a) => {
      const label = `${a.display_name || a.username} (${a.open_chats}/${a.capacity}`
        + `${a.online ? '' : ', offline'})`;
      const option = new Option(label, a.username); // sets text, not HTML
      option.disabled = !a.online;
      options.push(option);
    });
    select.replaceChildren(...options);
    if (options.some((o) => o.value === keep && !o.disabled)) select.value = keep;
  }

  async function reassign(id, select, forceBox, go) {
    const status = $('live-result');
    const agent = select.value;
    if (!agent) { status.textContent = 'Choose an agent first.'; return; }
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
      status.textContent = `Conversation ${id.slice(0, 8)} is now with ${data.agent}`
        + (data.from_agent ? ` (was ${data.from_agent}).` : '.');
      return; // the row changes with the next pushed frame
    }
    const message = !res ? 'Cannot reach the server.'
      : (data && data.error && data.error.message) || `Reassign failed (${res.status}).`;
    maruLive.lastError = (data && data.error && data.error.code) || message;
    status.textContent = 'Not reassigned: ' + message;
  }

  // Waits keep counting between frames.
  setInterval(() => {
    const now = Date.now();
    document.querySelectorAll('#live [data-since]').forEach((el) => {
      el.textContent = duration((now - Number(el.dataset.since)) / 1000);
    });
  }, 1000);
})();
