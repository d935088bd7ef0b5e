"""Every inflected form of a dictionary word, from the pymorphy3 dictionaries (Russian, Ukrainian).

A rules file lists words by their dictionary form (`~суд`); matching a letter must not parse
its words one by one (too slow, and a parser guesses). So each listed word is expanded ONCE,
when the rules are loaded, into the set of all its surface forms, canonicalised the way a letter
is (lower case, ё as е). Screening then only looks words up in a set.

The dictionaries ship as installed packages (pymorphy3-dicts-ru, -uk); nothing is downloaded.
Each analyzer is loaded once per process, on first use (about 46 MB for both together).
"""

from __future__ import annotations

from functools import cache

LANGUAGES = ("ru", "uk")
# Letters only Ukrainian writes: a term that has one is a Ukrainian term.
UKRAINIAN_LETTERS = frozenset("іїєґ")


class MorphologyError(ValueError):
    """A word that the dictionaries do not know in the form it was written."""


@cache
def analyzer(lang: str):
    """The pymorphy3 analyzer for "ru" or "uk", loaded once per process."""
    if lang not in LANGUAGES:
        raise ValueError(f"no dictionary for {lang!r}; known: {', '.join(LANGUAGES)}")
    import pymorphy3  # imported here: a process that never expands a word never pays for it

    return pymorphy3.MorphAnalyzer(lang=lang)


def canonical_word(word: str) -> str:
    """What canonicalise() makes of a dictionary word: lower case, ё as е.

    Without the whole letter pipeline (look-alikes, spacing...), which would cost seconds when
    tens of thousands of forms are expanded at load.
    """
    return word.lower().replace("ё", "е")


@cache
def is_dictionary_form(word: str, lang: str) -> bool:
    """Whether the dictionary of `lang` knows `word` as the dictionary form of some word."""
    canonical = canonical_word(word)
    return any(
        parse.is_known and canonical_word(parse.normal_form) == canonical
        for parse in analyzer(lang).parse(canonical)
    )


@cache
def forms_of(lemma: str, lang: str, grammemes: tuple[frozenset[str], ...] = ()) -> frozenset[str]:
    """All surface forms of the dictionary word `lemma`, canonicalised like a letter's words.

    Only words the dictionary knows, and only when `lemma` is written in its dictionary form:
    a guessed paradigm or the forms of whatever else "стали" might be are worse than an error.
    `grammemes` keeps only forms whose tag has, for every set, one of its grammemes
    ((frozenset({"3per", "past"}),) keeps "вернётся" and "вернулся", drops "вернусь").
    """
    canonical = canonical_word(lemma)
    unknown = {g for alternatives in grammemes for g in alternatives} - _known_grammemes(lang)
    if unknown:
        raise MorphologyError(f"unknown grammeme(s) {', '.join(sorted(unknown))} (see pymorphy3's tag list)")
    found: set[str] = set()
    normal_forms: set[str] = set()
    for parse in analyzer(lang).parse(canonical):
        if not parse.is_known:
            continue
        normal_forms.add(parse.normal_form)
        if canonical_word(parse.normal_form) != canonical:
            continue
        for form in parse.lexeme:
            tag = form.tag.grammemes
            if not all(alternatives & tag for alternatives in grammemes):
                continue
            word = canonical_word(form.word)
            # A form with an apostrophe or hyphen is two words in a letter: it never matches one.
            if word.isalpha():
                found.add(word)
    if not found:
        raise MorphologyError(_why_not_found(lemma, lang, normal_forms, grammemes))
    return frozenset(found)


@cache
def _known_grammemes(lang: str) -> frozenset[str]:
    # KNOWN_GRAMMEMES is shared by the ru and uk tag classes and holds whichever loaded last;
    # the index of every grammeme the dictionaries declare is complete.
    tags = analyzer(lang).TagClass
    return frozenset(tags._GRAMMEME_INDICES) | tags.PARTS_OF_SPEECH | frozenset(tags.KNOWN_GRAMMEMES)


def _why_not_found(lemma: str, lang: str, normal_forms: set[str], grammemes) -> str:
    language = {"ru": "Russian", "uk": "Ukrainian"}[lang]
    if grammemes and canonical_word(lemma) in {canonical_word(n) for n in normal_forms}:
        wanted = ":".join(",".join(sorted(alternatives)) for alternatives in grammemes)
        return f"no form of {lemma!r} in the {language} dictionary is {wanted}"
    if normal_forms:
        return (
            f"{lemma!r} is not a dictionary form in the {language} dictionary; "
            f"write one of: {', '.join('~' + n for n in sorted(normal_forms))}"
        )
    return f"the {language} dictionary does not know {lemma!r}; write it as stem[endings]"
