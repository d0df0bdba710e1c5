"""Forgiving text search for people typing Vietnamese on a phone: without accents, with a typo.

Generic over documents (no catalog types here): the catalog builds one `Doc` per procedure once,
and `Index.rank` orders them for a query. Pure and cheap enough to run on every request on a Pi.
"""

from __future__ import annotations

import bisect
import itertools
import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 12
MAX_WORD_CHARS = 40
MAX_ANSWERS = 1024  # queries whose answers are kept
_WORD = re.compile(r"[0-9]+(?:\.[0-9]+)+|[^\W_]+")

# Tiers, best first: the query is a phrase of a name; all its words are in the name; all are in the
# name, code, keywords or summary; all are somewhere, papers included; at least half of them are.
PHRASE, NAME, MIDDLE, ANYWHERE, PARTIAL = 4, 3, 2, 1, 0
EXACT, PREFIX, TYPO = 0, 1, 2  # the cost of a word match
NONE = 1_000  # the cost of no match: more than any query's worth of real costs
Costs = tuple[int, int, int]  # a query word's cheapest match in a name, the middle, anywhere


def fold(text: str) -> str:
    """The form people type: no accents, đ as d, lower case, y as i (kỹ/kĩ), nothing invisible."""
    text = unicodedata.normalize("NFKC", text)
    text = "".join(_visible(c) for c in text)
    text = unicodedata.normalize("NFD", text)
    text = "".join(c for c in text if unicodedata.category(c) != "Mn")
    return text.casefold().replace("đ", "d").replace("y", "i")


def _visible(char: str) -> str:
    category = unicodedata.category(char)
    if category == "Cc":
        return " "
    return "" if category[0] == "C" else char


def words(text: str) -> tuple[str, ...]:
    """Folded words; a dotted number such as a procedure code (1.001193) stays one word."""
    return tuple(_WORD.findall(fold(text)))


def query_words(query: str) -> tuple[str, ...]:
    """The words of a query, capped so that hostile or pasted input stays cheap."""
    found = words(query[:MAX_QUERY_CHARS])
    return tuple(w[:MAX_WORD_CHARS] for w in found[:MAX_QUERY_WORDS])


def within_one_edit(a: str, b: str) -> bool:
    """Damerau distance ≤ 1: one letter wrong, missing, extra, or two neighbours swapped."""
    if len(a) > len(b):
        a, b = b, a
    if len(b) - len(a) > 1:
        return False
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    if len(a) < len(b):
        return a[i:] == b[i + 1 :]
    if a[i + 1 :] == b[i + 1 :]:
        return True
    swapped = i + 1 < len(a) and a[i] == b[i + 1] and a[i + 1] == b[i]
    return swapped and a[i + 2 :] == b[i + 2 :]


@dataclass(frozen=True)
class Doc:
    """One document's folded words, by how much a match there counts."""

    phrases: tuple[tuple[str, ...], ...]  # the names and the code, each in word order
    name: frozenset[str]
    middle: frozenset[str]  # and keywords, summary
    low: frozenset[str]  # and papers
    name_length: int  # words in the shortest name: a shorter name is a closer match

    @classmethod
    def build(
        cls, names: Iterable[str], code: str, middle: Iterable[str], low: Iterable[str]
    ) -> Doc:
        named = [p for p in (words(n) for n in names) if p]
        phrases = (*named, words(code))
        name = frozenset(w for p in phrases for w in p)
        mid = name | frozenset(w for t in middle for w in words(t))
        everything = mid | frozenset(w for t in low for w in words(t))
        return cls(phrases, name, mid, everything, min((len(p) for p in named), default=0))

    def level(self, word: str) -> int:
        """Where the word occurs at best: 3 in a name, 2 in keywords or summary, 1 in papers."""
        return 3 if word in self.name else 2 if word in self.middle else 1

    def score(self, matches: Sequence[dict[str, int]], costs: Sequence[Costs]) -> tuple[int, ...]:
        """How well the query fits; `costs` holds each query word's cheapest match by level."""
        n = len(matches)
        if all(c[0] < NONE for c in costs):
            phrase = self._phrase(matches)
            if phrase is not None:
                return (PHRASE, n, *phrase)
            return (NAME, n, -sum(c[0] for c in costs), -self.name_length)
        if all(c[1] < NONE for c in costs):
            return (MIDDLE, n, -sum(c[1] for c in costs), 0)
        found = [c[2] for c in costs if c[2] < NONE]
        return (ANYWHERE if len(found) == n else PARTIAL, len(found), -sum(found), 0)

    def _phrase(self, matches: Sequence[dict[str, int]]) -> tuple[int, int] | None:
        """Best (−cost, −extra name words) over the names holding the query as consecutive words."""
        best: tuple[int, int] | None = None
        n = len(matches)
        for phrase in self.phrases:
            for start in range(len(phrase) - n + 1):
                window = zip(matches, phrase[start : start + n], strict=True)
                costs = [m.get(w, NONE) for m, w in window]
                if max(costs) < NONE:
                    candidate = (-sum(costs), n - len(phrase))
                    best = candidate if best is None else max(best, candidate)
        return best


