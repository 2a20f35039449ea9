"""Ranking an event's data for a question: BM25 over its guests, sessions and FAQ, plus fuzzy
matching of names, rooms and tracks.

- BM25 comes from SQLite's FTS5 (``bm25()``), in an in-memory database per event, with the
  ``unicode61 remove_diacritics 2`` tokenizer (wrapped in ``porter`` for English) and prefix
  queries. Every query is built from words we extracted ourselves, each one quoted, so no FTS
  syntax typed by an attendee (``NEAR(``, ``"``, ``*``, ``OR``...) ever reaches FTS5. Where
  Python's sqlite3 lacks FTS5 (checked once at import), a BM25 written here, with rapidfuzz for
  typos, ranks instead (:data:`FTS5_AVAILABLE`; tests force it).
- Ranking orders candidates; deciding whether a candidate answers the question is done on
  *coverage*: the share of the question's content words found in the entry (exactly, by stem,
  prefix or synonym, or after a typo correction against the event's own vocabulary).
- Names (guests), rooms and tracks are matched with rapidfuzz (typos, partial names:
  "dr okafor", "okafr", "mei-lin").
- :class:`IndexCache` builds an event's index once and rebuilds it only when the event's
  knowledge fingerprint changes, checked at most every ``check_interval`` seconds.

Language-specific pieces (stop words, synonyms, stemmer, tokenizer) live in an :class:`Analyzer`;
English is the one provided, others can be added to :data:`ANALYZERS`.
"""

from __future__ import annotations

import bisect
import functools
import logging
import math
import re
import sqlite3
import threading
import time
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from rapidfuzz import fuzz, process

from shared.assistant.knowledge import EventKnowledge, knowledge_fingerprint, load_knowledge
from shared.db import Database
from shared.errors import DatabaseBusy, DatabaseUnavailable

log = logging.getLogger("convergeai.assistant")

GUEST, SESSION, FAQ = "guest", "session", "faq"
KINDS = (GUEST, SESSION, FAQ)


def _probe_fts5() -> bool:
    try:
        conn = sqlite3.connect(":memory:")
        try:
            conn.execute(
                "CREATE VIRTUAL TABLE probe USING fts5(a, tokenize='unicode61 remove_diacritics 2')"
            )
        finally:
            conn.close()
    except sqlite3.Error:
        return False
    return True


#: Whether Python's sqlite3 has FTS5 (otherwise the Python BM25 ranks).
FTS5_AVAILABLE: bool = _probe_fts5()


# Text ------------------------------------------------------------------------------------------

_WORD_RE = re.compile(r"[^\W_]+")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "`": "'"})


_ASCII_CONTROLS = re.compile(r"[\x00-\x1f\x7f]")


def fold(text: str) -> str:
    """Lower-case, without accents, control or format characters (comparison form)."""
    if text.isascii():  # the common case, without a walk through unicodedata
        return _ASCII_CONTROLS.sub(" ", text.translate(_APOSTROPHES).lower())
    text = unicodedata.normalize("NFKC", text).translate(_APOSTROPHES)
    out = []
    for ch in unicodedata.normalize("NFKD", text.casefold()):
        cat = unicodedata.category(ch)
        if cat == "Mn":
            continue
        out.append(" " if cat in ("Cc", "Cf", "Cs", "Co", "Cn") else ch)
    return "".join(out)


@dataclass(frozen=True)
class Analyzer:
    """Everything language-specific about matching text."""

    lang: str
    stopwords: frozenset[str]
    #: word -> synonym group key
    synonyms: dict[str, str]
    #: (pattern, replacement) applied to folded text before splitting (e.g. "wi-fi" -> "wifi")
    rewrites: tuple[tuple[re.Pattern[str], str], ...]
    stem: Callable[[str], str]
    #: titles dropped when matching names ("dr", "prof")
    honorifics: frozenset[str]
    fts_tokenizer: str

    def normalize(self, text: str) -> str:
        """Folded text with the language's rewrites applied."""
        folded = fold(text)
        for pattern, replacement in self.rewrites:
            folded = pattern.sub(replacement, folded)
        return folded

    def words(self, text: str) -> list[str]:
        """The words of a text, normalized."""
        return _WORD_RE.findall(self.normalize(text))

    def group(self, word: str) -> str | None:
        return self.synonyms.get(word) or self.synonyms.get(self.stem(word))


