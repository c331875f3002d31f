/*
 * The agent console's own words in Korean, Japanese and English, and the console language.
 *
 * Loaded before agent.js (both deferred, so in order). Server text (error messages, customer
 * messages, article titles) is never looked up here: only what the console itself says.
 *
 * Markup names its strings with attributes, applied by `apply()`:
 *   data-i18n              → textContent
 *   data-i18n-placeholder  → placeholder
 *   data-i18n-aria-label   → aria-label
 *   data-i18n-title        → title
 *   data-i18n-empty        → data-empty (what an empty list shows, through CSS)
 * Scripts call `t(key, {name: value})`; `{name}` in a string is replaced by the value.
 *
 * The language: the agent's last choice (localStorage), else the first of the browser's
 * languages that is Korean or Japanese, else English.
 */
(function () {
  'use strict';

  const SUPPORTED = ['ko', 'ja', 'en'];
  const FALLBACK = 'en';
  const STORAGE_KEY = 'maru-console-language';
  // Each language's name in itself: what the switcher shows, whatever the console language.
  const NATIVE_NAMES = { ko: '한국어', ja: '日本語', en: 'English' };
  const ATTRIBUTES = [
    ['data-i18n-placeholder', 'placeholder'],
    ['data-i18n-aria-label', 'aria-label'],
    ['data-i18n-title', 'title'],
    ['data-i18n-empty', 'data-empty'],
  ];

  const STRINGS = {
    en: {
      'console.title': 'Maru Store agent console',
      'console.subtitle': 'Agent console',
      'ui_language.label': 'Console language',
      'login.username': 'Username',
      'login.password': 'Password',
      'login.submit': 'Sign in',
      'login.wrong': 'Wrong username or password.',
      'session.expired': 'Your session has expired. Please sign in again.',
      'connection.connecting': 'Connecting…',
      'connection.live': 'Live',
      'connection.reconnecting': 'Reconnecting…',
      'topbar.analytics': 'Analytics',
      'topbar.sign_out': 'Sign out',
      'agent.skills': 'Skills: {skills}',
      'sidebar.label': 'Conversations',
      'queue.title': 'Queue',
      'queue.empty': 'No one is waiting.',
      'queue.accept': 'Accept',
      'queue.accepting': 'Accepting…',
      'mine.title': 'My conversations',
      'mine.empty': 'Nothing assigned to you.',
      'tickets.title': 'Offline tickets',
      'tickets.empty': 'No offline tickets.',
      'tickets.load_failed': 'Could not load offline tickets.',
      'ticket.open': 'Open',
      'refresh': 'Refresh',
      'summary.none': '(no summary)',
      'empty_state': 'Accept a conversation from the queue, or open one of yours.',
      'conversation.untitled': 'Conversation',
      'conversation.resolve': 'Resolve',
      'conversation.customer_typing': 'Customer is typing…',
      'composer.canned_label': 'Canned reply',
      'composer.canned_placeholder': 'Canned reply…',
      'composer.label': 'Reply to the customer',
      'composer.loading': 'Loading…',
      'composer.closed': 'This conversation is {state}.',
      'composer.reply_in': 'Reply in {language}…',
      'composer.customer_language': 'the customer’s language',
      'composer.send': 'Send',
      'composer.hint': 'Enter sends · Shift+Enter for a new line',
      'composer.shortened': 'Shortened to fit {max} characters.',
      'message.not_sent': 'Not sent',
      'message.send_failed': 'Not sent: {message}',
      'message.intent_title': 'Intent the bot recognised, with its confidence',
      'details.label': 'Conversation details',
      'suggestions.title': 'Suggested answers',
      'suggestions.empty': 'No suggestions for the latest message.',
      'suggestions.load_failed': 'Could not load suggestions.',
      'suggestions.insert': 'Insert',
      'context.title': 'Context',
      'context.reason': 'Reason',
      'context.language': 'Language',
      'context.customer': 'Customer',
      'context.earlier': 'Earlier conversations',
      'context.earlier_empty': 'None.',
      'context.attempts': 'What the bot tried',
      'context.attempts_empty': 'No knowledge-base attempts.',
      'customer.name': 'Name',
      'customer.email': 'Email',
      'customer.id': 'ID',
      'customer.verified': 'Verified by the site',
      'customer.unverified': 'Unverified: typed by the customer',
      'customer.anonymous': 'Anonymous (not signed in)',
      'reason.requested': 'Customer asked for a person',
      'reason.misses': 'Bot could not answer, several times',
      'reason.not_helpful': 'Customer said an answer did not help',
      'reason.complaint': 'Complaint',
      'reason.always_human': 'Topic always goes to a person',
      'reason.unknown': 'Unknown',
      'language.ko': 'Korean',
      'language.ja': 'Japanese',
      'language.en': 'English',
      'role.customer': 'Customer',
      'role.bot': 'Bot',
      'role.agent': 'Agent',
      'role.system': 'System',
      'state.queued': 'Waiting',
      'state.assigned': 'Assigned to you',
      'state.resolved': 'Resolved',
      'state.cancelled': 'Cancelled by customer',
      'state.bot': 'Back with the bot',
      'state.offline_ticket': 'Became an offline ticket',
      'state.abandoned': 'Abandoned',
      'state.reassigned': 'Moved to another agent',
      'decision.answer': 'Answered',
      'decision.clarify': 'Asked to clarify',
      'decision.abstain': 'Did not know',
      'feedback.helpful': 'Customer: helpful',
      'feedback.not_helpful': 'Customer: not helpful',
      'wait.seconds': '{s}s',
      'wait.minutes': '{m}m {s}s',
      'wait.hours': '{h}h {m}m',
      'notice.a_supervisor': 'A supervisor',
      'notice.another_agent': 'another agent',
      'notice.assigned': '{by} gave you a conversation.',
      'notice.reassigned': '{by} moved a conversation to {agent}.',
      'notice.already_accepted': 'Another agent already accepted that conversation.',
      'notice.not_waiting': 'That conversation is no longer waiting.',
      'notice.unavailable': 'That conversation is no longer available.',
      'notice.resolved': 'Conversation resolved.',
      'confirm.resolve': 'Resolve this conversation? You will not be able to reply to it afterwards.',
      'error.unreachable': 'Cannot reach the server.',
      'error.request_failed': 'Request failed ({status}).',
      'error.server': 'Server error.',
    },
    ko: {
      'console.title': 'Maru Store 상담원 콘솔',
      'console.subtitle': '상담원 콘솔',
      'ui_language.label': '콘솔 언어',
      'login.username': '아이디',
      'login.password': '비밀번호',
      'login.submit': '로그인',
      'login.wrong': '아이디 또는 비밀번호가 올바르지 않습니다.',
      'session.expired': '세션이 만료되었습니다. 다시 로그인해 주세요.',
      'connection.connecting': '연결 중…',
      'connection.live': '연결됨',
      'connection.reconnecting': '재연결 중…',
      'topbar.analytics': '통계',
      'topbar.sign_out': '로그아웃',
      'agent.skills': '담당 분야: {skills}',
      'sidebar.label': '상담 목록',
      'queue.title': '대기열',
      'queue.empty': '대기 중인 고객이 없습니다.',
      'queue.accept': '수락',
      'queue.accepting': '수락 중…',
      'mine.title': '내 상담',
      'mine.empty': '배정된 상담이 없습니다.',
      'tickets.title': '오프라인 문의',
      'tickets.empty': '오프라인 문의가 없습니다.',
      'tickets.load_failed': '오프라인 문의를 불러오지 못했습니다.',
      'ticket.open': '미처리',
      'refresh': '새로고침',
      'summary.none': '(요약 없음)',
      'empty_state': '대기열에서 상담을 수락하거나 내 상담을 선택하세요.',
      'conversation.untitled': '상담',
      'conversation.resolve': '해결',
      'conversation.customer_typing': '고객이 입력 중…',
      'composer.canned_label': '상용구',
      'composer.canned_placeholder': '상용구 선택…',
      'composer.label': '고객에게 답장',
      'composer.loading': '불러오는 중…',
      'composer.closed': '답장할 수 없는 상담입니다 ({state}).',
      'composer.reply_in': '{language}로 답장…',
      'composer.customer_language': '고객 언어',
      'composer.send': '보내기',
      'composer.hint': 'Enter 전송 · Shift+Enter 줄바꿈',
      'composer.shortened': '{max}자에 맞게 줄였습니다.',
      'message.not_sent': '전송 실패',
      'message.send_failed': '전송 실패: {message}',
      'message.intent_title': '챗봇이 인식한 의도와 신뢰도',
      'details.label': '상담 상세 정보',
      'suggestions.title': '추천 답변',
      'suggestions.empty': '최근 메시지에 맞는 추천 답변이 없습니다.',
      'suggestions.load_failed': '추천 답변을 불러오지 못했습니다.',
      'suggestions.insert': '넣기',
      'context.title': '상담 정보',
      'context.reason': '연결 사유',
      'context.language': '언어',
      'context.customer': '고객',
      'context.earlier': '이전 상담',
      'context.earlier_empty': '없음',
      'context.attempts': '챗봇 응대 내역',
      'context.attempts_empty': '지식베이스 검색 내역이 없습니다.',
      'customer.name': '이름',
      'customer.email': '이메일',
      'customer.id': 'ID',
      'customer.verified': '사이트 인증 고객',
      'customer.unverified': '미인증: 고객이 직접 입력',
      'customer.anonymous': '비회원 (로그인 안 함)',
      'reason.requested': '고객이 상담원 연결 요청',
      'reason.misses': '챗봇이 여러 번 답변 못 함',
      'reason.not_helpful': '고객이 답변이 도움 안 됐다고 평가',
      'reason.complaint': '불만 접수',
      'reason.always_human': '상담원 전담 주제',
      'reason.unknown': '알 수 없음',
      'language.ko': '한국어',
      'language.ja': '일본어',
      'language.en': '영어',
      'role.customer': '고객',
      'role.bot': '챗봇',
      'role.agent': '상담원',
      'role.system': '시스템',
      'state.queued': '대기 중',
      'state.assigned': '상담 중',
      'state.resolved': '해결',
      'state.cancelled': '고객 취소',
      'state.bot': '챗봇으로 전환',
      'state.offline_ticket': '오프라인 문의로 전환',
      'state.abandoned': '고객 이탈',
      'state.reassigned': '다른 상담원에게 이관',
      'decision.answer': '답변함',
      'decision.clarify': '되물음',
      'decision.abstain': '답변 못 함',
      'feedback.helpful': '고객 평가: 도움 됨',
      'feedback.not_helpful': '고객 평가: 도움 안 됨',
      'wait.seconds': '{s}초',
      'wait.minutes': '{m}분 {s}초',
      'wait.hours': '{h}시간 {m}분',
      'notice.a_supervisor': '관리자',
      'notice.another_agent': '다른 상담원',
      'notice.assigned': '상담이 배정되었습니다 ({by}).',
      'notice.reassigned': '상담이 {agent}에게 이관되었습니다 ({by}).',
      'notice.already_accepted': '다른 상담원이 이미 수락한 상담입니다.',
      'notice.not_waiting': '더 이상 대기 중인 상담이 아닙니다.',
      'notice.unavailable': '더 이상 열 수 없는 상담입니다.',
      'notice.resolved': '상담을 해결 처리했습니다.',
      'confirm.resolve': '이 상담을 해결 처리할까요? 해결 후에는 답장할 수 없습니다.',
      'error.unreachable': '서버에 연결할 수 없습니다.',
      'error.request_failed': '요청에 실패했습니다 ({status}).',
      'error.server': '서버 오류가 발생했습니다.',
    },
    ja: {
      'console.title': 'Maru Store オペレーターコンソール',
      'console.subtitle': 'オペレーターコンソール',
      'ui_language.label': '表示言語',
      'login.username': 'ユーザー名',
      'login.password': 'パスワード',
      'login.submit': 'ログイン',
      'login.wrong': 'ユーザー名またはパスワードが正しくありません。',
      'session.expired': 'セッションの有効期限が切れました。もう一度ログインしてください。',
      'connection.connecting': '接続中…',
      'connection.live': '接続済み',
      'connection.reconnecting': '再接続中…',
      'topbar.analytics': '分析',
      'topbar.sign_out': 'ログアウト',
      'agent.skills': 'スキル：{skills}',
      'sidebar.label': '会話一覧',
      'queue.title': 'キュー',
      'queue.empty': '待機中のお客様はいません。',
      'queue.accept': '受付',
      'queue.accepting': '受付中…',
      'mine.title': '対応中の会話',
      'mine.empty': '担当の会話はありません。',
      'tickets.title': 'オフライン問い合わせ',
      'tickets.empty': 'オフライン問い合わせはありません。',
      'tickets.load_failed': 'オフライン問い合わせを読み込めませんでした。',
      'ticket.open': '未対応',
      'refresh': '更新',
      'summary.none': '（要約なし）',
      'empty_state': 'キューから会話を受け付けるか、対応中の会話を開いてください。',
      'conversation.untitled': '会話',
      'conversation.resolve': '解決',
      'conversation.customer_typing': 'お客様が入力中…',
      'composer.canned_label': '定型文',
      'composer.canned_placeholder': '定型文を選択…',
      'composer.label': 'お客様への返信',
      'composer.loading': '読み込み中…',
      'composer.closed': 'この会話には返信できません（{state}）。',
      'composer.reply_in': '{language}で返信…',
      'composer.customer_language': 'お客様の言語',
      'composer.send': '送信',
      'composer.hint': 'Enterで送信 · Shift+Enterで改行',
      'composer.shortened': '{max}文字に収まるよう短くしました。',
      'message.not_sent': '未送信',
      'message.send_failed': '送信できませんでした：{message}',
      'message.intent_title': 'ボットが認識した意図と確信度',
      'details.label': '会話の詳細',
      'suggestions.title': 'おすすめの回答',
      'suggestions.empty': '最新のメッセージに合う回答候補はありません。',
      'suggestions.load_failed': '回答候補を読み込めませんでした。',
      'suggestions.insert': '挿入',
      'context.title': '会話情報',
      'context.reason': '引き継ぎ理由',
      'context.language': '言語',
      'context.customer': 'お客様',
      'context.earlier': '過去の会話',
      'context.earlier_empty': 'なし',
      'context.attempts': 'ボットの対応履歴',
      'context.attempts_empty': 'ナレッジベースの検索履歴はありません。',
      'customer.name': '名前',
      'customer.email': 'メール',
      'customer.id': 'ID',
      'customer.verified': 'サイトで本人確認済み',
      'customer.unverified': '未確認：お客様が入力',
      'customer.anonymous': 'ゲスト（未ログイン）',
      'reason.requested': 'お客様が有人対応を希望',
      'reason.misses': 'ボットが何度も回答できず',
      'reason.not_helpful': '回答が役に立たなかったとの評価',
      'reason.complaint': 'クレーム',
      'reason.always_human': '常に有人対応のトピック',
      'reason.unknown': '不明',
      'language.ko': '韓国語',
      'language.ja': '日本語',
      'language.en': '英語',
      'role.customer': 'お客様',
      'role.bot': 'ボット',
      'role.agent': 'オペレーター',
      'role.system': 'システム',
      'state.queued': '待機中',
      'state.assigned': '対応中',
      'state.resolved': '解決',
      'state.cancelled': 'お客様がキャンセル',
      'state.bot': 'ボット対応に戻りました',
      'state.offline_ticket': 'オフライン問い合わせに移行',
      'state.abandoned': '離脱',
      'state.reassigned': '他のオペレーターに移管',
      'decision.answer': '回答',
      'decision.clarify': '確認の質問',
      'decision.abstain': '回答できず',
      'feedback.helpful': 'お客様の評価：役に立った',
      'feedback.not_helpful': 'お客様の評価：役に立たなかった',
      'wait.seconds': '{s}秒',
      'wait.minutes': '{m}分{s}秒',
      'wait.hours': '{h}時間{m}分',
      'notice.a_supervisor': 'スーパーバイザー',
      'notice.another_agent': '他のオペレーター',
      'notice.assigned': '会話が割り当てられました（{by}）。',
      'notice.reassigned': '会話が{agent}に移管されました（{by}）。',
      'notice.already_accepted': 'この会話は他のオペレーターがすでに受け付けました。',
      'notice.not_waiting': 'この会話はもう待機中ではありません。',
      'notice.unavailable': 'この会話はもう開けません。',
      'notice.resolved': '会話を解決済みにしました。',
      'confirm.resolve': 'この会話を解決済みにしますか？解決後は返信できません。',
      'error.unreachable': 'サーバーに接続できません。',
      'error.request_failed': 'リクエストに失敗しました（{status}）。',
      'error.server': 'サーバーエラーが発生しました。',
    },
  };

  const listeners = [];
  const switchers = [];

  /** The first of the browser's languages we have, by primary subtag; else English. */
  function fromBrowser() {
    const preferred = navigator.languages && navigator.languages.length
      ? navigator.languages : [navigator.language || ''];
    for (const tag of preferred) {
      const primary = String(tag || '').toLowerCase().split('-')[0];
      if (SUPPORTED.includes(primary)) return primary;
    }
    return FALLBACK;
  }

  function stored() {
    try {
      const value = localStorage.getItem(STORAGE_KEY);
      return SUPPORTED.includes(value) ? value : null;
    } catch (_) { return null; } // storage disabled: the browser's language, every time
  }

  let current = stored() || fromBrowser();

  /** `key` in the console language (English if that language lacks it; the key if both do). */
  function t(key, params) {
    const table = STRINGS[current];
    const template = key in table ? table[key] : (key in STRINGS[FALLBACK] ? STRINGS[FALLBACK][key] : key);
    if (!params) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name) => (name in params ? String(params[name]) : whole));
  }

  /** Fill every marked element under `root` (the document by default) with its string. */
  function apply(root) {
    const scope = root || document;
    scope.querySelectorAll('[data-i18n]').forEach((el) => { el.textContent = t(el.dataset.i18n); });
    for (const [marker, target] of ATTRIBUTES) {
      scope.querySelectorAll('[' + marker + ']').forEach((el) => el.setAttribute(target, t(el.getAttribute(marker))));
    }
  }

  /** Date and time in the console language; `withDate` adds the day. Null if unreadable. */
  function formatTime(value, withDate) {
    const date = value instanceof Date ? value : new Date(value);
    if (isNaN(date)) return null;
    const options = withDate ? { dateStyle: 'medium', timeStyle: 'short' } : { hour: '2-digit', minute: '2-digit' };
    return date.toLocaleString(current, options);
  }

  function show() {
    document.documentElement.lang = current;
    apply(document);
    switchers.forEach((select) => { select.value = current; });
  }

  /** Switch, remember the choice, relabel the page and tell whoever listens. */
  function setLanguage(lang) {
    if (!SUPPORTED.includes(lang) || lang === current) return;
    current = lang;
    try { localStorage.setItem(STORAGE_KEY, lang); } catch (_) { /* kept for this page only */ }
    show();
    listeners.forEach((listener) => listener(lang));
  }

  /** Fill a <select> with the languages (each in its own name) and let it switch. */
  function bindSwitcher(select) {
    select.replaceChildren(...SUPPORTED.map((lang) => {
      const option = new Option(NATIVE_NAMES[lang], lang);
      option.lang = lang;
      return option;
    }));
    select.value = current;
    select.addEventListener('change', () => setLanguage(select.value));
    switchers.push(select);
  }

  window.maruConsoleI18n = {
    SUPPORTED,
    STRINGS,
    STORAGE_KEY,
    t,
    apply,
    formatTime,
    setLanguage,
    bindSwitcher,
    get language() { return current; },
    onChange(listener) { listeners.push(listener); },
    show,
  };
})();