class Index:
    """Documents with their words' postings, built once; `rank` answers a query."""

    def __init__(self, docs: Sequence[Doc]) -> None:
        self._docs = tuple(docs)
        postings: dict[str, list[tuple[int, int]]] = {}
        for i, doc in enumerate(self._docs):
            for word in doc.low:
                postings.setdefault(word, []).append((i, doc.level(word)))
        self._postings = postings
        self._sorted = sorted(postings)
        self._by_length: dict[int, list[str]] = {}
        for word in self._sorted:
            self._by_length.setdefault(len(word), []).append(word)
        # Residents type the same few things, so answers are kept (a racy clear is harmless).
        self._answers: dict[tuple[str, ...], tuple[int, ...]] = {}

    def rank(self, query: str) -> list[int]:
        """Positions of the matching documents, best first; ties keep document order."""
        found = query_words(query)
        if not found:
            return []
        answer = self._answers.get(found)
        if answer is None:
            if len(self._answers) >= MAX_ANSWERS:
                self._answers.clear()
            answer = self._answers[found] = self._rank(found)
        return list(answer)

    def _rank(self, found: tuple[str, ...]) -> tuple[int, ...]:
        matches = [self._matches(w, last=i == len(found) - 1) for i, w in enumerate(found)]
        costs = [self._costs(m) for m in matches]
        hit = sorted(set().union(*costs))
        none = (NONE, NONE, NONE)
        scored = [(self._docs[d].score(matches, [c.get(d, none) for c in costs]), d) for d in hit]
        full = [x for x in scored if x[0][0] > PARTIAL]
        pool = full or [x for x in scored if 2 * x[0][1] >= len(found)]
        pool.sort(key=lambda x: x[0], reverse=True)
        return tuple(d for _, d in pool)

    def _costs(self, matches: dict[str, int]) -> dict[int, Costs]:
        """Per document, the cheapest match of one query word in its name, middle, anywhere."""
        out: dict[int, Costs] = {}
        for word, cost in matches.items():
            for doc, level in self._postings[word]:
                name, middle, anywhere = out.get(doc, (NONE, NONE, NONE))
                out[doc] = (
                    min(name, cost if level == 3 else NONE),
                    min(middle, cost if level >= 2 else NONE),
                    min(anywhere, cost),
                )
        return out

    def _matches(self, word: str, *, last: bool) -> dict[str, int]:
        """Vocabulary words this query word may stand for, each with its cost."""
        found: dict[str, int] = {}
        if last:
            start = bisect.bisect_left(self._sorted, word)
            for candidate in itertools.islice(self._sorted, start, None):
                if not candidate.startswith(word):
                    break
                found[candidate] = PREFIX
        for length in (len(word) - 1, len(word), len(word) + 1):
            if max(length, len(word)) < 4 or min(length, len(word)) < 3:
                continue  # too short for a typo to still mean the same word
            for candidate in self._by_length.get(length, ()):
                if within_one_edit(word, candidate):
                    found.setdefault(candidate, TYPO)
        if word in self._postings:
            found[word] = EXACT
        return found
