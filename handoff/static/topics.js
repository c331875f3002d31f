/*
 * Unanswered topics on the supervisor analytics page: GET /api/agent/analytics/topics with the
 * page's filters. The action server groups the questions the KB could not answer (it holds the
 * KB's model), so this loads on its own, after the report, and says so when it is down.
 * analytics.js announces each load with a `maru:analytics-filters` event (token and filters).
 * Text is only ever set with textContent: the examples are customers' words (shown as they came,
 * like the nearest articles' titles). The page's own words and numbers are in the console's
 * language (console_i18n.js); a switch draws the last topics again.
 */
(function () {
  'use strict';

  const TOP_IN_CHART = 10;
  const LABEL_CHARS = 42;
  const LANGUAGES = [['ko', '#1f6f8b'], ['ja', '#e07a2e'], ['en', '#3a9d5d']];
  const LANGUAGE_CODES = LANGUAGES.map(([code]) => code);
  // How a question went unanswered: its words are "topics.kind.<kind>" in console_i18n.js.
  const KINDS = ['abstain', 'not_covered', 'clarify', 'not_helpful', 'none_of_these'];
  const COLUMNS = ['topics.size', 'topics.languages', 'topics.examples', 'topics.nearest', 'topics.draft'];

  const I18N = window.maruConsoleI18n;
  const t = I18N.t;
  const say = (key, params) => () => t(key, params);

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('topics-status'), table: $('topics-table'), canvas: $('chart-topics'),
    csv: $('topics-csv'), drafts: $('topics-drafts'),
  };
  const state = { filters: null, chart: null, generation: 0, data: null, empty: null };
  // Read by automated browser tests.
  const maruTopics = (window.maruTopics = { loaded: false, error: null, topics: 0 });

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  /** {code: n} as "Korean 2, English 1" in the page's language (codes it has no word for, as is). */
  const counts = (map, kind, codes) => I18N.formatList(Object.entries(map || {})
    .map(([code, n]) => `${codes.includes(code) ? t(kind + code) : code} ${I18N.formatNumber(n)}`));
  const shorten = (text) => (text.length > LABEL_CHARS ? text.slice(0, LABEL_CHARS - 1) + '…' : text);

  function url(format) {
    const f = state.filters;
    const params = new URLSearchParams({ from: f.from, to: f.to, language: f.language });
    if (format) params.set('format', format);
    return '/api/agent/analytics/topics?' + params.toString();
  }

  function save(text, type, filename) {
    const blob = new Blob([text], { type });
    const link = make('a');
    link.href = URL.createObjectURL(blob);
    link.download = filename;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  }

  /** `message`: a function of the language (drawn again on a switch), or none. */
  function clear(message) {
    if (state.chart) state.chart.destroy();
    state.chart = null;
    state.empty = message || null;
    ui.table.replaceChildren();
    if (message) ui.table.append(make('p', 'muted empty', message()));
  }

  async function load(filters) {
    state.filters = filters;
    const generation = ++state.generation;
    maruTopics.loaded = false;
    maruTopics.error = null;
    state.data = null;
    ui.csv.disabled = ui.drafts.disabled = true;
    I18N.bindText(ui.status, say('topics.loading'));
    let res = null;
    let data = null;
    try {
      res = await fetch(url(), { headers: { Authorization: 'Bearer ' + filters.token }, cache: 'no-store' });
      data = await res.json().catch(() => null);
    } catch (_) {
      data = null;
    }
    if (generation !== state.generation) return; // the filters changed meanwhile
    if (!res || !res.ok || !data || !Array.isArray(data.topics)) {
      // The server's reason as it came; our own in the page's language.
      const serverMessage = data && data.error && data.error.message;
      const status = res && res.status;
      const why = () => serverMessage || (res ? t('error.request_failed', { status }) : t('error.unreachable'));
      clear(() => t('topics.unavailable', { why: why() }));
      I18N.bindText(ui.status, null);
      maruTopics.error = serverMessage || (res ? `request failed (${status})` : 'cannot reach the server');
      return;
    }
    state.data = data;
    render(data);
    const n = (value) => I18N.formatNumber(value);
    I18N.bindText(ui.status, () => {
      const parts = [t('topics.summary', { questions: n(data.questions), groups: n(data.groups) })];
      if (data.pending) parts.push(t('topics.pending', { pending: n(data.pending) }));
      else if (data.grouped < data.questions) parts.push(t('topics.newest', { grouped: n(data.grouped) }));
      return parts.join(' · ');
    });
    ui.csv.disabled = ui.drafts.disabled = data.topics.length === 0;
    maruTopics.topics = data.topics.length;
    maruTopics.loaded = true;
  }

  function render(data) {
    clear(data.topics.length ? null : say('topics.all_answered'));
    if (!data.topics.length) return;
    const top = data.topics.slice(0, TOP_IN_CHART);
    state.chart = new window.Chart(ui.canvas, {
      type: 'bar',
      data: {
        labels: top.map((topic) => shorten(topic.representative)),
        datasets: LANGUAGES.map(([code, color]) => ({
          label: t('language.' + code), backgroundColor: color, borderColor: color,
          data: top.map((topic) => (topic.languages && topic.languages[code]) || 0),
        })),
      },
      options: {
        indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false, locale: I18N.language,
        plugins: { legend: { position: 'bottom' } },
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
      },
    });

    const table = make('table', 'topics-table');
    const head = make('tr');
    head.append(make('th', null, '#'));
    for (const key of COLUMNS) head.append(make('th', null, t(key)));
    const thead = make('thead');
    thead.append(head);
    const tbody = make('tbody');
    for (const topic of data.topics) {
      const tr = make('tr');
      tr.dataset.topic = topic.id;
      const examples = make('td', 'examples');
      const list = make('ul');
      for (const example of topic.examples) list.append(make('li', null, example));
      examples.append(list, make('span', 'muted small', counts(topic.kinds, 'topics.kind.', KINDS)));
      const nearest = topic.nearest && topic.nearest[0];
      const draft = make('button', 'button-small draft', t('topics.download_draft'));
      draft.type = 'button';
      draft.addEventListener('click', () => save(topic.draft, 'application/yaml;charset=utf-8', `${topic.id}.yml`));
      const draftCell = make('td');
      draftCell.append(draft);
      tr.append(make('td', null, I18N.formatNumber(topic.rank)), make('td', null, I18N.formatNumber(topic.size)),
        make('td', null, counts(topic.languages, 'language.', LANGUAGE_CODES)), examples,
        make('td', 'nearest', nearest ? `${nearest.title} (${I18N.formatNumber(nearest.count)})` : '–'), draftCell);
      tbody.append(tr);
    }
    table.append(thead, tbody);
    ui.table.append(table);
  }

  async function download(format, type, filename) {
    if (!state.filters) return;
    try {
      const res = await fetch(url(format), { headers: { Authorization: 'Bearer ' + state.filters.token }, cache: 'no-store' });
      if (!res.ok) {
        const data = await res.json().catch(() => null);
        const serverMessage = data && data.error && data.error.message;
        I18N.bindText(ui.status, serverMessage || say('topics.export_failed', { status: res.status }));
        return;
      }
      save(await res.text(), type, filename);
    } catch (_) {
      I18N.bindText(ui.status, say('error.unreachable'));
    }
  }

  const stem = () => `${state.filters.from}_${state.filters.to}_${state.filters.language}`;
  ui.csv.addEventListener('click', () => download('csv', 'text/csv;charset=utf-8', `topics_${stem()}.csv`));
  ui.drafts.addEventListener('click', () => download('yaml', 'application/yaml;charset=utf-8', `drafts_${stem()}.yml`));
  document.addEventListener('maru:analytics-filters', (event) => load(event.detail));
  // A switch: the last topics (or the message shown instead) drawn again in the new language.
  I18N.onChange(() => {
    if (state.data) render(state.data);
    else if (state.empty) clear(state.empty);
  });
})();