@functools.lru_cache(maxsize=65536)
def stem_en(word: str) -> str:
    """A light English stemmer: plurals and a few suffixes (speakers/speaking -> speak)."""
    if len(word) <= 3 or not word.isalpha():
        return word
    if word.endswith("ies") and len(word) > 4:
        word = word[:-3] + "y"
    elif word.endswith("sses"):
        word = word[:-2]
    elif word.endswith("s") and not word.endswith(("ss", "us", "is")):
        word = word[:-1]
    for suffix in ("ing", "ed", "ers", "er", "ors", "or", "ly"):
        if word.endswith(suffix) and len(word) - len(suffix) >= 3:
            word = word[: -len(suffix)]
            break
    if word.endswith("e") and len(word) > 4:
        word = word[:-1]
    return word


def _wordset(text: str) -> frozenset[str]:
    return frozenset(text.split())


_EN_STOPWORDS = _wordset(
    """
    a an the and or but nor of to in on at for with from by as into onto about above after
    before over under between through during up down out off again once here there than then
    so too very just also only even still yet i me my mine myself we us our ours you your
    yours yourself yourselves he him his she her hers it its they them their theirs this that
    these those what which who whom whose when where why how is are was were be been being am
    do does did doing done have has had having can could will would shall should may might
    must ought s t d ll re ve m o y not no any some all each every both either neither much
    many more most other such own same few one please pls plz tell show give let know want
    wanna need like would get got go going gonna find see look looking say said ok okay hey
    hi hello thanks thank yes yeah sure well really maybe if whether while because though
    anything something everything nothing anyone someone everyone whats whos wheres hows
    """
)

_EN_SYNONYM_GROUPS: tuple[tuple[str, ...], ...] = (
    ("wifi", "internet", "wireless", "wlan", "hotspot", "online"),
    ("password", "passcode", "passphrase", "login"),
    ("parking", "park", "car", "cars", "garage", "carpark", "vehicle"),
    ("lunch", "food", "eat", "eating", "meal", "meals", "catering", "hungry", "snack", "snacks"),
    (
        "vegetarian",
        "vegan",
        "dietary",
        "diet",
        "allergy",
        "allergies",
        "allergic",
        "gluten",
        "halal",
        "kosher",
        "lactose",
        "veggie",
    ),
    ("badge", "registration", "register", "ticket", "tickets", "lanyard", "checkin"),
    (
        "cloakroom",
        "coat",
        "coats",
        "jacket",
        "jackets",
        "luggage",
        "bag",
        "bags",
        "suitcase",
        "wardrobe",
        "backpack",
        "cloak",
    ),
    ("toilet", "toilets", "restroom", "restrooms", "bathroom", "bathrooms", "wc", "loo"),
    (
        "accessible",
        "accessibility",
        "wheelchair",
        "disabled",
        "disability",
        "stepfree",
        "mobility",
    ),
    (
        "aid",
        "medical",
        "doctor",
        "nurse",
        "sick",
        "ill",
        "injured",
        "injury",
        "hurt",
        "paramedic",
        "unwell",
        "medic",
        "firstaid",
    ),
    ("lost", "found", "missing", "lose", "forgot", "forgotten", "misplaced"),
    ("recording", "recorded", "record", "video", "videos", "livestream", "replay"),
    ("slides", "slide", "deck", "decks"),
    (
        "conduct",
        "harassment",
        "harassed",
        "behaviour",
        "behavior",
        "unsafe",
        "inappropriate",
        "discrimination",
    ),
    (
        "shuttle",
        "bus",
        "buses",
        "transport",
        "transportation",
        "train",
        "station",
        "airport",
        "taxi",
        "metro",
        "tram",
        "getthere",
    ),
    ("charging", "charge", "charger", "battery", "power", "plug", "socket", "outlet", "usb"),
    ("prayer", "pray", "praying", "quiet", "meditation", "mosque", "chapel", "multifaith"),
    ("contact", "organizer", "organizers", "organiser", "organisers", "reach"),
    ("coffee", "tea", "refreshments", "drinks"),
    ("schedule", "agenda", "programme", "program", "timetable", "lineup"),
)


