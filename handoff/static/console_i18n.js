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
 *
 * The supervisor page (analytics.html: analytics.js, live.js, topics.js) loads it too, with the
 * same stored choice: its keys are analytics.*, figure.*, definition.* (each figure's definition;
 * English is the server's, handoff/agent/analytics.py), outcome.*, column.*, csat.*, live.* and
 * topics.*. Numbers, days and durations go through the format* helpers (Intl, this language).
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
      'topbar.shortcuts': 'Shortcuts',
      'shortcuts.title': 'Keyboard shortcuts',
      'shortcuts.accept_next': 'Accept the next waiting chat',
      'shortcuts.next_chat': 'Next of my chats',
      'shortcuts.previous_chat': 'Previous of my chats',
      'shortcuts.reply': 'Go to the reply box',
      'shortcuts.send': 'Send the reply (Shift+Enter: new line)',
      'shortcuts.resolve': 'Resolve the open chat',
      'shortcuts.help': 'Show or hide this list',
      'shortcuts.close': 'Close',
      'shortcuts.key': 'Keys',
      'shortcuts.action': 'Action',
      'agent.skills': 'Skills: {skills}',
      'sidebar.label': 'Conversations',
      'queue.title': 'Queue',
      'queue.empty': 'No one is waiting.',
      'queue.accept': 'Accept',
      'queue.accepting': 'Accepting…',
      'availability.label': 'My availability',
      'availability.hint': 'Away or busy: no new chats; you keep the ones you have.',
      'availability.online': 'Online',
      'availability.away': 'Away',
      'availability.busy': 'Busy',
      'availability.offline': 'Offline',
      'availability.failed': 'Availability not changed: {message}',
      'queue.paused_away': 'You are away: no new chats are offered. Set yourself online to take chats.',
      'queue.paused_busy': 'You are busy: no new chats are offered. Set yourself online to take chats.',
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
      'notes.title': 'Notes',
      'notes.private': 'Only agents and supervisors see notes, never the customer.',
      'notes.empty': 'No notes yet.',
      'notes.label': 'Private note',
      'notes.placeholder': 'Add a private note…',
      'notes.add': 'Add note',
      'notes.add_failed': 'The note was not saved: {message}',
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
      // The supervisor pages (analytics.html: analytics.js, live.js, topics.js).
      'analytics.title': 'Maru Store analytics',
      'analytics.supervisors_only': 'Analytics are for supervisors. Sign in with a supervisor account.',
      'analytics.filters': 'Filters',
      'analytics.from': 'From',
      'analytics.to': 'To',
      'analytics.language': 'Language',
      'analytics.language_all': 'All',
      'analytics.all_languages': 'All languages',
      'analytics.show': 'Show',
      'analytics.note': 'Days follow this browser’s time zone; each conversation counts on the day it started. Every figure’s definition is under its title.',
      'analytics.loading': 'Loading…',
      'analytics.status': '{range} (days in {tz}), {language}',
      'analytics.csv_failed': 'CSV export failed ({status}).',
      'analytics.download_csv': 'Download CSV',
      'analytics.no_data': 'No data for this range.',
      'analytics.seconds_series': '{p} (s)',
      'figure.outcomes': 'Conversations and how they ended',
      'figure.handoff_reasons': 'Handoffs by reason',
      'figure.first_reply_wait': 'Wait to the first agent reply',
      'figure.handle_time': 'Handle time',
      'figure.csat': 'Customer satisfaction',
      'figure.bot_decisions': 'Bot decisions',
      'figure.articles': 'Knowledge-base articles',
      'figure.topics': 'Unanswered topics',
      'outcome.bot_resolved': 'Resolved by the bot',
      'outcome.bot_unresolved': 'Bot, unresolved',
      'outcome.agent_resolved': 'Resolved by an agent',
      'outcome.abandoned': 'Abandoned',
      'outcome.offline_ticket': 'Offline ticket',
      'outcome.cancelled': 'Cancelled',
      'outcome.open': 'Still open',
      'column.conversations': 'Conversations',
      'column.bot_resolved': 'Bot resolved',
      'column.deflection': 'Deflection',
      'column.handed_off': 'Handed off',
      'column.abandoned': 'Abandoned',
      'column.handoffs': 'Handoffs',
      'column.count': 'Count',
      'column.mean': 'Mean',
      'column.ratings': 'Ratings',
      'column.average': 'Average',
      'column.asked': 'Asked',
      'column.response_rate': 'Response rate',
      'column.questions': 'Questions',
      'column.chosen': 'Picked from options',
      'column.article': 'Article',
      'column.shown': 'Shown',
      'column.helped': 'Helped',
      'column.not_helped': 'Didn’t help',
      'column.help_centre_helped': 'Help centre: helped',
      'column.help_centre_not_helped': 'Help centre: didn’t help',
      'csat.everyone': 'Everyone',
      'csat.bot_only': 'Bot only',
      'live.title': 'Now',
      'live.queue_label': 'Queue by team and language',
      'live.agents_label': 'Agents',
      'live.chats_label': 'Chats with people',
      'live.team': 'Team',
      'live.skill': 'Skill',
      'live.waiting': 'Waiting',
      'live.oldest_wait': 'Oldest wait',
      'live.availability': 'Availability',
      'live.open_chats': 'Open chats',
      'live.capacity': 'Capacity',
      'live.languages': 'Languages',
      'live.no_agents': 'No agents.',
      'live.no_chats': 'No chats with people right now.',
      'live.conversation': 'Conversation',
      'live.state': 'State',
      'live.wait': 'Wait',
      'live.give_to': 'Give to',
      'live.state.queued': 'Waiting',
      'live.state.assigned': 'With an agent',
      'live.summary': '{waiting} waiting · agents online: {online} of {total} · {time}',
      'live.agent_select': 'Agent to give this chat to',
      'live.force': 'force',
      'live.force_title': 'Ignore language, skill and capacity (the agent must still be online)',
      'live.reassign': 'Reassign',
      'live.choose_agent': 'Choose an agent…',
      'live.choose_first': 'Choose an agent first.',
      'live.reassigned': 'Conversation {id} is now with {agent}.',
      'live.reassigned_from': 'Conversation {id} is now with {agent} (was {from}).',
      'live.reassign_failed': 'Reassign failed ({status}).',
      'live.not_reassigned': 'Not reassigned: {message}',
      'topics.definition': 'Questions the knowledge base could not answer (no match, unsure between articles, “didn’t help”, “none of these”), grouped by meaning in any language; the biggest first. Each topic’s draft is a knowledge-base article with the customers’ wordings as its questions: write the answer, then add it under data/kb/.',
      'topics.chart_label': 'Biggest unanswered topics',
      'topics.download_drafts': 'Download all drafts (YAML)',
      'topics.loading': 'Grouping unanswered questions…',
      'topics.unavailable': 'Unanswered topics are unavailable: {why}',
      'topics.summary': '{questions} questions, {groups} topics',
      'topics.pending': '{pending} more are still being read: show again in a minute',
      'topics.newest': 'the newest {grouped} grouped',
      'topics.all_answered': 'Every question in this range found an answer.',
      'topics.size': 'Size',
      'topics.languages': 'Languages',
      'topics.examples': 'Examples',
      'topics.nearest': 'Nearest article',
      'topics.draft': 'Draft',
      'topics.download_draft': 'Download draft',
      'topics.export_failed': 'Export failed ({status}).',
      'topics.kind.abstain': 'no match',
      'topics.kind.clarify': 'unsure',
      'topics.kind.not_helpful': 'didn’t help',
      'topics.kind.none_of_these': 'none of these',
      'definition.outcomes': "How conversations ended. Every counted conversation is in exactly one outcome:\n- bot_resolved (deflection): never handed to a person, the bot showed at least one knowledge-base answer, and the customer never said \"that didn't help\" or \"none of these\";\n- bot_unresolved: never handed to a person, but no answer shown or one rejected;\n- handed_off: queued for a person at least once, split by how its last handoff ended: agent_resolved, abandoned (left the queue without an agent), offline_ticket (left a message for later), cancelled (withdrew the request), open (still queued or with an agent).\ndeflection_rate = bot_resolved / conversations.",
      'definition.handoff_reasons': "Handoffs (each time a conversation was queued for a person) by the reason the bot or the gateway gave: requested (the customer asked), misses (two questions in a row the knowledge base could not answer), not_helpful (\"that didn't help\" twice), complaint (a complaint the knowledge base could not answer), always_human (a topic that always goes to a person, e.g. a billing dispute).",
      'definition.first_reply_wait': "Wait to the first agent reply, in seconds: from the moment a conversation was queued for a person to the first message an agent wrote in it, for every handoff an agent replied to (handoffs nobody answered are not in it: see abandoned). count, mean, p50 and p90 (nearest rank).",
      'definition.handle_time': "Handle time, in seconds: from an agent accepting a chat to the agent resolving it, for every handoff that ended resolved. count, mean, p50 and p90 (nearest rank).",
      'definition.csat': "Customer satisfaction (1-5) per agent; agent \"bot\" collects ratings given with no agent's chat before them (bot-only conversations), agent \"all\" everyone. After an agent resolves a chat the bot asks for a rating: asked = resolved handoffs, responded = those rated, response_rate = responded / asked. ratings counts the ratings (one per handoff: a second tap replaces the first), average is their mean, r1..r5 their distribution.",
      'definition.bot_decisions': "What the knowledge base decided for each question the bot took: answer (confident), clarify (offered close candidates), abstain (nothing close). Shares are over those three; chosen counts the articles customers then picked from the options. Counted in the conversation's language at the time of the decision.",
      'definition.articles': "Per knowledge-base article and language, over the whole range (day \"all\": a daily split of every article would bury the table): shown = times the bot gave its answer (a confident answer, or the customer's pick from the options); helpful / not_helpful = times the customer then said \"that helped\" / \"that didn't help\"; the rates are over shown. help_centre_helpful / help_centre_not_helpful = readers' votes on the article's help-centre page (conversation ids \"helpcentre:…\"): counted apart, as a page view is not a \"shown\" (it is not recorded), so they stay out of the rates.",
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
      'topbar.shortcuts': '단축키',
      'shortcuts.title': '키보드 단축키',
      'shortcuts.accept_next': '대기 중인 다음 상담 수락',
      'shortcuts.next_chat': '내 상담 중 다음',
      'shortcuts.previous_chat': '내 상담 중 이전',
      'shortcuts.reply': '답장 입력란으로 이동',
      'shortcuts.send': '답장 보내기 (Shift+Enter: 줄바꿈)',
      'shortcuts.resolve': '열린 상담 종료',
      'shortcuts.help': '이 목록 열기/닫기',
      'shortcuts.close': '닫기',
      'shortcuts.key': '키',
      'shortcuts.action': '동작',
      'agent.skills': '담당 분야: {skills}',
      'sidebar.label': '상담 목록',
      'queue.title': '대기열',
      'queue.empty': '대기 중인 고객이 없습니다.',
      'queue.accept': '수락',
      'queue.accepting': '수락 중…',
      'availability.label': '내 상태',
      'availability.hint': '자리 비움·다른 용무 중에는 새 상담이 배정되지 않으며, 진행 중인 상담은 그대로 유지됩니다.',
      'availability.online': '온라인',
      'availability.away': '자리 비움',
      'availability.busy': '다른 용무 중',
      'availability.offline': '오프라인',
      'availability.failed': '상태를 바꾸지 못했습니다: {message}',
      'queue.paused_away': '자리 비움 상태라 새 상담이 배정되지 않습니다. 상담을 받으려면 온라인으로 바꾸세요.',
      'queue.paused_busy': '다른 용무 중 상태라 새 상담이 배정되지 않습니다. 상담을 받으려면 온라인으로 바꾸세요.',
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
      'notes.title': '내부 메모',
      'notes.private': '상담원과 관리자만 볼 수 있으며, 고객에게는 보이지 않습니다.',
      'notes.empty': '아직 메모가 없습니다.',
      'notes.label': '내부 메모',
      'notes.placeholder': '내부 메모를 입력하세요…',
      'notes.add': '메모 추가',
      'notes.add_failed': '메모를 저장하지 못했습니다: {message}',
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
      // 관리자 화면 (analytics.html: analytics.js, live.js, topics.js)
      'analytics.title': 'Maru Store 상담 통계',
      'analytics.supervisors_only': '통계는 관리자만 볼 수 있습니다. 관리자 계정으로 로그인해 주세요.',
      'analytics.filters': '조회 조건',
      'analytics.from': '시작일',
      'analytics.to': '종료일',
      'analytics.language': '언어',
      'analytics.language_all': '전체',
      'analytics.all_languages': '전체 언어',
      'analytics.show': '조회',
      'analytics.note': '날짜는 이 브라우저의 시간대 기준이며, 각 상담은 시작한 날짜에 집계됩니다. 각 지표의 정의는 제목 아래에 있습니다.',
      'analytics.loading': '불러오는 중…',
      'analytics.status': '{range} ({tz} 기준), {language}',
      'analytics.csv_failed': 'CSV 내보내기에 실패했습니다 ({status}).',
      'analytics.download_csv': 'CSV 다운로드',
      'analytics.no_data': '이 기간에 해당하는 데이터가 없습니다.',
      'analytics.seconds_series': '{p}(초)',
      'figure.outcomes': '상담 건수 및 처리 결과',
      'figure.handoff_reasons': '사유별 상담원 연결',
      'figure.first_reply_wait': '첫 응답 대기 시간',
      'figure.handle_time': '상담 처리 시간',
      'figure.csat': '고객 만족도',
      'figure.bot_decisions': '챗봇 응답 판단',
      'figure.articles': '지식베이스 문서',
      'figure.topics': '미답변 질문 주제',
      'outcome.bot_resolved': '챗봇 해결',
      'outcome.bot_unresolved': '챗봇 미해결',
      'outcome.agent_resolved': '상담원 해결',
      'outcome.abandoned': '고객 이탈',
      'outcome.offline_ticket': '오프라인 문의',
      'outcome.cancelled': '고객 취소',
      'outcome.open': '진행 중',
      'column.conversations': '상담 수',
      'column.bot_resolved': '챗봇 해결',
      'column.deflection': '챗봇 해결률',
      'column.handed_off': '상담원 연결',
      'column.abandoned': '이탈',
      'column.handoffs': '연결 건수',
      'column.count': '건수',
      'column.mean': '평균',
      'column.ratings': '평가 수',
      'column.average': '평균 점수',
      'column.asked': '평가 요청',
      'column.response_rate': '응답률',
      'column.questions': '질문 수',
      'column.chosen': '후보에서 선택',
      'column.article': '문서',
      'column.shown': '노출 수',
      'column.helped': '도움 됨',
      'column.not_helped': '도움 안 됨',
      'column.help_centre_helped': '도움말 센터: 도움 됨',
      'column.help_centre_not_helped': '도움말 센터: 도움 안 됨',
      'csat.everyone': '전체',
      'csat.bot_only': '챗봇 단독',
      'live.title': '실시간 현황',
      'live.queue_label': '팀·언어별 대기열',
      'live.agents_label': '상담원 현황',
      'live.chats_label': '상담원 연결 상담',
      'live.team': '팀',
      'live.skill': '담당 분야',
      'live.waiting': '대기 건수',
      'live.oldest_wait': '최장 대기 시간',
      'live.availability': '상태',
      'live.open_chats': '진행 중 상담',
      'live.capacity': '최대 동시 상담',
      'live.languages': '상담 언어',
      'live.no_agents': '등록된 상담원이 없습니다.',
      'live.no_chats': '현재 상담원이 응대 중이거나 연결을 기다리는 상담이 없습니다.',
      'live.conversation': '상담',
      'live.state': '상태',
      'live.wait': '대기 시간',
      'live.give_to': '이관 대상',
      'live.state.queued': '대기 중',
      'live.state.assigned': '상담 중',
      'live.summary': '대기 {waiting}건 · 접속 상담원 {online}/{total}명 · {time}',
      'live.agent_select': '이 상담을 넘길 상담원',
      'live.force': '강제',
      'live.force_title': '언어·담당 분야·최대 동시 상담 수를 무시합니다 (상담원은 접속 중이어야 합니다)',
      'live.reassign': '이관',
      'live.choose_agent': '상담원 선택…',
      'live.choose_first': '먼저 상담원을 선택하세요.',
      'live.reassigned': '{id} 상담이 {agent} 상담원에게 이관되었습니다.',
      'live.reassigned_from': '{id} 상담이 {from} 상담원에게서 {agent} 상담원에게 이관되었습니다.',
      'live.reassign_failed': '이관에 실패했습니다 ({status}).',
      'live.not_reassigned': '이관하지 못했습니다: {message}',
      'topics.definition': '지식베이스가 답하지 못한 질문(일치하는 문서 없음, 후보 문서 중 판단 보류, “도움 안 됨”, “해당 없음”)을 언어와 관계없이 의미별로 묶어 많은 순으로 보여 줍니다. 각 주제의 초안은 고객이 실제로 쓴 표현을 질문으로 담은 지식베이스 문서입니다. 답변을 작성한 뒤 data/kb/ 아래에 추가하세요.',
      'topics.chart_label': '미답변 질문이 많은 주제',
      'topics.download_drafts': '모든 초안 다운로드 (YAML)',
      'topics.loading': '미답변 질문을 주제별로 묶는 중…',
      'topics.unavailable': '미답변 질문 주제를 불러올 수 없습니다: {why}',
      'topics.summary': '질문 {questions}건, 주제 {groups}개',
      'topics.pending': '{pending}건은 아직 분석 중입니다. 잠시 후 다시 조회하세요',
      'topics.newest': '최근 질문 {grouped}건만 분류됨',
      'topics.all_answered': '이 기간의 모든 질문에 답변했습니다.',
      'topics.size': '질문 수',
      'topics.languages': '언어별',
      'topics.examples': '질문 예시',
      'topics.nearest': '가장 가까운 문서',
      'topics.draft': '초안',
      'topics.download_draft': '초안 다운로드',
      'topics.export_failed': '내보내기에 실패했습니다 ({status}).',
      'topics.kind.abstain': '일치 문서 없음',
      'topics.kind.clarify': '판단 보류',
      'topics.kind.not_helpful': '도움 안 됨',
      'topics.kind.none_of_these': '해당 없음',
      'definition.outcomes': "상담이 어떻게 끝났는지를 보여 줍니다. 집계된 상담은 모두 아래 결과 중 정확히 하나에 속합니다.\n- bot_resolved(챗봇 해결): 상담원에게 연결되지 않았고, 챗봇이 지식베이스 답변을 한 번 이상 보여 주었으며, 고객이 “도움이 안 됐어요”나 “해당 없음”을 한 번도 고르지 않은 상담\n- bot_unresolved(챗봇 미해결): 상담원에게 연결되지 않았지만, 답변을 보여 주지 못했거나 고객이 답변을 거절한 상담\n- handed_off(상담원 연결): 상담원 대기열에 한 번 이상 들어간 상담. 마지막 연결이 끝난 방식에 따라 agent_resolved(상담원 해결), abandoned(상담원 배정 전에 대기열에서 이탈), offline_ticket(나중에 답변받도록 메시지를 남김), cancelled(고객이 연결 요청을 취소), open(아직 대기 중이거나 상담 중)으로 나뉩니다.\ndeflection_rate(챗봇 해결률) = bot_resolved / conversations",
      'definition.handoff_reasons': "상담원 연결 건수(상담이 상담원 대기열에 들어갈 때마다 1건)를 챗봇이나 게이트웨이가 판단한 사유별로 집계합니다: requested(고객이 상담원 연결을 요청), misses(지식베이스가 연속 두 번 답하지 못함), not_helpful(“도움이 안 됐어요”가 두 번), complaint(지식베이스가 답하지 못한 불만), always_human(결제 분쟁처럼 항상 상담원이 맡는 주제).",
      'definition.first_reply_wait': "상담원의 첫 응답까지 걸린 대기 시간(초): 상담이 상담원 대기열에 들어간 시점부터 상담원이 그 상담에 첫 메시지를 보낸 시점까지입니다. 상담원이 응답한 연결 건만 포함합니다(아무도 응답하지 않은 연결은 제외: abandoned 참고). 건수, 평균, p50, p90(최근접 순위 방식).",
      'definition.handle_time': "상담 처리 시간(초): 상담원이 상담을 수락한 시점부터 해결 처리한 시점까지이며, 해결로 끝난 연결 건이 모두 포함됩니다. 건수, 평균, p50, p90(최근접 순위 방식).",
      'definition.csat': "상담원별 고객 만족도(1~5점). 상담원 “bot”에는 앞선 상담원 상담 없이 받은 평가(챗봇 단독 상담)가, 상담원 “all”에는 전체 평가가 집계됩니다. 상담원이 상담을 해결하면 챗봇이 평가를 요청합니다: asked = 해결된 연결 건수, responded = 그중 평가를 받은 건수, response_rate(응답률) = responded / asked. ratings는 평가 수(연결 건당 1개: 다시 누르면 이전 평가를 대체), average는 평균 점수, r1..r5는 점수별 분포입니다.",
      'definition.bot_decisions': "챗봇이 받은 질문마다 지식베이스가 내린 판단입니다: answer(확신을 가지고 답변), clarify(가까운 후보를 제시), abstain(가까운 답변 없음). 비율은 이 세 가지 합계 대비이며, chosen은 고객이 제시된 후보 중에서 고른 문서 수입니다. 판단 시점의 상담 언어로 집계합니다.",
      'definition.articles': "지식베이스 문서별·언어별로 기간 전체를 집계합니다(day “all”: 모든 문서를 날짜별로 나누면 표가 너무 길어지기 때문입니다). shown = 챗봇이 그 문서로 답변한 횟수(확신 있는 답변이거나 고객이 후보에서 고른 경우), helpful / not_helpful = 그 뒤 고객이 “도움이 됐어요” / “도움이 안 됐어요”라고 답한 횟수. 비율은 shown 대비입니다. 도움말 센터: 문서 페이지에서 받은 독자 투표로, 따로 집계합니다(페이지 조회는 기록하지 않으므로 비율에는 넣지 않습니다).",
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
      'topbar.shortcuts': 'ショートカット',
      'shortcuts.title': 'キーボードショートカット',
      'shortcuts.accept_next': '次の待機中チャットを受ける',
      'shortcuts.next_chat': '担当チャットの次へ',
      'shortcuts.previous_chat': '担当チャットの前へ',
      'shortcuts.reply': '返信欄へ移動',
      'shortcuts.send': '返信を送信（Shift+Enter：改行）',
      'shortcuts.resolve': '開いているチャットを解決',
      'shortcuts.help': 'この一覧の表示／非表示',
      'shortcuts.close': '閉じる',
      'shortcuts.key': 'キー',
      'shortcuts.action': '操作',
      'agent.skills': 'スキル：{skills}',
      'sidebar.label': '会話一覧',
      'queue.title': 'キュー',
      'queue.empty': '待機中のお客様はいません。',
      'queue.accept': '受付',
      'queue.accepting': '受付中…',
      'availability.label': '対応状況',
      'availability.hint': '離席中・取り込み中は新しいチャットが届きません。対応中のチャットはそのままです。',
      'availability.online': 'オンライン',
      'availability.away': '離席中',
      'availability.busy': '取り込み中',
      'availability.offline': 'オフライン',
      'availability.failed': '対応状況を変更できませんでした：{message}',
      'queue.paused_away': '離席中のため、新しいチャットは届きません。受け付けるにはオンラインにしてください。',
      'queue.paused_busy': '取り込み中のため、新しいチャットは届きません。受け付けるにはオンラインにしてください。',
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
      'notes.title': '社内メモ',
      'notes.private': '社内メモは担当者と管理者だけが見られます。お客様には表示されません。',
      'notes.empty': 'メモはまだありません。',
      'notes.label': '社内メモ',
      'notes.placeholder': '社内メモを入力…',
      'notes.add': 'メモを追加',
      'notes.add_failed': 'メモを保存できませんでした：{message}',
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
      // スーパーバイザー画面（analytics.html: analytics.js, live.js, topics.js）
      'analytics.title': 'Maru Store 分析',
      'analytics.supervisors_only': '分析はスーパーバイザー専用です。スーパーバイザーのアカウントでログインしてください。',
      'analytics.filters': '絞り込み条件',
      'analytics.from': '開始日',
      'analytics.to': '終了日',
      'analytics.language': '言語',
      'analytics.language_all': 'すべて',
      'analytics.all_languages': '全言語',
      'analytics.show': '表示',
      'analytics.note': '日付はこのブラウザのタイムゾーン基準で、各会話は開始した日に集計されます。各指標の定義はタイトルの下に記載しています。',
      'analytics.loading': '読み込み中…',
      'analytics.status': '{range}（{tz}基準）、{language}',
      'analytics.csv_failed': 'CSVの書き出しに失敗しました（{status}）。',
      'analytics.download_csv': 'CSVダウンロード',
      'analytics.no_data': 'この期間のデータはありません。',
      'analytics.seconds_series': '{p}（秒）',
      'figure.outcomes': '会話数と対応結果',
      'figure.handoff_reasons': '理由別の有人対応への引き継ぎ',
      'figure.first_reply_wait': '初回応答までの待ち時間',
      'figure.handle_time': '対応時間',
      'figure.csat': '顧客満足度',
      'figure.bot_decisions': 'ボットの回答判定',
      'figure.articles': 'ナレッジベース記事',
      'figure.topics': '未回答のトピック',
      'outcome.bot_resolved': 'ボットで解決',
      'outcome.bot_unresolved': 'ボットで未解決',
      'outcome.agent_resolved': 'オペレーターが解決',
      'outcome.abandoned': '離脱',
      'outcome.offline_ticket': 'オフライン問い合わせ',
      'outcome.cancelled': 'お客様がキャンセル',
      'outcome.open': '対応継続中',
      'column.conversations': '会話数',
      'column.bot_resolved': 'ボット解決',
      'column.deflection': 'ボット解決率',
      'column.handed_off': '有人対応',
      'column.abandoned': '離脱',
      'column.handoffs': '引き継ぎ件数',
      'column.count': '件数',
      'column.mean': '平均',
      'column.ratings': '評価数',
      'column.average': '平均スコア',
      'column.asked': '評価依頼数',
      'column.response_rate': '回答率',
      'column.questions': '質問数',
      'column.chosen': '候補から選択',
      'column.article': '記事',
      'column.shown': '表示回数',
      'column.helped': '役に立った',
      'column.not_helped': '役に立たなかった',
      'column.help_centre_helped': 'ヘルプセンター：役に立った',
      'column.help_centre_not_helped': 'ヘルプセンター：役に立たなかった',
      'csat.everyone': '全体',
      'csat.bot_only': 'ボットのみ',
      'live.title': 'リアルタイム状況',
      'live.queue_label': 'チーム・言語別のキュー',
      'live.agents_label': 'オペレーターの状況',
      'live.chats_label': '有人対応のチャット',
      'live.team': 'チーム',
      'live.skill': 'スキル',
      'live.waiting': '待機件数',
      'live.oldest_wait': '最長待ち時間',
      'live.availability': '対応状況',
      'live.open_chats': '対応中のチャット',
      'live.capacity': '同時対応上限',
      'live.languages': '対応言語',
      'live.no_agents': 'オペレーターが登録されていません。',
      'live.no_chats': '現在、有人対応中・待機中のチャットはありません。',
      'live.conversation': '会話',
      'live.state': '状態',
      'live.wait': '待ち時間',
      'live.give_to': '移管先',
      'live.state.queued': '待機中',
      'live.state.assigned': '対応中',
      'live.summary': '待機 {waiting}件 · ログイン中のオペレーター {online}/{total}人 · {time}',
      'live.agent_select': 'このチャットの移管先オペレーター',
      'live.force': '強制',
      'live.force_title': '言語・スキル・同時対応上限を無視します（オペレーターはログイン中である必要があります）',
      'live.reassign': '移管',
      'live.choose_agent': 'オペレーターを選択…',
      'live.choose_first': '先にオペレーターを選択してください。',
      'live.reassigned': '会話 {id} を{agent}さんに移管しました。',
      'live.reassigned_from': '会話 {id} を{from}さんから{agent}さんに移管しました。',
      'live.reassign_failed': '移管に失敗しました（{status}）。',
      'live.not_reassigned': '移管できませんでした：{message}',
      'topics.definition': 'ナレッジベースで回答できなかった質問（該当なし、候補の記事を絞り込めず、「役に立たなかった」、「どれも当てはまらない」）を、言語を問わず意味ごとにまとめ、件数の多い順に表示します。各トピックの下書きは、お客様の実際の言い回しを質問として収めたナレッジベース記事です。回答を書いてから data/kb/ に追加してください。',
      'topics.chart_label': '件数の多い未回答トピック',
      'topics.download_drafts': 'すべての下書きをダウンロード（YAML）',
      'topics.loading': '未回答の質問をトピックにまとめています…',
      'topics.unavailable': '未回答のトピックを表示できません：{why}',
      'topics.summary': '質問 {questions}件、トピック {groups}件',
      'topics.pending': 'ほかに{pending}件を解析中です。1分ほどしてから再表示してください',
      'topics.newest': '新しい順に{grouped}件をまとめました',
      'topics.all_answered': 'この期間の質問にはすべて回答できました。',
      'topics.size': '件数',
      'topics.languages': '言語別',
      'topics.examples': '質問例',
      'topics.nearest': '最も近い記事',
      'topics.draft': '下書き',
      'topics.download_draft': '下書きをダウンロード',
      'topics.export_failed': '書き出しに失敗しました（{status}）。',
      'topics.kind.abstain': '該当なし',
      'topics.kind.clarify': '判断保留',
      'topics.kind.not_helpful': '役に立たなかった',
      'topics.kind.none_of_these': 'どれも当てはまらない',
      'definition.outcomes': "会話がどのように終わったかを示します。集計対象の会話は、必ず次のいずれか1つの結果に分類されます。\n- bot_resolved（ボットで解決）：有人対応に引き継がれず、ボットがナレッジベースの回答を1回以上表示し、お客様が「役に立たなかった」「どれも当てはまらない」を一度も選ばなかった会話\n- bot_unresolved（ボットで未解決）：有人対応に引き継がれなかったものの、回答を表示できなかったか、回答が否定された会話\n- handed_off（有人対応）：オペレーターのキューに1回以上入った会話。最後の引き継ぎの結果により、agent_resolved（オペレーターが解決）、abandoned（オペレーターにつながる前にキューから離脱）、offline_ticket（後で回答を受け取るためにメッセージを残した）、cancelled（お客様が依頼を取り消した）、open（まだ待機中またはオペレーター対応中）に分かれます。\ndeflection_rate（ボット解決率）= bot_resolved / conversations",
      'definition.handoff_reasons': "有人対応への引き継ぎ（会話がオペレーターのキューに入るたびに1件）を、ボットまたはゲートウェイが判断した理由別に集計します：requested（お客様が有人対応を希望）、misses（ナレッジベースで2回続けて回答できなかった）、not_helpful（「役に立たなかった」が2回）、complaint（ナレッジベースで回答できなかったクレーム）、always_human（請求への異議など、常に有人対応となるトピック）。",
      'definition.first_reply_wait': "オペレーターの初回応答までの待ち時間（秒）：会話がオペレーターのキューに入ってから、オペレーターがその会話で最初のメッセージを送るまでです。オペレーターが応答した引き継ぎのみが対象です（誰も応答しなかった引き継ぎは含みません：abandonedを参照）。件数、平均、p50、p90（最近傍順位法）。",
      'definition.handle_time': "対応時間（秒）：オペレーターがチャットを受け付けてから解決済みにするまでで、解決で終わったすべての引き継ぎが対象です。件数、平均、p50、p90（最近傍順位法）。",
      'definition.csat': "オペレーター別の顧客満足度（1〜5）。オペレーター「bot」には、それ以前にオペレーターとのチャットがない評価（ボットのみの会話）が、「all」には全体が集計されます。オペレーターがチャットを解決すると、ボットが評価を依頼します：asked = 解決した引き継ぎ数、responded = そのうち評価された件数、response_rate（回答率）= responded / asked。ratingsは評価数（引き継ぎごとに1件：もう一度押すと前の評価を置き換えます）、averageはその平均、r1..r5は評価の分布です。",
      'definition.bot_decisions': "ボットが受けた質問ごとのナレッジベースの判定です：answer（確信をもって回答）、clarify（近い候補を提示）、abstain（近いものがない）。割合はこの3つの合計に対する値で、chosenはお客様が提示された候補から選んだ記事の数です。判定時点の会話の言語で集計します。",
      'definition.articles': "ナレッジベースの記事・言語ごとに、期間全体で集計します（day「all」：全記事を日別に分けると表が埋もれてしまうため）。shown = ボットがその記事で回答した回数（確信をもった回答、またはお客様が候補から選んだもの）、helpful / not_helpful = その後お客様が「役に立った」/「役に立たなかった」と答えた回数。割合はshownに対する値です。 ヘルプセンター：記事ページでの読者の投票で、別に集計します（ページの表示は記録しないため、割合には含めません）。",
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

  /* Numbers, days and durations for the supervisor pages, with Intl in the console language. */
  const NONE = '–';
  const isNumber = (value) => value !== null && value !== undefined && value !== '' && Number.isFinite(Number(value));

  /** A number (Intl.NumberFormat `options`); a dash for none. */
  function formatNumber(value, options) {
    return isNumber(value) ? new Intl.NumberFormat(current, options).format(Number(value)) : NONE;
  }

  /** A ratio (0.25) as a percentage with one decimal; a dash for none. */
  function formatPercent(ratio) {
    return formatNumber(ratio, { style: 'percent', minimumFractionDigits: 1, maximumFractionDigits: 1 });
  }

  /** Seconds written as the console writes waits ("3m 05s", "3분 05초", "3分05秒"); a dash for none. */
  function formatDuration(seconds) {
    if (!isNumber(seconds)) return NONE;
    const s = Math.max(0, Math.round(Number(seconds)));
    const pad = (n) => String(n).padStart(2, '0');
    if (s < 60) return t('wait.seconds', { s });
    if (s < 3600) return t('wait.minutes', { m: Math.floor(s / 60), s: pad(s % 60) });
    return t('wait.hours', { h: Math.floor(s / 3600), m: pad(Math.floor(s / 60) % 60) });
  }

  /** A calendar day "YYYY-MM-DD" as a Date at UTC midnight (formatted in UTC: no shift). */
  function dayDate(day) {
    const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(String(day));
    return match ? new Date(Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))) : null;
  }

  /** A calendar day (Intl.DateTimeFormat `options`, medium date by default); as given if not a day. */
  function formatDay(day, options) {
    const date = dayDate(day);
    if (!date) return String(day);
    return new Intl.DateTimeFormat(current, { ...(options || { dateStyle: 'medium' }), timeZone: 'UTC' }).format(date);
  }

  /** Two calendar days as a range ("May 5 – Jun 3, 2024", "2024. 5. 5. ~ 2024. 6. 3."). */
  function formatDayRange(from, to) {
    const first = dayDate(from);
    const last = dayDate(to);
    if (!first || !last) return `${from} – ${to}`;
    const format = new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeZone: 'UTC' });
    return format.formatRange ? format.formatRange(first, last) : `${format.format(first)} – ${format.format(last)}`;
  }

  /** A moment's clock time with seconds, in the browser's time zone. */
  function formatClock(value) {
    const date = value instanceof Date ? value : new Date(value);
    if (isNaN(date)) return NONE;
    return new Intl.DateTimeFormat(current, { hour: '2-digit', minute: '2-digit', second: '2-digit' }).format(date);
  }

  // Intl.ListFormat's unit lists are space-separated in Korean and Japanese: ambiguous after numbers.
  const LIST_SEPARATORS = { ko: ', ', ja: '、', en: ', ' };

  /** Items as a list ("a 2, b 1"; "a 2、b 1" in Japanese). */
  function formatList(items) {
    return items.map(String).join(LIST_SEPARATORS[current]);
  }

  // Elements whose text a script builds from strings and data (bindText): rebuilt on a switch.
  const bound = new Map();

  /**
   * Set `el`'s text from `produce()` (a function, called again whenever the language changes:
   * it reads the strings and formats the data anew); text or null is shown as it is, once.
   */
  function bindText(el, produce) {
    if (typeof produce === 'function') {
      bound.set(el, produce);
      el.textContent = produce();
    } else {
      bound.delete(el);
      el.textContent = produce === null || produce === undefined ? '' : String(produce);
    }
  }

  function show() {
    document.documentElement.lang = current;
    apply(document);
    bound.forEach((produce, el) => {
      if (el.isConnected) el.textContent = produce();
      else bound.delete(el);
    });
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
    formatNumber,
    formatPercent,
    formatDuration,
    formatDay,
    formatDayRange,
    formatClock,
    formatList,
    bindText,
    setLanguage,
    bindSwitcher,
    get language() { return current; },
    onChange(listener) { listeners.push(listener); },
    show,
  };
})();
