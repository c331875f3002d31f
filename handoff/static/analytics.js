/*
 * Maru Store supervisor analytics: GET /api/agent/analytics, drawn with Chart.js (vendored in
 * /static/vendor) with a table beside every chart and a CSV download of every table (the API's
 * ?format=csv, the same builder as the JSON). Text is only ever set with textContent.
 * The session is the console's (sessionStorage, this tab only), so one sign-in serves both.
 * So is the language: every word comes from console_i18n.js (loaded first) and every number,
 * day and duration is formatted for it (Intl); switching redraws the report from the last data.
 * Server data (article titles and ids, agent names, error messages) is shown as it came.
 */
(function () {
  'use strict';

  const SESSION_KEY = 'maru-agent';
  const DEFAULT_DAYS = 30;
  const COLORS = ['#1f6f8b', '#e07a2e', '#3a9d5d', '#b3261e', '#7b5ea7', '#c9a227', '#6b7480', '#2b8fb3'];
  // Codes the server sends, with their words in console_i18n.js as "<kind>.<code>".
  const OUTCOMES = ['bot_resolved', 'bot_unresolved', 'agent_resolved', 'abandoned', 'offline_ticket', 'cancelled', 'open'];
  const REASONS = ['requested', 'misses', 'not_helpful', 'complaint', 'always_human'];
  const DECISIONS = ['answer', 'clarify', 'abstain'];
  const LANGUAGES = ['ko', 'ja', 'en'];

  const I18N = window.maruConsoleI18n;
  const t = I18N.t;

  const $ = (id) => document.getElementById(id);
  const ui = {
    loginView: $('login-view'), loginForm: $('login-form'), username: $('username'),
    password: $('password'), loginError: $('login-error'), loginButton: $('login-button'),
    report: $('report-view'), agentName: $('agent-name'), signOut: $('sign-out'),
    filters: $('filters'), from: $('from'), to: $('to'), language: $('language'),
    status: $('status'), figures: $('figures'),
  };
  const app = { token: null, agent: null, charts: [], generation: 0, data: null };
  // Read by automated browser tests.
  const maruAnalytics = (window.maruAnalytics = { loaded: false, error: null });

  /* ---------- helpers ---------- */

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  // Days are the supervisor's own: the browser's time zone goes with every request (tz).
  const TIME_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC';
  const pad = (n) => String(n).padStart(2, '0');
  const isoDay = (date) => `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
  const percent = (v) => I18N.formatPercent(v);
  const number = (v) => I18N.formatNumber(v);
  const average = (v) => I18N.formatNumber(v, { maximumFractionDigits: 2 });
  const seconds = (v) => I18N.formatDuration(v);
  const text = (v) => (v === null || v === undefined ? '–' : String(v));
  const languageName = (code) => (code === 'all' ? t('analytics.all_languages')
    : LANGUAGES.includes(code) ? t('language.' + code) : String(code));
  const reasonName = (code) => (REASONS.includes(code) ? t('reason.' + code) : String(code));
  // A day on a chart's axis: short, in the page's language ("Jun 3", "6월 3일", "6月3日").
  const dayLabel = (day) => I18N.formatDay(day, { month: 'short', day: 'numeric' });

  /** `message`: a function of the language (redone on a switch), server text, or none. */
  function showText(el, message) {
    I18N.bindText(el, message || null);
    el.hidden = !message;
  }
  const say = (key, params) => () => t(key, params);

  /* ---------- session ---------- */

  function loadSession() {
    let saved = null;
    try { saved = JSON.parse(sessionStorage.getItem(SESSION_KEY) || 'null'); } catch (_) { return null; }
    if (!saved || typeof saved.token !== 'string') return null;
    if (saved.expires_at && saved.expires_at * 1000 < Date.now()) return null;
    return saved;
  }

  function saveSession(token, agent, expiresAt) {
    sessionStorage.setItem(SESSION_KEY, JSON.stringify({ token, agent, expires_at: expiresAt, selected: null }));
  }

  function showLogin(message) {
    app.token = app.agent = null;
    if (window.maruLive) window.maruLive.stop();
    ui.report.hidden = true;
    ui.loginView.hidden = false;
    showText(ui.loginError, message);
    ui.username.focus();
  }

  function showReport() {
    ui.loginView.hidden = true;
    ui.report.hidden = false;
    ui.agentName.textContent = (app.agent && (app.agent.display_name || app.agent.username)) || '';
    load();
    live();
  }

  function begin(session) {
    app.token = session.token;
    app.agent = session.agent;
    if (!app.agent || app.agent.role !== 'supervisor') {
      showLogin(say('analytics.supervisors_only'));
      return;
    }
    showReport();
  }

  async function signIn(event) {
    event.preventDefault();
    ui.loginButton.disabled = true;
    showText(ui.loginError, '');
    try {
      const res = await fetch('/api/agent/login', {
        method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
        body: JSON.stringify({ username: ui.username.value.trim(), password: ui.password.value }),
      });
      const data = await res.json().catch(() => null);
      if (!res.ok || !data || typeof data.token !== 'string') {
        showText(ui.loginError, res.status === 401 || !(data && data.error && data.error.message)
          ? say('login.wrong') : data.error.message);
        return;
      }
      ui.password.value = '';
      saveSession(data.token, data.agent, data.expires_at);
      begin({ token: data.token, agent: data.agent });
    } catch (_) {
      showText(ui.loginError, say('error.unreachable'));
    } finally {
      ui.loginButton.disabled = false;
    }
  }

  async function signOut() {
    const token = app.token;
    sessionStorage.removeItem(SESSION_KEY);
    showLogin('');
    if (token) {
      fetch('/api/agent/logout', { method: 'POST', headers: { Authorization: 'Bearer ' + token } }).catch(() => {});
    }
  }

  /* ---------- loading ---------- */

  function query(extra) {
    const params = new URLSearchParams({
      from: ui.from.value, to: ui.to.value, language: ui.language.value, tz: TIME_ZONE,
    });
    for (const [k, v] of Object.entries(extra || {})) params.set(k, v);
    return '/api/agent/analytics?' + params.toString();
  }

  async function request(path) {
    const res = await fetch(path, { headers: { Authorization: 'Bearer ' + app.token }, cache: 'no-store' });
    if (res.status === 401) {
      sessionStorage.removeItem(SESSION_KEY);
      showLogin(say('session.expired'));
      return null;
    }
    if (res.status === 403) {
      showLogin(say('analytics.supervisors_only'));
      return null;
    }
    return res;
  }

  async function load(event) {
    if (event) event.preventDefault();
    const generation = ++app.generation;
    maruAnalytics.loaded = false;
    I18N.bindText(ui.status, say('analytics.loading'));
    // Unanswered topics (topics.js) load on their own: the action server groups them.
    document.dispatchEvent(new CustomEvent('maru:analytics-filters', {
      detail: { token: app.token, from: ui.from.value, to: ui.to.value, language: ui.language.value, tz: TIME_ZONE },
    }));
    let res = null;
    try {
      res = await request(query());
    } catch (_) {
      I18N.bindText(ui.status, say('error.unreachable'));
      return;
    }
    if (!res || generation !== app.generation) return;
    const data = await res.json().catch(() => null);
    if (!res.ok || !data) {
      const serverMessage = data && data.error && data.error.message;
      I18N.bindText(ui.status, serverMessage || say('error.request_failed', { status: res.status }));
      maruAnalytics.error = serverMessage || `Request failed (${res.status}).`;
      return;
    }
    app.data = data;
    render(data);
    I18N.bindText(ui.status, () => t('analytics.status', {
      range: I18N.formatDayRange(data.from, data.to), tz: data.tz, language: languageName(data.language),
    }));
    maruAnalytics.error = null;
    maruAnalytics.loaded = true;
  }

  async function download(figure) {
    const res = await request(query({ format: 'csv', figure }));
    if (!res) return;
    if (!res.ok) {
      I18N.bindText(ui.status, say('analytics.csv_failed', { status: res.status }));
      return;
    }
    const blob = new Blob([await res.text()], { type: 'text/csv;charset=utf-8' });
    const url = URL.createObjectURL(blob);
    const link = make('a');
    link.href = url;
    link.download = `${figure}_${ui.from.value}_${ui.to.value}_${ui.language.value}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10000);
  }

  /** The Now panel (live.js): pushed over a websocket while signed in, with reassigning. */
  function live() {
    if (!window.maruLive || !app.token) return;
    window.maruLive.start(app.token, {
      expired: () => { sessionStorage.removeItem(SESSION_KEY); showLogin(say('session.expired')); },
      forbidden: () => showLogin(say('analytics.supervisors_only')),
    });
  }

  /* ---------- rendering ---------- */

  const where = (rows, day, language) => rows.filter((r) => r.day === day && r.language === language);
  const perDay = (rows) => rows.filter((r) => r.day !== 'all' && r.language === 'all');
  const perLanguage = (rows) => rows.filter((r) => r.day === 'all' && r.language !== 'all');

  /** One value per day of the range (0 or null where there is no row). */
  function series(days, rows, key, empty) {
    const byDay = new Map(rows.map((r) => [r.day, r]));
    return days.map((d) => (byDay.has(d) ? byDay.get(d)[key] : empty));
  }

  /** A figure's box; its title and definition are the strings' (the server's if it is new). */
  function section(name, serverDefinition) {
    const title = t('figure.' + name);
    const definitionKey = 'definition.' + name;
    const definition = definitionKey in I18N.STRINGS.en ? t(definitionKey) : serverDefinition;
    const el = make('section', 'figure');
    el.id = 'figure-' + name;
    const head = make('div', 'figure-head');
    const heading = make('h2', null, title);
    heading.id = 'figure-title-' + name;
    head.append(heading, make('span', 'spacer'));
    const csv = make('button', 'button-small csv', t('analytics.download_csv'));
    csv.type = 'button';
    csv.addEventListener('click', () => download(name));
    head.append(csv);
    const body = make('div', 'figure-body');
    const chartBox = make('div', 'chart-box');
    const canvas = make('canvas');
    canvas.id = 'chart-' + name;
    canvas.setAttribute('role', 'img');
    canvas.setAttribute('aria-label', title);
    chartBox.append(canvas);
    // The table scrolls in its box: a focusable region (named by the figure's title), so
    // the keyboard can scroll it too.
    const tableBox = make('div', 'table-box');
    tableBox.tabIndex = 0;
    tableBox.setAttribute('role', 'region');
    tableBox.setAttribute('aria-labelledby', heading.id);
    body.append(chartBox, tableBox);
    el.append(head, make('p', 'figure-definition muted small', definition || ''), body);
    ui.figures.append(el);
    return { canvas, tableBox };
  }

  /** columns: [[header, key or function(row), format?]]; rows marked `total` are bold. */
  function table(box, columns, rows, emptyText) {
    if (!rows.length) {
      box.append(make('p', 'muted empty', emptyText || t('analytics.no_data')));
      return;
    }
    const tableEl = make('table'); // not `t`: that would hide the strings' t() above (TDZ)
    const head = make('tr');
    for (const [header] of columns) head.append(make('th', null, header));
    const thead = make('thead');
    thead.append(head);
    const tbody = make('tbody');
    for (const row of rows) {
      const tr = make('tr', row.__total ? 'total' : null);
      for (const [, key, format] of columns) {
        const value = typeof key === 'function' ? key(row) : row[key];
        tr.append(make('td', null, (format || number)(value)));
      }
      tbody.append(tr);
    }
    tableEl.append(thead, tbody);
    box.append(tableEl);
  }

  /** Chart.js formats its ticks and tooltips' numbers for `locale`: the page's language. */
  function chart(canvas, type, labels, datasets, options) {
    const colored = datasets.map((d, i) => ({
      backgroundColor: COLORS[i % COLORS.length], borderColor: COLORS[i % COLORS.length], ...d,
    }));
    const instance = new window.Chart(canvas, {
      type,
      data: { labels, datasets: colored },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false, locale: I18N.language,
        plugins: { legend: { position: 'bottom' } },
        ...(options || {}),
      },
    });
    app.charts.push(instance);
    return instance;
  }

  const stacked = { scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } };
  // Waits and handle times: the axis and the tooltips in durations ("1m 05s", "1분 05초").
  const inDurations = {
    scales: { y: { beginAtZero: true, ticks: { precision: 0, callback: (value) => seconds(value) } } },
    plugins: {
      legend: { position: 'bottom' },
      tooltip: { callbacks: { label: (item) => `${item.dataset.label}: ${seconds(item.parsed.y)}` } },
    },
  };

  /** The language rows, then the total row (day "all", language "all"). */
  function withTotal(rows) {
    const total = where(rows, 'all', 'all').map((r) => ({ ...r, language: 'all', __total: true }));
    return [...perLanguage(rows), ...total];
  }

  function render(data) {
    for (const c of app.charts) c.destroy();
    app.charts = [];
    ui.figures.replaceChildren();
    const f = data.figures;
    const d = data.definitions || {};
    const days = data.days;
    const dayLabels = days.map(dayLabel);
    const lang = [t('analytics.language'), (r) => languageName(r.language), text];

    // Outcomes: conversations per day by how they ended; deflection per language.
    let s = section('outcomes', d.outcomes);
    const outDays = perDay(f.outcomes);
    chart(s.canvas, 'bar', dayLabels,
      OUTCOMES.map((key) => ({ label: t('outcome.' + key), data: series(days, outDays, key, 0) })), stacked);
    table(s.tableBox, [lang, [t('column.conversations'), 'conversations'],
      [t('column.bot_resolved'), 'bot_resolved'], [t('column.deflection'), 'deflection_rate', percent],
      [t('column.handed_off'), 'handed_off'], [t('column.abandoned'), 'abandoned'],
      [t('tickets.title'), 'offline_ticket']],
    withTotal(f.outcomes));

    // Handoff reasons: totals per reason over the range.
    s = section('handoff_reasons', d.handoff_reasons);
    const reasons = where(f.handoff_reasons, 'all', 'all').sort((a, b) => b.handoffs - a.handoffs);
    chart(s.canvas, 'bar', reasons.map((r) => reasonName(r.reason)),
      [{ label: t('column.handoffs'), data: reasons.map((r) => r.handoffs) }],
      { scales: { y: { beginAtZero: true } }, plugins: { legend: { display: false } } });
    table(s.tableBox, [[t('context.reason'), (r) => reasonName(r.reason), text],
      [t('analytics.language'), (r) => languageName(r.language), text], [t('column.handoffs'), 'handoffs']],
    f.handoff_reasons.filter((r) => r.day === 'all').sort((a, b) => (a.reason > b.reason ? 1 : -1)));

    // Waits and handle times: p50 / p90 per day; the table per language.
    for (const name of ['first_reply_wait', 'handle_time']) {
      s = section(name, d[name]);
      const rows = perDay(f[name]);
      chart(s.canvas, 'line', dayLabels, [
        { label: t('analytics.seconds_series', { p: 'p50' }), data: series(days, rows, 'p50', null), spanGaps: true },
        { label: t('analytics.seconds_series', { p: 'p90' }), data: series(days, rows, 'p90', null), spanGaps: true },
      ], inDurations);
      table(s.tableBox, [lang, [t('column.count'), 'count'], [t('column.mean'), 'mean', seconds],
        ['p50', 'p50', seconds], ['p90', 'p90', seconds]], withTotal(f[name]));
    }

    // CSAT: the distribution of all ratings; the table per agent.
    s = section('csat', d.csat);
    const everyone = where(f.csat, 'all', 'all').find((r) => r.agent === 'all') || {};
    chart(s.canvas, 'bar', ['1', '2', '3', '4', '5'],
      [{ label: t('column.ratings'), data: ['r1', 'r2', 'r3', 'r4', 'r5'].map((k) => everyone[k] || 0) }],
      { scales: { y: { beginAtZero: true } }, plugins: { legend: { display: false } } });
    const agents = where(f.csat, 'all', 'all')
      .map((r) => ({ ...r, __total: r.agent === 'all' }))
      .sort((a, b) => (a.__total - b.__total) || (a.agent > b.agent ? 1 : -1));
    table(s.tableBox, [[t('role.agent'), (r) => (r.agent === 'all' ? t('csat.everyone') : r.agent === 'bot' ? t('csat.bot_only') : r.agent), text],
      [t('column.ratings'), 'ratings'], [t('column.average'), 'average', average], ['1', 'r1'], ['2', 'r2'],
      ['3', 'r3'], ['4', 'r4'], ['5', 'r5'], [t('column.asked'), 'asked'],
      [t('column.response_rate'), 'response_rate', percent]], agents);

    // Bot decisions: per day, stacked; shares per language.
    s = section('bot_decisions', d.bot_decisions);
    const decDays = perDay(f.bot_decisions);
    chart(s.canvas, 'bar', dayLabels,
      DECISIONS.map((key) => ({ label: t('decision.' + key), data: series(days, decDays, key, 0) })), stacked);
    table(s.tableBox, [lang, ...DECISIONS.map((key) => [t('decision.' + key), key + '_share', percent]),
      [t('column.questions'), (r) => r.answer + r.clarify + r.abstain],
      [t('column.chosen'), 'chosen']], withTotal(f.bot_decisions));

    // Articles: the most shown, with what customers said. Titles and ids are the KB's.
    s = section('articles', d.articles);
    const arts = where(f.articles, 'all', 'all').sort((a, b) => b.shown - a.shown);
    const top = arts.slice(0, 10);
    chart(s.canvas, 'bar', top.map((r) => r.article_id), [
      { label: t('column.shown'), data: top.map((r) => r.shown) },
      { label: t('column.helped'), data: top.map((r) => r.helpful) },
      { label: t('column.not_helped'), data: top.map((r) => r.not_helpful) },
    ], { indexAxis: 'y', scales: { x: { beginAtZero: true } } });
    table(s.tableBox, [[t('column.article'), (r) => r.title || r.article_id, text], [t('column.shown'), 'shown'],
      [t('column.helped'), 'helpful_rate', percent], [t('column.not_helped'), 'not_helpful_rate', percent],
      [t('column.help_centre_helped'), 'help_centre_helpful'],
      [t('column.help_centre_not_helped'), 'help_centre_not_helpful']], arts);

    // Labels: conversations per label over the range, named in the console's language.
    s = section('labels', d.labels);
    const labelName = (r) => r['name_' + I18N.language] || r.label;
    const labelled = where(f.labels || [], 'all', 'all')
      .sort((a, b) => (b.conversations - a.conversations) || (a.label > b.label ? 1 : -1));
    chart(s.canvas, 'bar', labelled.map(labelName),
      [{ label: t('column.conversations'), data: labelled.map((r) => r.conversations) }],
      { indexAxis: 'y', scales: { x: { beginAtZero: true } }, plugins: { legend: { display: false } } });
    table(s.tableBox, [[t('column.label'), labelName, text], [t('column.conversations'), 'conversations'],
      [t('column.share'), 'share', percent]], labelled);
  }

  /* ---------- start ---------- */

  // The language: the console's choice (or the browser's); a switch redraws from the last data.
  I18N.bindSwitcher($('ui-language-login'));
  I18N.bindSwitcher($('ui-language'));
  I18N.onChange(() => { if (app.data && !ui.report.hidden) render(app.data); });
  I18N.show();

  const today = new Date();
  ui.to.value = isoDay(today);
  ui.from.value = isoDay(new Date(today.getTime() - (DEFAULT_DAYS - 1) * 86400000));
  ui.loginForm.addEventListener('submit', signIn);
  ui.loginButton.disabled = false; // analytics.html ships it disabled until this handler is in
  ui.signOut.addEventListener('click', signOut);
  ui.filters.addEventListener('submit', load);
  const saved = loadSession();
  if (saved) begin(saved); else showLogin('');
})();
