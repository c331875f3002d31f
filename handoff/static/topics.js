/*
 * Unanswered topics on the supervisor analytics page: GET /api/agent/analytics/topics with the
 * page's filters. The action server groups the questions the KB could not answer (it holds the
 * KB's model), so this loads on its own, after the report, and says so when it is down.
 * analytics.js announces each load with a `maru:analytics-filters` event (token and filters).
 * Text is only ever set with textContent: the examples are customers' words.
 */
(function () {
  'use strict';

  const TOP_IN_CHART = 10;
  const LABEL_CHARS = 42;
  const LANGUAGES = [['ko', 'Korean', '#1f6f8b'], ['ja', 'Japanese', '#e07a2e'], ['en', 'English', '#3a9d5d']];
  const KINDS = { abstain: 'no match', clarify: 'unsure', not_helpful: "didn't help", none_of_these: 'none of these' };

  const $ = (id) => document.getElementById(id);
  const ui = {
    status: $('topics-status'), table: $('topics-table'), canvas: $('chart-topics'),
    csv: $('topics-csv'), drafts: $('topics-drafts'),
  };
  const state = { filters: null, chart: null, generation: 0 };
  // Read by automated browser tests.
  const maruTopics = (window.maruTopics = { loaded: false, error: null, topics: 0 });

  function make(tag, className, text) {
    const el = document.createElement(tag);
    if (className) el.className = className;
    if (text !== undefined && text !== null) el.textContent = String(text);
    return el;
  }

  const counts = (map, names) => Object.entries(map || {})
    .map(([key, n]) => `${(names && names[key]) || key} ${n}`).join(', ');
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

  function clear(message) {
    if (state.chart) state.chart.destroy();
    state.chart = null;
    ui.table.replaceChildren();
    if (message) ui.table.append(make('p', 'muted empty', message));
  }

  async function load(filters) {
    state.filters = filters;
    const generation = ++state.generation;
    maruTopics.loaded = false;
    maruTopics.error = null;
    ui.csv.disabled = ui.drafts.disabled = true;
    ui.status.textContent = 'Grouping unanswered questions…';
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
      const why = (data && data.error && data.error.message) || (res ? `request failed (${res.status})` : 'cannot reach the server');
      const message = `Unanswered topics are unavailable: ${why}.`;
      clear(message);
      ui.status.textContent = '';
      maruTopics.error = message;
      return;
    }
    render(data);
    let note = '';
    if (data.pending) note = ` · ${data.pending} more are still being read: show again in a minute`;
    else if (data.grouped < data.questions) note = ` · the newest ${data.grouped} grouped`;
    ui.status.textContent = `${data.questions} questions, ${data.groups} topics${note}`;
    ui.csv.disabled = ui.drafts.disabled = data.topics.length === 0;
    maruTopics.topics = data.topics.length;
    maruTopics.loaded = true;
  }

  function render(data) {
    clear(data.topics.length ? '' : 'Every question in this range found an answer.');
    if (!data.topics.length) return;
    const top = data.topics.slice(0, TOP_IN_CHART);
    state.chart = new window.Chart(ui.canvas, {
      type: 'bar',
      data: {
        labels: top.map((t) => shorten(t.representative)),
        datasets: LANGUAGES.map(([code, label, color]) => ({
          label, backgroundColor: color, borderColor: color,
          data: top.map((t) => (t.languages && t.languages[code]) || 0),
        })),
      },
      options: {
        indexAxis: 'y', responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { position: 'bottom' } },
        scales: { x: { stacked: true, beginAtZero: true, ticks: { precision: 0 } }, y: { stacked: true } },
      },
    });

    const table = make('table', 'topics-table');
    const head = make('tr');
    for (const title of ['#', 'Size', 'Languages', 'Examples', 'Nearest article', 'Draft']) head.append(make('th', null, title));
    const thead = make('thead');
    thead.append(head);
    const tbody = make('tbody');
    for (const topic of data.topics) {
      const tr = make('tr');
      tr.dataset.topic = topic.id;
      const examples = make('td', 'examples');
      const list = make('ul');
      for (const example of topic.examples) list.append(make('li', null, example));
      examples.append(list, make('span', 'muted small', counts(topic.kinds, KINDS)));
      const nearest = topic.nearest && topic.nearest[0];
      const draft = make('button', 'button-small draft', 'Download draft');
      draft.type = 'button';
      draft.addEventListener('click', () => save(topic.draft, 'application/yaml;charset=utf-8', `${topic.id}.yml`));
      const draftCell = make('td');
      draftCell.append(draft);
      tr.append(make('td', null, topic.rank), make('td', null, topic.size),
        make('td', null, counts(topic.languages)), examples,
        make('td', 'nearest', nearest ? `${nearest.title} (${nearest.count})` : '–'), draftCell);
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
        ui.status.textContent = (data && data.error && data.error.message) || `Export failed (${res.status}).`;
        return;
      }
      save(await res.text(), type, filename);
    } catch (_) {
      ui.status.textContent = 'Cannot reach the server.';
    }
  }

  const stem = () => `${state.filters.from}_${state.filters.to}_${state.filters.language}`;
  ui.csv.addEventListener('click', () => download('csv', 'text/csv;charset=utf-8', `topics_${stem()}.csv`));
  ui.drafts.addEventListener('click', () => download('yaml', 'application/yaml;charset=utf-8', `drafts_${stem()}.yml`));
  document.addEventListener('maru:analytics-filters', (event) => load(event.detail));
})();