def _synonym_map(groups: Iterable[tuple[str, ...]], stem: Callable[[str], str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for group in groups:
        key = group[0]
        for word in group:
            out.setdefault(word, key)
            out.setdefault(stem(word), key)
    return out


ENGLISH = Analyzer(
    lang="en",
    stopwords=_EN_STOPWORDS,
    synonyms=_synonym_map(_EN_SYNONYM_GROUPS, stem_en),
    rewrites=(
        (re.compile(r"\b(what|who|where|when|how|that|there|it|here)'s\b"), r"\1 is"),
        (re.compile(r"\b(can|won|don|doesn|isn|aren|didn|wasn|shouldn|couldn)'t\b"), r"\1 not"),
        (re.compile(r"'(re|m|ll|ve|d)\b"), r" \1"),
        (re.compile(r"\bwi[\s-]?fi\b"), "wifi"),
        (re.compile(r"\bget(?:ting)? (?:to|there|here)\b"), "getthere"),
        (re.compile(r"\bdirections?\b"), "getthere"),
        (re.compile(r"\be[\s-]mail"), "email"),
        (re.compile(r"\bcheck[\s-]in\b"), "checkin"),
        (re.compile(r"\bfirst[\s-]aid\b"), "first aid firstaid"),
        (re.compile(r"\bstep[\s-]free\b"), "stepfree"),
        (re.compile(r"\bmulti[\s-]faith\b"), "multifaith"),
        (re.compile(r"\bcar[\s-]park\b"), "carpark"),
        (re.compile(r"\blost\s*(?:&|and|\+)\s*found\b"), "lost found"),
        (re.compile(r"\bq\s*&\s*a\b"), "qa"),
    ),
    stem=stem_en,
    honorifics=_wordset("dr doctor prof professor mr mrs ms miss mx sir dame madam lord lady"),
    fts_tokenizer="porter unicode61 remove_diacritics 2",
)

ANALYZERS: dict[str, Analyzer] = {"en": ENGLISH}


def analyzer_for(lang: str) -> Analyzer:
    """The analyzer of a language (English when there is none for it)."""
    return ANALYZERS.get(lang, ENGLISH)


# Documents -------------------------------------------------------------------------------------


@dataclass
class _Doc:
    kind: str
    id: int
    title: str
    body: str
    title_stems: frozenset[str] = frozenset()
    stems: frozenset[str] = frozenset()
    groups: frozenset[str] = frozenset()
    title_groups: frozenset[str] = frozenset()
    sorted_stems: list[str] = field(default_factory=list)
    sorted_title_stems: list[str] = field(default_factory=list)
    length: int = 0
    tf: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Hit:
    """A ranked entry. ``score`` is BM25 (higher is better); ``coverage`` the share of the
    question's content words found in the entry, ``title_coverage`` in its title (guest name,
    session title, FAQ question); ``fuzzy`` is True when some word only matched after a typo
    correction."""

    kind: str
    id: int
    score: float
    coverage: float
    title_coverage: float
    matched: tuple[str, ...]
    fuzzy: bool
    #: coverage where words with synonyms (topic words such as "wifi", "parking") count double
    strength: float = 0.0
    #: how many words matched as themselves (by stem or prefix), not through a synonym or typo
    exact: int = 0

    @property
    def ref(self) -> str:
        return f"{self.kind}:{self.id}"


@dataclass(frozen=True)
class NameMatch:
    """A guest whose name matches the question; ``full`` when every part of the name is there."""

    guest_id: int
    score: float
    full: bool
    surname: bool


@dataclass(frozen=True)
class PlaceMatch:
    """A room (location) or track named in the question, with the words that named it."""

    name: str
    words: tuple[str, ...]
    exact: bool


def _has_prefix(sorted_items: list[str], prefix: str) -> bool:
    i = bisect.bisect_left(sorted_items, prefix)
    return i < len(sorted_items) and sorted_items[i].startswith(prefix)


class EventIndex:
    """The searchable form of one event's knowledge. Thread-safe; build once, query often."""

    def __init__(
        self,
        knowledge: EventKnowledge,
        *,
        analyzer: Analyzer = ENGLISH,
        use_fts: bool | None = None,
    ) -> None:
        self.knowledge = knowledge
        self.analyzer = analyzer
        self.uses_fts = FTS5_AVAILABLE if use_fts is None else (use_fts and FTS5_AVAILABLE)
        self._lock = threading.Lock()
        self._docs: list[_Doc] = []
        self._by_key: dict[tuple[str, int], _Doc] = {}
        self._sessions = {sf.id: sf for sf in knowledge.sessions}
        self._guests = {g.id: g for g in knowledge.guests}
        self._faq = {f.id: f for f in knowledge.faq}
        self._build_docs()
        self._vocab = sorted(
            {w for d in self._docs for w in analyzer.words(d.title + " " + d.body)}
        )
        self._vocab_set = frozenset(self._vocab)
        self._stem_vocab = sorted({s for d in self._docs for s in d.stems})
        self._stem_set = frozenset(self._stem_vocab)
        self._common = self._common_words()
        self._common_stems = frozenset(analyzer.stem(w) for w in self._common)
        self._df_stems: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
        self._df_groups: dict[str, Counter[str]] = {kind: Counter() for kind in KINDS}
        self._kind_counts = Counter(d.kind for d in self._docs)
        for d in self._docs:
            self._df_stems[d.kind].update(d.stems)
            self._df_groups[d.kind].update(d.groups)
        self._build_names()
        self._locations = self._places(sf.location for sf in knowledge.sessions)
        self._tracks = self._places(sf.track for sf in knowledge.sessions)
        self._conn: sqlite3.Connection | None = None
        if self.uses_fts:
            self._build_fts()
        else:
            self._build_bm25()

    # Building ----------------------------------------------------------------------------------

    def _build_docs(self) -> None:
        k = self.knowledge
        for g in k.guests:
            roles = []
            if g.is_speaker:
                roles.append("speaker")
            if g.is_moderator:
                roles.append("moderator host")
            body = " ".join([g.title, g.organization, " ".join(roles), g.description])
            self._add_doc(_Doc(GUEST, g.id, g.name, body))
        for sf in k.sessions:
            people = [self._guests[gid].name for gid in sf.speaker_ids + sf.moderator_ids]
            body = " ".join([sf.description, sf.location, sf.track, " ".join(people)])
            self._add_doc(_Doc(SESSION, sf.id, sf.title, body))
        for f in k.faq:
            self._add_doc(_Doc(FAQ, f.id, f.question, f.answer))

    def _add_doc(self, doc: _Doc) -> None:
        a = self.analyzer
        title_words = a.words(doc.title)
        body_words = a.words(doc.body)
        all_words = title_words + body_words
        doc.title_stems = frozenset(a.stem(w) for w in title_words)
        doc.stems = frozenset(a.stem(w) for w in all_words)
        doc.groups = frozenset(g for w in all_words if (g := a.group(w)))
        doc.title_groups = frozenset(g for w in title_words if (g := a.group(w)))
        doc.sorted_stems = sorted(doc.stems)
        doc.sorted_title_stems = sorted(doc.title_stems)
        # Title words count double in the Python BM25, as FTS5's column weight does below.
        doc.tf = Counter(a.stem(w) for w in all_words + title_words)
        doc.length = len(all_words) + len(title_words)
        self._docs.append(doc)
        self._by_key[(doc.kind, doc.id)] = doc

    def _common_words(self) -> frozenset[str]:
        """Words that are not names: stop words and the vocabulary of session titles and the
        FAQ. A name part equal to one of them only counts when the whole name is there."""
        a = self.analyzer
        words = set(a.stopwords)
        for d in self._docs:
            if d.kind != GUEST:
                words.update(a.words(d.title))
            if d.kind == FAQ:
                words.update(a.words(d.body))
        return frozenset(words)

    def _build_names(self) -> None:
        a = self.analyzer
        self._name_parts: dict[int, tuple[str, ...]] = {}
        for g in self.knowledge.guests:
            parts = tuple(w for w in a.words(g.name) if w not in a.honorifics)
            self._name_parts[g.id] = parts or tuple(a.words(g.name))
        self._part_owners: dict[str, set[int]] = {}
        for gid, parts in self._name_parts.items():
            for part in parts:
                self._part_owners.setdefault(part, set()).add(gid)
            if len(parts) >= 2:  # "al farsi" also as "alfarsi", "mei lin" as "meilin"
                for i in range(len(parts) - 1):
                    self._part_owners.setdefault(parts[i] + parts[i + 1], set()).add(gid)
        # typos are looked for among the single parts only ("okafr"), never the joined forms
        self._part_list = sorted({p for parts in self._name_parts.values() for p in parts})

    def _places(self, names: Iterable[str]) -> dict[str, tuple[str, ...]]:
        out: dict[str, tuple[str, ...]] = {}
        for name in names:
            if name and name not in out:
                words = tuple(self.analyzer.words(name))
                if words:
                    out[name] = words
        return out

    def _build_fts(self) -> None:
        conn = sqlite3.connect(":memory:", check_same_thread=False)
        tokenizer = self.analyzer.fts_tokenizer.replace("'", "")
        conn.execute(
            "CREATE VIRTUAL TABLE docs USING fts5("
            f"title, body, kind UNINDEXED, ref UNINDEXED, tokenize='{tokenizer}')"
        )
        conn.executemany(
            "INSERT INTO docs (rowid, title, body, kind, ref) VALUES (?, ?, ?, ?, ?)",
            [
                (
                    n,
                    self.analyzer.normalize(d.title),
                    self.analyzer.normalize(d.body),
                    d.kind,
                    d.id,
                )
                for n, d in enumerate(self._docs)
            ],
        )
        conn.commit()
        self._conn = conn

    def _build_bm25(self) -> None:
        self._postings: dict[str, dict[int, int]] = {}
        for n, d in enumerate(self._docs):
            for stem, count in d.tf.items():
                self._postings.setdefault(stem, {})[n] = count
        self._avgdl = (sum(d.length for d in self._docs) / len(self._docs)) if self._docs else 1.0

    def close(self) -> None:
        """Free the in-memory database."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

    # Words -------------------------------------------------------------------------------------

    def is_known_word(self, word: str) -> bool:
        """Whether a word (or its stem) occurs in this event's data."""
        return word in self._vocab_set or self.analyzer.stem(word) in self._stem_set

    def is_vocabulary_word(self, word: str) -> bool:
        """Whether a word occurs, as such, in this event's data."""
        return word in self._vocab_set

    def count(self, kind: str) -> int:
        """How many entries of a kind the index has."""
        return self._kind_counts[kind]

    def df(self, word: str, kind: str) -> int:
        """In how many entries of a kind a word (its stem or a synonym) occurs."""
        a = self.analyzer
        group = a.group(word)
        by_group = self._df_groups[kind][group] if group else 0
        return max(self._df_stems[kind][a.stem(word)], by_group)

    def correct(self, word: str) -> str | None:
        """The event's own word closest to a misspelt one ("parkng" -> "parking"), or None."""
        if len(word) < 4 or not word.isalpha() or self.is_known_word(word):
            return None
        if word in self.analyzer.stopwords:
            return None
        # one wrong letter in five is too far: "patel" is not "panel"
        cutoff = 85
        best = process.extractOne(word, self._vocab, scorer=fuzz.ratio, score_cutoff=cutoff)
        if best is None:
            return None
        candidate = str(best[0])
        if candidate in self.analyzer.stopwords or len(candidate) < 4:
            return None
        return candidate

    def _word_in(
        self, word: str, stems: frozenset[str], sorted_stems: list[str], groups: frozenset[str]
    ) -> bool:
        a = self.analyzer
        stem = a.stem(word)
        if stem in stems or word in stems:
            return True
        group = a.group(word)
        if group is not None and group in groups:
            return True
        return len(stem) >= 4 and _has_prefix(sorted_stems, stem)

    def coverage(self, words: Sequence[str], kind: str, item_id: int) -> Hit | None:
        """How many of ``words`` an entry contains (see :class:`Hit`), or None if unknown."""
        doc = self._by_key.get((kind, item_id))
        if doc is None:
            return None
        return self._coverage(doc, words, 0.0)

    def _coverage(self, doc: _Doc, words: Sequence[str], score: float) -> Hit:
        matched: list[str] = []
        in_title = 0
        fuzzy = False
        weight_all = weight_matched = 0.0
        exact = 0
        for word in words:
            candidates = [word]
            corrected = self.correct(word)
            if corrected is not None:
                candidates.append(corrected)
            weight = 2.0 if any(self.analyzer.group(c) for c in candidates) else 1.0
            weight_all += weight
            for n, candidate in enumerate(candidates):
                if self._word_in(candidate, doc.stems, doc.sorted_stems, doc.groups):
                    matched.append(word)
                    weight_matched += weight
                    if n == 0 and self._word_in(
                        candidate, doc.stems, doc.sorted_stems, frozenset()
                    ):
                        exact += 1
                    fuzzy = fuzzy or n > 0
                    if self._word_in(
                        candidate, doc.title_stems, doc.sorted_title_stems, doc.title_groups
                    ):
                        in_title += 1
                    break
        total = max(1, len(words))
        return Hit(
            kind=doc.kind,
            id=doc.id,
            score=score,
            coverage=len(matched) / total if words else 0.0,
            title_coverage=in_title / total if words else 0.0,
            matched=tuple(matched),
            fuzzy=fuzzy,
            strength=weight_matched / weight_all if weight_all else 0.0,
            exact=exact,
        )

    # Ranking -----------------------------------------------------------------------------------

    def _alternatives(self, word: str) -> list[str]:
        """The word, its typo correction and its synonyms: what a query term may match."""
        a = self.analyzer
        out = [word]
        corrected = self.correct(word)
        if corrected:
            out.append(corrected)
        group = a.group(word) or (a.group(corrected) if corrected else None)
        if group is not None:
            out.extend(w for w, g in a.synonyms.items() if g == group and w.isalpha())
        seen: list[str] = []
        for w in out:
            if w not in seen:
                seen.append(w)
        return seen[:12]

    def fts_query(self, words: Sequence[str]) -> str:
        """The FTS5 MATCH expression for some words: each alternative quoted, long ones as
        prefixes, terms OR-ed. Only letters and digits we extracted get in, inside quotes."""
        terms = []
        for word in words:
            alts = []
            for alt in self._alternatives(word):
                token = alt.replace('"', '""')
                alts.append(f'"{token}"*' if len(alt) >= 4 else f'"{token}"')
            if alts:
                terms.append("(" + " OR ".join(alts) + ")")
        return " OR ".join(terms)

    def search(
        self, words: Sequence[str], kinds: Sequence[str] = KINDS, limit: int = 8
    ) -> list[Hit]:
        """The entries of these kinds that best match the words, best first, with their
        coverage. ``words`` are the question's content words (already normalized)."""
        words = [w for w in words if w and _WORD_RE.fullmatch(w)][:24]
        if not words or not self._docs:
            return []
        ranked = (
            self._rank_fts(words, kinds, limit * 3)
            if self.uses_fts
            else self._rank_py(words, kinds, limit * 3)
        )
        hits = [self._coverage(self._docs[n], words, score) for n, score in ranked]
        hits = [h for h in hits if h.coverage > 0]
        hits.sort(key=lambda h: (-h.coverage, -h.exact, -h.title_coverage, -h.score))
        return hits[:limit]

    def _rank_fts(
        self, words: Sequence[str], kinds: Sequence[str], limit: int
    ) -> list[tuple[int, float]]:
        expression = self.fts_query(words)
        if not expression:
            return []
        marks = ",".join("?" for _ in kinds)
        sql = (
            "SELECT rowid, bm25(docs, 2.0, 1.0) FROM docs "
            f"WHERE docs MATCH ? AND kind IN ({marks}) ORDER BY bm25(docs, 2.0, 1.0) LIMIT ?"
        )
        with self._lock:
            if self._conn is None:
                return []
            try:
                rows = self._conn.execute(sql, (expression, *kinds, limit)).fetchall()
            except sqlite3.Error:  # pragma: no cover - our expressions are always valid
                log.exception("FTS query failed: %r", expression)
                return []
        return [(int(rowid), -float(score)) for rowid, score in rows]

    def _rank_py(
        self, words: Sequence[str], kinds: Sequence[str], limit: int
    ) -> list[tuple[int, float]]:
        """Okapi BM25 (k1 1.2, b 0.75) over stems; a query word matches a stem exactly, as a
        prefix, through a synonym, or (rapidfuzz) as a typo."""
        n_docs = len(self._docs)
        scores: dict[int, float] = {}
        kinds_set = set(kinds)
        for word in words:
            stems: set[str] = set()
            for alt in self._alternatives(word):
                stem = self.analyzer.stem(alt)
                if stem in self._postings:
                    stems.add(stem)
                if len(stem) >= 4:
                    i = bisect.bisect_left(self._stem_vocab, stem)
                    while i < len(self._stem_vocab) and self._stem_vocab[i].startswith(stem):
                        stems.add(self._stem_vocab[i])
                        i += 1
            if not stems and len(word) >= 5:
                for match, _score, _i in process.extract(
                    self.analyzer.stem(word),
                    self._stem_vocab,
                    scorer=fuzz.ratio,
                    score_cutoff=80,
                    limit=3,
                ):
                    stems.add(str(match))
            best: dict[int, float] = {}
            for stem in stems:
                posting = self._postings.get(stem, {})
                idf = math.log(1 + (n_docs - len(posting) + 0.5) / (len(posting) + 0.5))
                for n, tf in posting.items():
                    doc = self._docs[n]
                    if doc.kind not in kinds_set:
                        continue
                    norm = tf * 2.2 / (tf + 1.2 * (0.25 + 0.75 * doc.length / self._avgdl))
                    best[n] = max(best.get(n, 0.0), idf * norm)
            for n, value in best.items():
                scores[n] = scores.get(n, 0.0) + value
        ranked = sorted(scores.items(), key=lambda kv: -kv[1])
        return ranked[:limit]

    # Names and places --------------------------------------------------------------------------

    def match_guests(self, words: Sequence[str]) -> list[NameMatch]:
        """Guests named in the question, best first. A part of a name counts when it is there
        exactly or, if it is not an ordinary word, with a typo; a part that is an ordinary word
        ("park", "will") only counts when the whole name is there."""
        a = self.analyzer
        words = [w for w in words if w not in a.honorifics]
        if not words or not self._name_parts:
            return []
        joined = [words[i] + words[i + 1] for i in range(len(words) - 1)]
        found: dict[int, dict[str, float]] = {}
        for n, word in enumerate(words + joined):
            if word in a.stopwords:
                continue
            owners = self._part_owners.get(word)
            if owners:
                for gid in owners:
                    found.setdefault(gid, {})[word] = max(found.get(gid, {}).get(word, 0), 1.0)
                continue
            if n >= len(words):  # two words run together only count exactly ("al farsi")
                continue
            if len(word) < 4 or word in self._common or not word.isalpha():
                continue
            if a.stem(word) in self._common_stems:  # "cost" is a word here, not "Costa"
                continue
            for part, score, _i in process.extract(
                word, self._part_list, scorer=fuzz.ratio, score_cutoff=80, limit=5
            ):
                if len(part) < 4:
                    continue
                for gid in self._part_owners[str(part)]:
                    prev = found.setdefault(gid, {}).get(str(part), 0)
                    found[gid][str(part)] = max(prev, float(score) / 100.0 * 0.9)
        out = []
        for gid, parts_found in found.items():
            parts = self._name_parts[gid]
            hit_parts = {p for p in parts if p in parts_found}
            # joined forms count for both halves
            for i in range(len(parts) - 1):
                if parts[i] + parts[i + 1] in parts_found:
                    hit_parts.update((parts[i], parts[i + 1]))
            if not hit_parts:
                continue
            full = hit_parts >= set(parts)
            if not full and all(self._is_common(p) for p in hit_parts):
                continue  # "park" alone is not Will Park
            strength = sum(parts_found.get(p, 1.0) for p in hit_parts)
            surname = parts[-1] in hit_parts
            score = strength + (0.5 if surname else 0.0) + (1.0 if full else 0.0)
            out.append(NameMatch(gid, score, full, surname))
        out.sort(key=lambda m: (-m.score, self._guests[m.guest_id].name))
        return out

    def _is_common(self, word: str) -> bool:
        """An ordinary word of this event (or a topic word such as "park"), not only a name."""
        a = self.analyzer
        return (
            word in self._common or a.stem(word) in self._common_stems or a.group(word) is not None
        )

    def _match_places(
        self, places: dict[str, tuple[str, ...]], words: Sequence[str], ordered: bool
    ) -> list[PlaceMatch]:
        out = []
        for name, parts in places.items():
            exact = True
            positions = []
            for part in parts:
                pos = _find_word(words, part)
                if pos is None and len(part) >= 5:
                    pos = _find_fuzzy(words, part)
                    exact = False
                if pos is None:
                    break
                positions.append(pos)
            else:
                if ordered and positions != sorted(positions):
                    continue
                if ordered and positions and positions[-1] - positions[0] != len(parts) - 1:
                    continue
                out.append(PlaceMatch(name, parts, exact))
        # "room b" must not also match a room called "b"; keep the longest names
        out.sort(key=lambda m: (-len(m.words), m.name))
        kept: list[PlaceMatch] = []
        for m in out:
            if not any(set(m.words) < set(k.words) for k in kept):
                kept.append(m)
        return kept

    def match_locations(self, words: Sequence[str]) -> list[PlaceMatch]:
        """Rooms named in the question, the whole name in order ("room b", "main hall")."""
        return self._match_places(self._locations, words, ordered=True)

    def match_tracks(self, words: Sequence[str]) -> list[PlaceMatch]:
        """Tracks named in the question (every word of the track, in any order)."""
        return self._match_places(self._tracks, words, ordered=False)

    @property
    def locations(self) -> tuple[str, ...]:
        return tuple(self._locations)

    @property
    def tracks(self) -> tuple[str, ...]:
        return tuple(self._tracks)


def _find_word(words: Sequence[str], part: str) -> int | None:
    for i, w in enumerate(words):
        if w == part:
            return i
    return None


def _find_fuzzy(words: Sequence[str], part: str) -> int | None:
    best, where = 0.0, None
    for i, w in enumerate(words):
        if len(w) >= 4:
            score = fuzz.ratio(w, part)
            if score >= 80 and score > best:
                best, where = score, i
    return where


# The cache -------------------------------------------------------------------------------------


@dataclass
class _Entry:
    index: EventIndex
    checked_at: float


class IndexCache:
    """One :class:`EventIndex` per event, rebuilt when the event's data changes.

    The fingerprint (one cheap query) is checked at most every ``check_interval`` seconds per
    event; questions in between use the index as it is. If the database cannot be reached
    when re-checking, the index already built keeps answering (the kiosk stays useful offline).
    Safe to share between threads: two threads asking for the same event at once build it once.
    """

    def __init__(
        self,
        db: Database,
        *,
        check_interval: float = 5.0,
        analyzer: Analyzer = ENGLISH,
        use_fts: bool | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.check_interval = check_interval
        self.analyzer = analyzer
        self.use_fts = use_fts
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[int, _Entry] = {}
        self._build_locks: dict[int, threading.Lock] = {}
        #: How many indexes were built (tests and logs).
        self.builds = 0

    def get(self, chatbot_id: int) -> EventIndex:
        """The event's index, rebuilt first if its data changed. Raises NotFound for an
        unknown event, and the database's errors when it cannot build a first index."""
        now = self._clock()
        with self._lock:
            entry = self._entries.get(chatbot_id)
            if entry is not None and now - entry.checked_at < self.check_interval:
                return entry.index
            build_lock = self._build_locks.setdefault(chatbot_id, threading.Lock())
        with build_lock:
            with self._lock:
                entry = self._entries.get(chatbot_id)
                if entry is not None and self._clock() - entry.checked_at < self.check_interval:
                    return entry.index
            if entry is not None:
                try:
                    with self.db.read() as s:
                        fingerprint = knowledge_fingerprint(s, chatbot_id)
                except (DatabaseUnavailable, DatabaseBusy) as exc:
                    log.warning(
                        "cannot re-check event %s (%s); using its index as is", chatbot_id, exc
                    )
                    entry.checked_at = self._clock()
                    return entry.index
                if fingerprint == entry.index.knowledge.fingerprint:
                    entry.checked_at = self._clock()
                    return entry.index
            started = time.perf_counter()
            with self.db.read() as s:
                knowledge = load_knowledge(s, chatbot_id)
            index = EventIndex(knowledge, analyzer=self.analyzer, use_fts=self.use_fts)
            self.builds += 1
            log.info(
                "index of event %s built in %.0f ms (%d guests, %d sessions, %d FAQ entries)",
                chatbot_id,
                (time.perf_counter() - started) * 1000,
                len(knowledge.guests),
                len(knowledge.sessions),
                len(knowledge.faq),
            )
            with self._lock:
                # The old index is not closed: a thread may still be answering with it; it is
                # freed with its last reference.
                self._entries[chatbot_id] = _Entry(index, self._clock())
            return index

    def invalidate(self, chatbot_id: int | None = None) -> None:
        """Forget one event's index (or all): the next question rebuilds it."""
        with self._lock:
            if chatbot_id is None:
                self._entries.clear()
            else:
                self._entries.pop(chatbot_id, None)


__all__ = [
    "ANALYZERS",
    "ENGLISH",
    "FTS5_AVAILABLE",
    "Analyzer",
    "EventIndex",
    "Hit",
    "IndexCache",
    "NameMatch",
    "PlaceMatch",
    "analyzer_for",
    "fold",
    "stem_en",
]
