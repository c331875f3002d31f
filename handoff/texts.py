"""What the gateway itself says to customers, in their language."""

from __future__ import annotations

BOT_UNAVAILABLE = {
    "ko": "죄송해요, 지금 챗봇에 일시적인 문제가 있어요. 잠시 후 다시 시도해 주세요. "
    "급하시면 support@maru-store.example 로 연락 주세요.",
    "ja": "申し訳ありません。現在チャットボットに一時的な問題が発生しています。"
    "しばらくしてからもう一度お試しください。お急ぎの場合は support@maru-store.example までご連絡ください。",
    "en": "Sorry, the assistant is having a temporary problem. Please try again in a moment, "
    "or email support@maru-store.example if it's urgent.",
}


def localized(texts: dict[str, str], language: str) -> str:
    return texts.get(language) or texts["en"]
