"""Word and phrase terms from the rules file, matched on whole words of the canonical letter.

A term is one or more words separated by spaces (a hyphen counts as a space):
  суд[noun_m]          stem + one of the endings in a named set -> суд, суда, суде, судом...
  судь[я|и|е|ю|ей]     stem + inline endings; an empty alternative allows the bare stem
  деоккупац*           stem + any letters (only for long stems that nothing innocent starts with)
  кремль               exactly this word
  крым[noun_m] ... наш[|а]   "..." lets up to two other words stand between
Words are whole words: "суд[noun_m]" never matches inside "посуда" or "судьба".
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from shared.screening.normalize import CanonicalText, canonicalise

WORD = re.compile(r"[^\W_]+")
_WORD_SYNTAX = re.compile(r"^(?P<stem>[^\[\]*|]+)(?:\[(?P<endings>[^\[\]]*)\]|(?P<any>\*))?$")
_GAP = "..."
_MAX_GAP_WORDS = 2
# Phrases are also looked for written together ("#крымнаш"), but only when every word has a
# stem this long: short words glue into real ones ("ст" + "ук" is "стук", a knock).
_MIN_STEM_TO_JOIN = 3
_SENTENCE_END = re.compile(r"[.!?…]")


@lru_cache(maxsize=2)
def words_of(letter: CanonicalText) -> list[tuple[int, int, str]]:
    """(start, end, word) for every word of the canonical letter; shared by all detectors."""
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(letter.text)]


class TermSyntaxError(ValueError):
    """A term in the rules file that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Term:
    """One compiled term: which rule owns it and the words it is made of."""

    owner: str
    cancels: bool  # an `unless:` term: it cancels its rule's matches instead of making one
    words: tuple[int, ...]
    gaps: tuple[int, ...]  # how many other words may stand before each word
    joined: re.Pattern[str] | None  # the words written together, as in "#крымнаш"


@dataclass
class TermMatcher:
    """Finds every term in a letter with one pass over its words."""

    word_patterns: list[re.Pattern[str]] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    _word_ids: dict[str, int] = field(default_factory=dict)
    _by_prefix: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _joined_by_prefix: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _terms_starting_with: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(
        self, owner: str, source: str, endings: Mapping[str, list[str]], *, cancels: bool = False
    ) -> None:
        """Compile one term of the rules file and remember which rule it belongs to."""
        words, gaps, stems = _parse_term(source, endings)
        prefixes = [stem[:2] for stem in stems]
        word_ids = tuple(self._word_id(pattern, prefix) for pattern, prefix in zip(words, prefixes))
        can_join = len(words) > 1 and min(len(stem) for stem in stems) >= _MIN_STEM_TO_JOIN
        joined = re.compile("".join(words)) if can_join else None
        term_id = len(self.terms)
        self.terms.append(Term(owner, cancels, word_ids, gaps, joined))
        self._terms_starting_with[word_ids[0]].append(term_id)
        if joined is not None:
            self._joined_by_prefix[prefixes[0]].append(term_id)

    def find(self, letter: CanonicalText) -> Iterator[tuple[Term, int, int]]:
        """Yield (term, start, end) in canonical offsets for every term found in the letter."""
        tokens = words_of(letter)
        cache: dict[str, tuple[frozenset[int], tuple[int, ...]]] = {}
        hits = [self._lookup(token, cache) for _, _, token in tokens]
        for index, (start, end, token) in enumerate(tokens):
            word_ids, joined_terms = hits[index]
            for word_id in word_ids:
                for term_id in self._terms_starting_with.get(word_id, ()):
                    term = self.terms[term_id]
                    for last in _phrase_ends(term, tokens, hits, index, 1, letter):
                        yield term, start, tokens[last][1]
            for term_id in joined_terms:
                yield self.terms[term_id], start, end
            if start in letter.spaced_out:
                yield from self._find_inside(token, start)

    def _word_id(self, pattern: str, prefix: str) -> int:
        if pattern not in self._word_ids:
            self._word_ids[pattern] = len(self.word_patterns)
            self.word_patterns.append(re.compile(pattern))
            self._by_prefix[prefix].append(self._word_ids[pattern])
        return self._word_ids[pattern]

    def _lookup(self, token: str, cache) -> tuple[frozenset[int], tuple[int, ...]]:
        """The words this token is, and the phrases it spells when written together ("крымнаш")."""
        found = cache.get(token)
        if found is None:
            prefixes = (token[:2], token[:1]) if len(token) > 1 else (token,)
            words = [w for p in prefixes for w in self._by_prefix.get(p, ())]
            joined = [t for p in prefixes for t in self._joined_by_prefix.get(p, ())]
            found = (
                frozenset(w for w in words if self.word_patterns[w].fullmatch(token)),
                tuple(t for t in joined if self.terms[t].joined.fullmatch(token)),
            )
            cache[token] = found
        return found

    def _find_inside(self, token: str, start: int) -> Iterator[tuple[Term, int, int]]:
        # Letter-by-letter writing loses word breaks: look for phrases anywhere inside.
        for term in self.terms:
            if term.joined is not None and (m := term.joined.search(token)):
                yield term, start + m.start(), start + m.end()


