"""Unanswered-topics grouping on a busy month: 10 000 synthetic questions the KB cannot
answer (ko/ja/en), recorded and grouped as the product does.

    .venv/app/bin/python bench/topics.py [--count 10000] [--seed 7] [--without-vectors]

Questions are templated from shop topics the KB has no article for (jobs, franchising,
parking, pets, allergens, engraving, ...) in each language's own phrasings, with fillers,
casual endings and typos (dropped, doubled or swapped characters), plus one-off questions;
ko/ja/en 45/30/25 %.

1. Decision time: the action server embeds each question to retrieve (the retriever's
   own call) and keeps that vector with the unanswered record (kb_index/unanswered.py).
   The bench embeds every distinct wording once with the product's embedder and writes
   the records with kb_index.unanswered.record, as the action server does; it prints
   what that embedding costs per question (paid once, inside retrieval, not by grouping).
   (The bench times one call per question on a sample and computes the rest in batches.)
2. Page load, the goal (<= 30 s): what the analytics page's request runs in the action
   server (kb_index/topics.py topics_report): read the record file, take the recorded
   vectors, group, summarise and draft. No model time when every record has its vector.

It also prints how well the groups match the topic each question was written from
(homogeneity: no group mixes topics; completeness: no topic is split; V-measure: both).

--without-vectors writes the records without vectors (as before this design, or after a
change of embedding model) and times the page load that must embed them all.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from datetime import date
from pathlib import Path

import numpy as np
from sklearn.metrics import homogeneity_completeness_v_measure
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kb_index import unanswered
from kb_index.embedders import make_embedder
from kb_index.index import KBIndex
from kb_index.memo import MemoEmbedder
from kb_index.topics import topics_report
from stack.settings import Settings

LANGUAGE_MIX = {"ko": 45, "ja": 30, "en": 25}
DECISION_SAMPLE = 100
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
        topic = f"one-off: {text}"
    else:
        topic = rng.choice(list(TOPICS))
        templates, fillers = TOPICS[topic][language]
        text = rng.choice(templates).format(x=rng.choice(fillers))
        text = " ".join(text.split())  # an empty filler leaves a double space
    text += rng.choice(ENDINGS[language])
    for _ in range(rng.choice((0, 0, 1, 1, 2))):
        text = typo(text, rng)
    if language == "en" and rng.random() < 0.3:
        text = text.capitalize()
    kind = rng.choices(["abstain", "clarify", "not_helpful", "none_of_these"], [60, 20, 12, 8])[0]
    return {"kind": kind, "query": text, "language": language, "topic": topic}


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
        "--without-vectors",
        action="store_true",
        help="records without vectors: the page load embeds every wording",
    )
    parser.add_argument(
        "--compare", action="store_true", help="also time the previous grouping loop"
    )
    args = parser.parse_args()
    rng = random.Random(args.seed)
    questions = [question(rng) for _ in range(args.count)]
    distinct = list(dict.fromkeys(str(q["query"]) for q in questions))
    settings = Settings.from_env()
    progress = sys.stderr.isatty()

    started = time.perf_counter()
    model = make_embedder(settings.embedder)
    model.embed(["warm-up"])
    # The KB's mean vector, as the action server takes it from its index.
    mean = KBIndex.load(settings.kb_index_dir, model.identity).mean_vector()
    loaded = time.perf_counter()
    vectors: dict[str, np.ndarray] = {}
    per_question_ms = 0.0
    if not args.without_vectors:
        # What retrieval pays per question: one call per wording (a sample).
        sample = distinct[:DECISION_SAMPLE]
        before = time.perf_counter()
        for text in sample:
            model.embed([text])
        per_question_ms = (time.perf_counter() - before) / len(sample) * 1000
        # The same vectors for every wording, in batches (only to set the bench up faster).
        for at in tqdm(
            range(0, len(distinct), unanswered.EMBED_BATCH),
            desc="decision-time vectors",
            disable=not progress,
        ):
            batch = distinct[at : at + unanswered.EMBED_BATCH]
            vectors.update(zip(batch, np.asarray(model.embed(batch), dtype=np.float32)))

    with tempfile.TemporaryDirectory(prefix="topics-bench-") as folder:
        path = Path(folder) / "unanswered.jsonl"
        for q in questions:
            text = str(q["query"])
            unanswered.record(
                path,
                str(q["kind"]),
                text,
                str(q["language"]),
                [],
                vector=vectors.get(text),
                embedder_identity=model.identity,
            )
        size_mb = path.stat().st_size / 1e6
        day = date.today()
        # The page load: a fresh process's memory (nothing remembered yet).
        page_started = time.perf_counter()
        cpu_started = time.process_time()
        entries = unanswered.read(path)
        read_done = time.perf_counter()
        report = topics_report(
            entries, MemoEmbedder(model), day, day, None, lambda article_id: article_id, mean
        )
        page_done = time.perf_counter()
        cpu_page = time.process_time() - cpu_started

    page_s = page_done - page_started
    languages = Counter(str(q["language"]) for q in questions)
    print(f"questions: {len(questions)} ({len(distinct)} distinct wordings; {dict(languages)})")
    print(f"embedder:  {model.identity} (loaded in {loaded - started:.1f} s)")
    if vectors:
        print(
            f"decision:  {per_question_ms:.0f} ms per question (one call each, "
            f"{min(DECISION_SAMPLE, len(distinct))} timed): paid by retrieval when the "
            "question is asked; the vector is kept with its record"
        )
    print(f"records:   {size_mb:.1f} MB ({'with' if vectors else 'without'} vectors)")
    print(
        f"page load: {page_s:.2f} s = read {read_done - page_started:.2f} s + embed "
        f"{report['seconds']['embed']:.2f} s + group {report['seconds']['group']:.2f} s + "
        f"summaries/drafts ({cpu_page:.2f} CPU s; goal <= 30 s; load average {_load()})"
    )
    print(f"groups:    {report['groups']} ({len(report['topics'])} shown)")
    # Quality against the topic each question was written for (one-offs: their own).
    grouped = unanswered.embed_questions(entries, model)
    rows = unanswered.topics(grouped, mean)
    truth = [str(q["topic"]) for q in questions]
    predicted = [0] * len(questions)
    for label, members in enumerate(rows):
        for row in members:
            predicted[row] = label
    homogeneity, completeness, v_measure = homogeneity_completeness_v_measure(truth, predicted)
    print(
        f"quality:   homogeneity {homogeneity:.3f} (one topic per group), completeness "
        f"{completeness:.3f} (one group per topic), V-measure {v_measure:.3f}; "
        f"{len(set(truth))} topics written, biggest group {max(map(len, rows))}"
    )
    if args.compare:
        before = time.perf_counter()
        previous = previous_grouping(grouped, unanswered.MICRO_SIMILARITY)
        print(
            f"previous:  {time.perf_counter() - before:.2f} s to group "
            f"(same groups: {previous == unanswered.cluster(grouped)})"
        )
    for topic in report["topics"][:12]:
        print(f"  x{topic['size']:<5} [{'/'.join(topic['languages'])}] {topic['representative']}")
    return 0 if page_s <= 30.0 else 1


if __name__ == "__main__":
    sys.exit(main())
