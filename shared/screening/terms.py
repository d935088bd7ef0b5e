"""Word and phrase terms from the rules file, matched on whole words of the canonical letter.

A term is one or more words separated by spaces (a hyphen counts as a space). One word is:
  ~суд                 every form of the dictionary word (pymorphy3): суд, суда, судом, судах...
  ~крим:uk             the dictionary's language made explicit (it is Ukrainian by itself
                       when the term has і, ї, є or ґ, or a word only the Ukrainian one knows)
  ~вернуться:3per,past only the forms with one of these pymorphy3 grammemes (":" between
                       sets means all of them: ~суд:plur:nomn,accs)
  суд[noun_m]          stem + one of the endings in a named set -> суд, суда, суде, судом...
  судь[я|и|е|ю|ей]     stem + inline endings; an empty alternative allows the bare stem
  деоккупац*           stem + any letters (only for long stems that nothing innocent starts with)
  кремль               exactly this word
  @crimea              any word of the named group `crimea` (the rules file's `words:`);
                       @crimea:gent narrows its ~ words to these grammemes
  ~свинья|~тварь       any of these words
  громко$              the word ends a clause: punctuation or the end of the text follows
Between words, "..." lets up to two other words stand between, "...4" up to four.
Words are whole words: "~суд" never matches inside "посуда" or "судьба".

Every word compiles to a finite set of forms (plus stems for "stem*"), so a letter's word is
looked up in a dict, never parsed: screening speed does not depend on how many forms there are.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from shared.screening import morphology
from shared.screening.normalize import CanonicalText, canonicalise

WORD = re.compile(r"[^\W_]+")
_WORD_SYNTAX = re.compile(r"^(?P<stem>[^\[\]*|~@:]+)(?:\[(?P<endings>[^\[\]]*)\]|(?P<any>\*))?$")
_LEMMA_SYNTAX = re.compile(r"^~(?P<lemma>[^\W\d_]+)(?P<qualifiers>(?::[A-Za-z0-9,]+)*)$")
_GROUP_SYNTAX = re.compile(r"^@(?P<name>[a-z][a-z0-9_]*)(?P<qualifiers>(?::[A-Za-z0-9,]+)*)$")
_GAP = re.compile(r"^\.\.\.(?P<words>[1-9])?$")
_DEFAULT_GAP_WORDS = 2
# Phrases are also looked for written together ("#крымнаш"), but only when every word is
# this long: short words glue into real ones ("ст" + "ук" is "стук", a knock).
_MIN_STEM_TO_JOIN = 3
_SENTENCE_END = re.compile(r"[.!?…]")
_CLAUSE_END = re.compile(r"[^\S\n]*(?:$|[\n.,!?…;:()«»\"—–-])")


@lru_cache(maxsize=2)
def words_of(letter: CanonicalText) -> list[tuple[int, int, str]]:
    """(start, end, word) for every word of the canonical letter; shared by all detectors."""
    return [(m.start(), m.end(), m.group()) for m in WORD.finditer(letter.text)]


class TermSyntaxError(ValueError):
    """A term in the rules file that cannot be understood."""


@dataclass(frozen=True, slots=True)
class Word:
    """One position of a phrase: the exact forms it accepts and stems that accept any ending."""

    forms: frozenset[str]
    prefixes: frozenset[str]
    join_length: int  # the shortest stem or form: whether the word may be glued to others
    lengths: tuple[int, ...] = ()  # distinct lengths of the forms, to slice rather than scan
    stem_lengths: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "lengths", tuple(sorted({len(f) for f in self.forms})))
        object.__setattr__(self, "stem_lengths", tuple(sorted({len(s) for s in self.prefixes})))

    def spells(self, token: str, at: int) -> Iterator[int]:
        """Every end position where this word, starting at `at`, ends inside `token`."""
        for length in self.lengths:
            if at + length > len(token):
                break
            if token[at : at + length] in self.forms:
                yield at + length
        for length in self.stem_lengths:
            if at + length > len(token):
                break
            if token[at : at + length] in self.prefixes:
                yield from range(at + length, len(token) + 1)


@dataclass(frozen=True, slots=True)
class Term:
    """One compiled term: which rule owns it and the words it is made of."""

    owner: str
    cancels: bool  # an `unless:` term: it cancels its rule's matches instead of making one
    words: tuple[int, ...]
    gaps: tuple[int, ...]  # how many other words may stand before each word
    clause_ends: tuple[bool, ...]  # whether each word must end a clause ("громко$")
    joinable: bool  # also looked for with its words written together, as in "#крымнаш"


@dataclass
class TermMatcher:
    """Finds every term in a letter with one pass over its words."""

    words: list[Word] = field(default_factory=list)
    terms: list[Term] = field(default_factory=list)
    _word_ids: dict[Word, int] = field(default_factory=dict)
    _by_form: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _by_stem: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _stem_lengths: list[int] = field(default_factory=list)
    # Phrases that may be written together, by the form (or stem) their first word starts with.
    _joined_by_start: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))
    _joined_start_lengths: list[int] = field(default_factory=list)
    _terms_starting_with: dict[int, list[int]] = field(default_factory=lambda: defaultdict(list))

    def add(
        self,
        owner: str,
        source: str,
        endings: Mapping[str, list[str]],
        *,
        cancels: bool = False,
        groups: Mapping[str, list[str]] | None = None,
    ) -> None:
        """Compile one term of the rules file and remember which rule it belongs to."""
        words, gaps, clause_ends = _parse_term(source, endings, groups or {})
        word_ids = tuple(self._word_id(word) for word in words)
        # Only tight phrases: "крым ...4 наш" written as one word is not how anyone writes.
        joinable = (
            len(words) > 1
            and min(word.join_length for word in words) >= _MIN_STEM_TO_JOIN
            and not any(gaps)
            and not any(clause_ends)
        )
        term_id = len(self.terms)
        self.terms.append(Term(owner, cancels, word_ids, gaps, clause_ends, joinable))
        self._terms_starting_with[word_ids[0]].append(term_id)
        if joinable:
            for start in words[0].forms | words[0].prefixes:
                self._joined_by_start[start].append(term_id)
                if len(start) not in self._joined_start_lengths:
                    self._joined_start_lengths.append(len(start))
                    self._joined_start_lengths.sort()

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
                    if term.clause_ends[0] and not _ends_clause(letter, end):
                        continue
                    for last in _phrase_ends(term, tokens, hits, index, 1, letter):
                        yield term, start, tokens[last][1]
            for term_id in joined_terms:
                yield self.terms[term_id], start, end
            if start in letter.spaced_out:
                yield from self._find_inside(token, start)

    def _word_id(self, word: Word) -> int:
        if word not in self._word_ids:
            word_id = self._word_ids[word] = len(self.words)
            self.words.append(word)
            for form in word.forms:
                self._by_form[form].append(word_id)
            for stem in word.prefixes:
                self._by_stem[stem].append(word_id)
                if len(stem) not in self._stem_lengths:
                    self._stem_lengths.append(len(stem))
                    self._stem_lengths.sort()
        return self._word_ids[word]

    def _lookup(self, token: str, cache) -> tuple[frozenset[int], tuple[int, ...]]:
        """The words this token is, and the phrases it spells when written together ("крымнаш")."""
        found = cache.get(token)
        if found is None:
            words = list(self._by_form.get(token, ()))
            for length in self._stem_lengths:
                if length > len(token):
                    break
                words.extend(self._by_stem.get(token[:length], ()))
            joined = tuple(
                t
                for t in self._joined_starting(token, 0)
                if self._spelt_from(token, 0, self.terms[t]) == len(token)
            )
            found = cache[token] = (frozenset(words), joined)
        return found

    def _joined_starting(self, token: str, at: int) -> list[int]:
        """Joinable phrases whose first word could start at `at` (and leaves room for more)."""
        found: list[int] = []
        for length in self._joined_start_lengths:
            if at + length >= len(token):
                break
            found.extend(self._joined_by_start.get(token[at : at + length], ()))
        return found

    def _spelt_from(self, token: str, at: int, term: Term, *, whole: bool = True) -> int | None:
        """Where the term's words, written together from `at`, end in the token (None: they don't)."""

        def ends(position: int, index: int) -> Iterator[int]:
            if index == len(term.words):
                yield position
                return
            for end in self.words[term.words[index]].spells(token, position):
                if end > position:
                    yield from ends(end, index + 1)

        for end in ends(at, 0):
            if not whole or end == len(token):
                return end
        return None

    def _find_inside(self, token: str, start: int) -> Iterator[tuple[Term, int, int]]:
        # Letter-by-letter writing loses word breaks: look for phrases anywhere inside.
        for at in range(len(token) - 1):
            for term_id in self._joined_starting(token, at):
                end = self._spelt_from(token, at, self.terms[term_id], whole=False)
                if end is not None:
                    yield self.terms[term_id], start + at, start + end


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
        if term.words[position] in hits[following][0] and (
            not term.clause_ends[position] or _ends_clause(letter, tokens[following][1])
        ):
            yield from _phrase_ends(term, tokens, hits, following, position + 1, letter)


def _ends_clause(letter: CanonicalText, at: int) -> bool:
    return _CLAUSE_END.match(letter.text, at) is not None


def _sentence_ends_between(before, after, letter: CanonicalText) -> bool:
    """A full stop followed by a capital letter; "ст. 205" or "г. киев" stay one phrase."""
    between = letter.text[before[1] : after[0]]
    return bool(_SENTENCE_END.search(between)) and letter.is_capitalised(after[0])


def _parse_term(
    source: str, endings: Mapping[str, list[str]], groups: Mapping[str, list[str]]
) -> tuple[list[Word], tuple[int, ...], tuple[bool, ...]]:
    parts = source.replace("-", " ").split()
    lang = _term_language(parts, groups)
    words: list[Word] = []
    gaps: list[int] = []
    clause_ends: list[bool] = []
    pending_gap = 0
    for part in parts:
        if gap := _GAP.match(part):
            if not words or pending_gap:
                raise TermSyntaxError(f"{source!r}: '...' must stand between two words")
            pending_gap = int(gap["words"] or _DEFAULT_GAP_WORDS)
            continue
        clause_ends.append(part.endswith("$") and len(part) > 1)
        words.append(_compile_word(part.removesuffix("$"), endings, groups, lang, source))
        gaps.append(pending_gap)
        pending_gap = 0
    if not words or pending_gap:
        raise TermSyntaxError(f"{source!r}: a term needs at least one word and cannot end with '...'")
    return words, tuple(gaps), tuple(clause_ends)


def _term_language(parts: list[str], groups: Mapping[str, list[str]]) -> str:
    """A phrase is Ukrainian if it has a letter only Ukrainian writes, or only Ukrainian knows its words.

    Words whose language is written out (~крим:uk) do not count, and a group counts by its members.
    """
    alternatives: list[str] = []
    for part in parts:
        for alternative in _alternatives(part.removesuffix("$")):
            if group := _GROUP_SYNTAX.match(alternative):
                for member in groups.get(group["name"], ()):
                    alternatives.extend(_alternatives(member))
            else:
                alternatives.append(alternative)
    undecided = []
    for alternative in alternatives:
        lemma = _LEMMA_SYNTAX.match(alternative)
        qualifiers = lemma["qualifiers"].split(":") if lemma else []
        if any(q in morphology.LANGUAGES for q in qualifiers):
            continue
        if morphology.UKRAINIAN_LETTERS & set(alternative.lower()):
            return "uk"
        if lemma is not None:
            undecided.append(morphology.canonical_word(lemma["lemma"]))
    if any(morphology.is_dictionary_form(word, "ru") for word in undecided):
        return "ru"
    return "uk" if any(morphology.is_dictionary_form(word, "uk") for word in undecided) else "ru"


def _alternatives(part: str) -> list[str]:
    """Split "a|b[x|y]|c" on the bars that are not inside brackets."""
    found: list[str] = []
    depth = 0
    current = ""
    for char in part:
        depth += {"[": 1, "]": -1}.get(char, 0)
        if char == "|" and depth == 0:
            found.append(current)
            current = ""
        else:
            current += char
    found.append(current)
    return found


def _compile_word(
    part: str,
    endings: Mapping[str, list[str]],
    groups: Mapping[str, list[str]],
    lang: str,
    source: str,
    *,
    in_group: bool = False,
) -> Word:
    forms: set[str] = set()
    prefixes: set[str] = set()
    join_lengths: list[int] = []
    for alternative in _alternatives(part):
        if not alternative:
            raise TermSyntaxError(f"{source!r}: {part!r} has an empty alternative")
        if group := _GROUP_SYNTAX.match(alternative):
            if in_group:
                raise TermSyntaxError(f"{source!r}: word groups cannot name other groups")
            if group["name"] not in groups:
                known = ", ".join(sorted(groups)) or "none"
                raise TermSyntaxError(f"{source!r}: no word group {alternative!r} (known: {known})")
            words = [
                _compile_word(
                    member + group["qualifiers"] if member.startswith("~") else member,
                    endings,
                    groups,
                    lang,
                    source,
                    in_group=True,
                )
                for member in groups[group["name"]]
            ]
        elif alternative.startswith("~"):
            words = [_compile_lemma(alternative, lang, source)]
        else:
            words = [_compile_stem(alternative, endings, source)]
        for word in words:
            forms |= word.forms
            prefixes |= word.prefixes
            join_lengths.append(word.join_length)
    return Word(frozenset(forms), frozenset(prefixes), min(join_lengths))


def _compile_lemma(alternative: str, lang: str, source: str) -> Word:
    syntax = _LEMMA_SYNTAX.match(alternative)
    if syntax is None:
        raise TermSyntaxError(
            f"{source!r}: cannot read {alternative!r}; write ~word, ~word:uk or ~word:plur,nomn"
        )
    grammemes: list[frozenset[str]] = []
    for qualifier in filter(None, syntax["qualifiers"].split(":")):
        if qualifier in morphology.LANGUAGES:
            lang = qualifier
        else:
            grammemes.append(frozenset(filter(None, qualifier.split(","))))
    lemma = morphology.canonical_word(syntax["lemma"])
    try:
        forms = morphology.forms_of(lemma, lang, tuple(grammemes))
    except morphology.MorphologyError as error:
        raise TermSyntaxError(f"{source!r}: {error}") from None
    return Word(forms, frozenset(), min(len(f) for f in forms))


def _compile_stem(part: str, endings: Mapping[str, list[str]], source: str) -> Word:
    syntax = _WORD_SYNTAX.match(part)
    if syntax is None:
        raise TermSyntaxError(
            f"{source!r}: cannot read {part!r}; write ~word, stem, stem[endings], stem* or @group"
        )
    stem = _canonical_letters(syntax["stem"], source)
    if syntax["any"]:
        if len(stem) < 3:
            raise TermSyntaxError(f"{source!r}: 'stem*' needs a stem of at least 3 letters")
        return Word(frozenset(), frozenset({stem}), len(stem))
    alternatives = _endings(syntax["endings"], endings, source) if syntax["endings"] is not None else [""]
    return Word(frozenset(stem + ending for ending in alternatives), frozenset(), len(stem))


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