def _phrase_ends(term, tokens, hits, at, position, letter) -> Iterator[int]:
    """Indexes of the last word for every way the phrase continues from word `at`."""
    if position == len(term.words):
        yield at
        return
    for step in range(1, term.gaps[position] + 2):
        following = at + step
        if following >= len(tokens) or _sentence_ends_between(
            tokens[following - 1], tokens[following], letter
        ):
            return
        if term.words[position] in hits[following][0]:
            yield from _phrase_ends(term, tokens, hits, following, position + 1, letter)


def _sentence_ends_between(before, after, letter: CanonicalText) -> bool:
    """A full stop followed by a capital letter; "ст. 205" or "г. киев" stay one phrase."""
    between = letter.text[before[1] : after[0]]
    return bool(_SENTENCE_END.search(between)) and letter.is_capitalised(after[0])


def _parse_term(
    source: str, endings: Mapping[str, list[str]]
) -> tuple[list[str], tuple[int, ...], list[str]]:
    words: list[str] = []
    stems: list[str] = []
    gaps: list[int] = []
    pending_gap = 0
    for part in source.replace("-", " ").split():
        if part == _GAP:
            if not words or pending_gap:
                raise TermSyntaxError(f"{source!r}: '...' must stand between two words")
            pending_gap = _MAX_GAP_WORDS
            continue
        pattern, stem = _compile_word(part, endings, source)
        words.append(pattern)
        stems.append(stem)
        gaps.append(pending_gap)
        pending_gap = 0
    if not words or pending_gap:
        raise TermSyntaxError(f"{source!r}: a term needs at least one word and cannot end with '...'")
    return words, tuple(gaps), stems


def _compile_word(part: str, endings: Mapping[str, list[str]], source: str) -> tuple[str, str]:
    syntax = _WORD_SYNTAX.match(part)
    if syntax is None:
        raise TermSyntaxError(f"{source!r}: cannot read {part!r}; write stem, stem[endings] or stem*")
    stem = _canonical_letters(syntax["stem"], source)
    if syntax["any"]:
        if len(stem) < 3:
            raise TermSyntaxError(f"{source!r}: 'stem*' needs a stem of at least 3 letters")
        return re.escape(stem) + r"[^\W_]*", stem
    alternatives = _endings(syntax["endings"], endings, source) if syntax["endings"] is not None else [""]
    ending_pattern = "|".join(re.escape(e) for e in sorted(set(alternatives), key=len, reverse=True))
    return f"{re.escape(stem)}(?:{ending_pattern})", stem


def _endings(spec: str, named: Mapping[str, list[str]], source: str) -> list[str]:
    found: list[str] = []
    for alternative in spec.split("|"):
        alternative = alternative.strip()
        if alternative in named:
            found.extend(canonicalise(e).text for e in named[alternative])
        elif alternative and not WORD.fullmatch(canonicalise(alternative).text):
            raise TermSyntaxError(f"{source!r}: {alternative!r} is neither an ending set nor letters")
        else:
            found.append(canonicalise(alternative).text)
    return found


def _canonical_letters(stem: str, source: str) -> str:
    canonical = canonicalise(stem).text
    if not WORD.fullmatch(stem) or not WORD.fullmatch(canonical):
        raise TermSyntaxError(f"{source!r}: {stem!r} must be letters only")
    return canonical
