"""Unanswered-topics grouping on a busy month: 10 000 synthetic questions the KB cannot
answer (ko/ja/en), embedded with the product's embedder and grouped as the supervisor
analytics page and `python -m kb_index unanswered` do (kb_index/unanswered.py).

    .venv/app/bin/python bench/topics.py [--count 10000] [--seed 7]

Questions are templated from shop topics the KB has no article for (jobs, franchising,
parking, pets, allergens, engraving, ...) in each language's own phrasings, with fillers,
casual endings and typos (dropped, doubled or swapped characters), plus one-off questions;
ko/ja/en 45/30/25 %. Prints the time to load the model, embed (once per distinct
wording) and group, separately; the group count; and a second page load through the
action server's memory of embeddings (kb_index/memo.py). Goal: embed + group <= 30 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb_index import unanswered
from kb_index.embedders import make_embedder
from kb_index.memo import MemoEmbedder
from stack.settings import Settings

LANGUAGE_MIX = {"ko": 45, "ja": 30, "en": 25}
ONE_OFF_SHARE = 0.1

# topic -> language -> templates; {x} takes one of the topic's fillers in that language.
TOPICS: dict[str, dict[str, tuple[list[str], list[str]]]] = {
    "jobs": {
        "en": (
            [
                "are you hiring {x}",
                "do you have any {x} openings",
                "how do i apply for a {x} job",
                "looking for {x} work at your store",
                "any {x} positions available?",
            ],
            ["part-time", "weekend", "warehouse", "sales", "seasonal", "student", ""],
        ),
        "ko": (
            [
                "{x} 채용하나요",
                "{x} 직원 뽑아요?",
                "{x} 알바 자리 있나요",
                "{x} 지원은 어디서 해요",
            ],
            ["매장", "물류센터", "주말", "단기", "파트타임", ""],
        ),
        "ja": (
            [
                "{x}の求人はありますか",
                "{x}スタッフを募集していますか",
                "{x}のバイトに応募したいです",
                "{x}で働きたいのですが",
            ],
            ["店舗", "倉庫", "週末", "短期", "アルバイト", ""],
        ),
    },
    "franchise": {
        "en": (
            [
                "how can i open a {x} franchise",
                "franchise fee for a {x} store?",
                "do you offer {x} franchising",
                "i want to become a {x} franchisee",
            ],
            ["maru store", "small", "new", "city-center", ""],
        ),
        "ko": (
            ["{x} 가맹점 내고 싶어요", "{x} 창업 비용 얼마예요", "{x} 프랜차이즈 문의드려요"],
            ["마루스토어", "소형", "지방", "신규", ""],
        ),
        "ja": (
            [
                "{x}フランチャイズに加盟したいです",
                "{x}加盟店の開業費用は？",
                "{x}のFC募集はしていますか",
            ],
            ["マルストア", "小型店", "地方", ""],
        ),
    },
    "parking": {
        "en": (
            [
                "is there parking at the {x} store",
                "where do i park near {x}",
                "do you validate parking at {x}",
                "free parking at your {x} shop?",
            ],
            ["gangnam", "shibuya", "downtown", "busan", "osaka", "main"],
        ),
        "ko": (
            [
                "{x}점 주차 되나요",
                "{x} 매장 주차장 있어요?",
                "{x}점 주차 무료인가요",
                "{x}점 주차 몇시간 지원돼요",
            ],
            ["강남", "홍대", "부산", "판교", "잠실"],
        ),
        "ja": (
            ["{x}店に駐車場はありますか", "{x}店の駐車料金は無料ですか", "{x}店は車で行けますか"],
            ["渋谷", "新宿", "大阪", "梅田", "横浜"],
        ),
    },
    "pets": {
        "en": (
            [
                "can i bring my {x} into the store",
                "are {x}s allowed in your shops",
                "is your store {x} friendly",
            ],
            ["dog", "cat", "puppy", "pet", "service dog"],
        ),
        "ko": (
            ["매장에 {x} 데리고 가도 돼요?", "{x} 동반 입장 되나요", "{x} 출입 가능한가요"],
            ["강아지", "반려견", "고양이", "반려동물"],
        ),
        "ja": (
            [
                "お店に{x}を連れて行ってもいいですか",
                "{x}同伴で入店できますか",
                "{x}は入店可能ですか",
            ],
            ["犬", "ペット", "猫", "小型犬"],
        ),
    },
    "allergens": {
        "en": (
            [
                "does the {x} contain nuts",
                "is the {x} gluten free",
                "what are the ingredients of the {x}",
                "allergy info for {x}?",
            ],
            ["granola", "protein bar", "cookie set", "snack box", "chocolate"],
        ),
        "ko": (
            ["{x}에 견과류 들어있나요", "{x} 알레르기 성분 알려주세요", "{x} 글루텐 프리예요?"],
            ["그래놀라", "단백질바", "쿠키세트", "간식박스", "초콜릿"],
        ),
        "ja": (
            [
                "{x}にナッツは入っていますか",
                "{x}のアレルギー表示を教えてください",
                "{x}はグルテンフリーですか",
            ],
            ["グラノーラ", "プロテインバー", "クッキー", "お菓子セット"],
        ),
    },
    "engraving": {
        "en": (
            [
                "can you engrave a name on the {x}",
                "do you do custom engraving on {x}s",
                "personalized {x} with initials possible?",
            ],
            ["tumbler", "watch", "bracelet", "pen", "wallet"],
        ),
        "ko": (
            ["{x}에 이름 각인 되나요", "{x} 각인 서비스 있어요?", "{x}에 이니셜 새길 수 있나요"],
            ["텀블러", "시계", "팔찌", "볼펜", "지갑"],
        ),
        "ja": (
            [
                "{x}に名入れはできますか",
                "{x}の刻印サービスはありますか",
                "{x}にイニシャルを入れたいです",
            ],
            ["タンブラー", "腕時計", "ブレスレット", "ボールペン", "財布"],
        ),
    },
    "recycling": {
        "en": (
            [
                "do you take back old {x} for recycling",
                "where can i donate used {x}",
                "is there a {x} recycling program",
            ],
            ["clothes", "shoes", "electronics", "packaging", "batteries"],
        ),
        "ko": (
            ["안 입는 {x} 수거해주나요", "{x} 재활용 프로그램 있어요?", "헌 {x} 기부할 수 있나요"],
            ["옷", "신발", "전자제품", "포장재"],
        ),
        "ja": (
            [
                "古い{x}の回収はしていますか",
                "{x}のリサイクルプログラムはありますか",
                "不要な{x}を寄付できますか",
            ],
            ["服", "靴", "家電", "梱包材"],
        ),
    },
    "lost_in_store": {
        "en": (
            [
                "i left my {x} in your store",
                "did anyone find a {x} at the store yesterday",
                "lost my {x} while shopping, can you check",
            ],
            ["umbrella", "phone", "wallet", "scarf", "keys"],
        ),
        "ko": (
            [
                "매장에 {x} 두고 왔어요",
                "어제 매장에서 {x} 잃어버렸는데 찾아주세요",
                "{x} 분실물 보관하고 계신가요",
            ],
            ["우산", "핸드폰", "지갑", "목도리", "열쇠"],
        ),
        "ja": (
            [
                "お店に{x}を忘れました",
                "昨日店内で{x}を落としたのですが",
                "{x}の落とし物は届いていますか",
            ],
            ["傘", "スマホ", "財布", "マフラー", "鍵"],
        ),
    },
    "influencer": {
        "en": (
            [
                "do you have an {x} program",
                "how do i join your {x} program",
                "looking to collab as an {x}",
            ],
            ["affiliate", "influencer", "ambassador", "creator"],
        ),
        "ko": (
            ["{x} 협찬 문의드립니다", "{x} 제휴 프로그램 있나요", "{x}로 협업하고 싶어요"],
            ["인플루언서", "유튜버", "블로거", "앰버서더"],
        ),
        "ja": (
            [
                "{x}としてコラボしたいです",
                "{x}向けのアフィリエイトはありますか",
                "{x}の案件募集はしていますか",
            ],
            ["インフルエンサー", "ユーチューバー", "ブロガー"],
        ),
    },
    "rental": {
        "en": (
            [
                "can i rent a {x} instead of buying",
                "do you offer {x} rental",
                "{x} rental price per day?",
            ],
            ["camera", "tent", "suit", "stroller", "projector"],
        ),
        "ko": (
            ["{x} 대여도 해주나요", "{x} 렌탈 가능해요?", "{x} 하루 빌리는데 얼마예요"],
            ["카메라", "텐트", "정장", "유모차", "빔프로젝터"],
        ),
        "ja": (
            ["{x}のレンタルはありますか", "{x}を借りることはできますか", "{x}のレンタル料金は？"],
            ["カメラ", "テント", "スーツ", "ベビーカー"],
        ),
    },
}
ONE_OFFS = {
    "en": [
        "what's the weather in seoul",
        "tell me a joke",
        "who won the game last night",
        "how do i cook rice",
        "what time is it in tokyo",
        "can you recommend a movie",
    ],
    "ko": [
        "오늘 날씨 어때요",
        "심심한데 놀아줘",
        "로또 번호 추천해줘",
        "점심 뭐 먹지",
        "주식 뭐 살까요",
    ],
    "ja": [
        "今日の天気は？",
        "おすすめの映画ある？",
        "暇だから話そう",
        "東京の人口は？",
        "宝くじ当たるかな",
    ],
}
ENDINGS = {
    "en": ["", "", "?", "??", " please", " thanks", " asap", "!"],
    "ko": ["", "", "?", "ㅠㅠ", " 궁금해요", "요", " 알려주세요", "~"],
    "ja": ["", "", "？", "。", "よろしくお願いします", "ですか", "！"],
}


def typo(text: str, rng: random.Random) -> str:
    """One slip of the finger: a character dropped, doubled or swapped with the next."""
    if len(text) < 4:
        return text
    at = rng.randrange(1, len(text) - 2)
    kind = rng.choice(("drop", "double", "swap"))
    if kind == "drop":
        return text[:at] + text[at + 1 :]
    if kind == "double":
        return text[:at] + text[at] + text[at:]
    return text[:at] + text[at + 1] + text[at] + text[at + 2 :]


def question(rng: random.Random) -> dict[str, object]:
    language = rng.choices(list(LANGUAGE_MIX), weights=list(LANGUAGE_MIX.values()))[0]
    if rng.random() < ONE_OFF_SHARE:
        text = rng.choice(ONE_OFFS[language])
    else:
        templates, fillers = TOPICS[rng.choice(list(TOPICS))][language]
        text = rng.choice(templates).format(x=rng.choice(fillers))
        text = " ".join(text.split())  # an empty filler leaves a double space
    text += rng.choice(ENDINGS[language])
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        text = typo(text, rng)
    if language == "en" and rng.random() < 0.3:
        text = text.capitalize()
    kind = rng.choices(["abstain", "clarify", "not_helpful", "none_of_these"], [60, 20, 12, 8])[0]
    return {"ts": "2026-12-01T00:00:00Z", "kind": kind, "query": text, "language": language}


def previous_grouping(vectors: np.ndarray, threshold: float) -> list[list[int]]:
    """The loop unanswered.cluster replaced: all centroids re-stacked and the best
    group's members re-summed for every question (for --compare)."""
    members: list[list[int]] = []
    centroids: list[np.ndarray] = []
    for i, vector in enumerate(vectors):
        if centroids:
            similarities = np.vstack(centroids) @ vector
            best = int(np.argmax(similarities))
            if similarities[best] >= threshold:
                members[best].append(i)
                total = vectors[members[best]].sum(axis=0)
                centroids[best] = total / np.linalg.norm(total)
                continue
        members.append([i])
        centroids.append(vector)
    return members


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--compare", action="store_true", help="also time the previous grouping loop"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    entries = [question(rng) for _ in range(args.count)]
    distinct = len({e["query"] for e in entries})
    settings = Settings.from_env()
    progress = sys.stderr.isatty()

    started = time.perf_counter()
    embedder = MemoEmbedder(make_embedder(settings.embedder))
    embedder.embed(["warm-up"])
    loaded = time.perf_counter()
    cpu_loaded = time.process_time()
    vectors = unanswered.embed_questions(entries, embedder, progress)
    embedded = time.perf_counter()
    cpu_embedded = time.process_time()
    clusters = unanswered.cluster(vectors, progress=progress)
    groups = unanswered.summarise(entries, clusters)
    grouped = time.perf_counter()
    cpu_grouped = time.process_time()
    # A second page load: every wording is in the action server's memory now.
    again = unanswered.group(entries, embedder)
    reloaded = time.perf_counter()

    embed_s, group_s = embedded - loaded, grouped - embedded
    languages = Counter(str(e["language"]) for e in entries)
    print(f"questions: {len(entries)} ({distinct} distinct wordings; {dict(languages)})")
    print(f"embedder:  {embedder.identity} (loaded in {loaded - started:.1f} s)")
    # CPU seconds (all threads) beside wall time: on a shared machine the wall time
    # includes waiting for the cores.
    print(
        f"embed:     {embed_s:.1f} s ({distinct / embed_s:.0f} wordings/s; "
        f"{cpu_embedded - cpu_loaded:.1f} CPU s)"
    )
    print(f"group:     {group_s:.2f} s ({cpu_grouped - cpu_embedded:.2f} CPU s)")
    print(f"total:     {embed_s + group_s:.1f} s (goal <= 30 s; load average {_load()})")
    print(f"groups:    {len(groups)} ({sum(g.count >= 10 for g in groups)} with 10+ questions)")
    print(
        f"reload:    {reloaded - grouped:.2f} s (embeddings remembered; same {len(again)} groups)"
    )
    if args.compare:
        before = time.perf_counter()
        previous = previous_grouping(vectors, unanswered.GROUP_SIMILARITY)
        print(
            f"previous:  {time.perf_counter() - before:.2f} s to group "
            f"(same groups: {previous == clusters})"
        )
    for g in groups[:12]:
        print(f"  x{g.count:<5} [{'/'.join(g.languages)}] {g.representative}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
