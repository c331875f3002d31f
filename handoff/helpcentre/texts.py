"""Everything the help centre's pages say, in ko, ja and en (the articles themselves are
the KB's, data/kb/). tests/handoff/test_helpcentre.py checks every text has all three
languages and the same {placeholders} in each."""

from __future__ import annotations

from common.language import DEFAULT_LANGUAGE

TEXTS: dict[str, dict[str, str]] = {
    "site_title": {"ko": "고객센터", "ja": "ヘルプセンター", "en": "Help centre"},
    "home_heading": {
        "ko": "무엇을 도와드릴까요?",
        "ja": "どのようなことでお困りですか？",
        "en": "How can we help?",
    },
    "search_label": {"ko": "도움말 검색", "ja": "ヘルプを検索", "en": "Search the help centre"},
    "search_placeholder": {
        "ko": "예: 배송은 언제 오나요",
        "ja": "例：注文をキャンセルしたい",
        "en": "e.g. how do I cancel my order",
    },
    "search_button": {"ko": "검색", "ja": "検索", "en": "Search"},
    "language_switcher": {"ko": "언어", "ja": "言語", "en": "Language"},
    "categories_heading": {"ko": "카테고리", "ja": "カテゴリー", "en": "Categories"},
    "results_heading": {
        "ko": "‘{query}’ 검색 결과 {count}건",
        "ja": "「{query}」の検索結果：{count}件",
        "en": "{count} results for “{query}”",
    },
    "no_results": {
        "ko": "검색 결과가 없어요. 다른 말로 검색하시거나 챗봇에게 물어보세요.",
        "ja": "該当する記事が見つかりませんでした。言葉を変えて検索するか、チャットでお問い合わせください。",
        "en": "Nothing matched. Try other words, or ask our assistant in the chat.",
    },
    "semantic_unavailable": {
        "ko": "지금은 의미 검색을 사용할 수 없어 입력하신 단어와 일치하는 결과만 보여 드려요.",
        "ja": "現在、意味による検索を利用できないため、入力された語句に一致する記事のみ表示しています。",
        "en": "Search by meaning is unavailable right now: these results only match your words.",
    },
    "query_shortened": {
        "ko": "검색어가 길어 앞부분 {max}자로 검색했어요.",
        "ja": "検索語が長いため、先頭の{max}文字で検索しました。",
        "en": "Your search was long, so only its first {max} characters were used.",
    },
    "home_link": {"ko": "고객센터 홈", "ja": "ヘルプセンターのトップ", "en": "Help centre home"},
    "category_label": {"ko": "카테고리", "ja": "カテゴリー", "en": "Category"},
    "links_heading": {"ko": "관련 링크", "ja": "関連リンク", "en": "Related links"},
    "more_in_category": {
        "ko": "이 카테고리의 다른 도움말",
        "ja": "このカテゴリーの他の記事",
        "en": "More in this category",
    },
    "helpful_question": {
        "ko": "이 도움말이 도움이 되었나요?",
        "ja": "この記事は役に立ちましたか？",
        "en": "Was this helpful?",
    },
    "helpful_yes": {"ko": "네", "ja": "はい", "en": "Yes"},
    "helpful_no": {"ko": "아니요", "ja": "いいえ", "en": "No"},
    "feedback_thanks": {
        "ko": "의견 감사합니다!",
        "ja": "ご意見ありがとうございます。",
        "en": "Thanks for your feedback!",
    },
    "ask_assistant": {
        "ko": "원하는 답을 찾지 못하셨나요? 챗봇에게 물어보세요",
        "ja": "お探しの答えが見つかりませんか？チャットで質問する",
        "en": "Didn't find what you need? Ask our assistant",
    },
    "not_found_title": {
        "ko": "도움말을 찾을 수 없어요",
        "ja": "記事が見つかりません",
        "en": "Article not found",
    },
    "not_found_body": {
        "ko": "요청하신 도움말이 없거나 이동되었어요. 검색하거나 카테고리에서 찾아보세요.",
        "ja": "お探しの記事は存在しないか、移動されました。検索するか、カテゴリーからお探しください。",
        "en": "This article does not exist or has moved. Search, or browse the categories.",
    },
    "empty_kb": {
        "ko": "아직 등록된 도움말이 없어요.",
        "ja": "まだ記事がありません。",
        "en": "There are no articles yet.",
    },
}

# The KB's files (data/kb/<category>.yml); a file not named here shows its own name.
CATEGORIES: dict[str, dict[str, str]] = {
    "account": {"ko": "계정", "ja": "アカウント", "en": "Account"},
    "giftcards": {
        "ko": "기프트카드·쿠폰·적립금",
        "ja": "ギフトカード・クーポン・ポイント",
        "en": "Gift cards, coupons & points",
    },
    "orders": {"ko": "주문", "ja": "ご注文", "en": "Orders"},
    "payment": {"ko": "결제", "ja": "お支払い", "en": "Payment"},
    "products": {"ko": "상품", "ja": "商品", "en": "Products"},
    "returns": {"ko": "반품·환불", "ja": "返品・返金", "en": "Returns & refunds"},
    "shipping": {"ko": "배송", "ja": "配送", "en": "Shipping"},
    "store": {
        "ko": "쇼핑몰 안내·문의",
        "ja": "ストア案内・お問い合わせ",
        "en": "About us & contact",
    },
}

# Each language's name in itself, for the switcher.
LANGUAGE_NAMES = {"ko": "한국어", "ja": "日本語", "en": "English"}


def say(key: str, language: str, **values: object) -> str:
    """The text `key` in `language` (English for any other), placeholders filled."""
    variants = TEXTS[key]
    return variants.get(language, variants[DEFAULT_LANGUAGE]).format(**values)


def category_name(category: str, language: str) -> str:
    names = CATEGORIES.get(category)
    if names is None:
        return category.replace("_", " ").replace("-", " ").capitalize()
    return names.get(language, names[DEFAULT_LANGUAGE])
