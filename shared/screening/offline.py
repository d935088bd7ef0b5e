"""The rules a kiosk can apply without a network, exported from rules.yaml for the browser.

A kiosk at an event keeps taking letters when the network is gone, and its writers still deserve
the hints. The browser cannot run the whole engine — pymorphy3, lingua and the dictionary reading
of masked or spaced-out words stay on the server — but the word, phrase and symbol rules are data
once the rules file is compiled: every `~word` is already expanded into its forms (pymorphy3
lexemes) when the rules load. So this module exports the compiled rule book as it is, and the
kiosk's offline-hints.js only interprets it; no rule is ever written twice. The detector rules
(phone numbers, languages, acrostics...) are listed as `server_only`, so the kiosk can say that
offline hints are partial.

What the browser's reading of a letter covers (see offline-hints.js): invisible characters
dropped, compatibility forms folded (NFKD without decorative marks), case, `ё` as `е`, and words
of mixed scripts read in the script they pretend to be, with the look-alike table exported here.
Digits and signs typed for letters, words spelt letter by letter or cut into pieces, and text
typed backwards need the dictionary; only the server reads them.
"""

from __future__ import annotations

import gzip
import hashlib
import json
from functools import lru_cache
from importlib.resources import files

from shared.screening.engine import default_rules
from shared.screening.lookalikes import RUSSIAN_UKRAINIAN, as_cyrillic, as_latin, is_letter
from shared.screening.normalize import canonicalise
from shared.screening.rules import Rule, RuleBook

# Bumped when the document's shape changes, so an old kiosk page ignores a document it cannot read.
FORMAT = 1

# Characters whose look-alike readings are exported: every character Unicode's confusables data
# lists, the Cyrillic blocks (letters of other Cyrillic alphabets are read by their names) and the
# ASCII letters. A character outside these has no reading on the server either.
_CYRILLIC_BLOCKS = (range(0x0400, 0x0530), range(0x1C80, 0x1C90), range(0x2DE0, 0x2E00), range(0xA640, 0xA6A0))


def offline_rules(book: RuleBook) -> dict:
    """The JSON document the kiosk screens with offline: the word, phrase and symbol rules of `book`."""
    exported = [rule for rule in book.rules if rule.detector is None]
    exported_ids = {rule.id for rule in exported}
    # The compiled terms, as screening looks words up in them (RuleBook keeps them private: only this
    # exporter reads them from outside, and the unit tests hold it to the engine's own compilation).
    matcher = book._terms
    return {
        "format": FORMAT,
        "rules_version": book.version,
        "rules": [_rule(rule) for rule in exported],
        "server_only": [rule.id for rule in book.rules if rule.id not in exported_ids],
        "words": [
            {"forms": sorted(word.forms), "prefixes": sorted(word.prefixes), "join_length": word.join_length}
            for word in matcher.words
        ],
        "terms": [
            {
                "rule": term.owner,
                "cancels": term.cancels,
                "words": list(term.words),
                "gaps": list(term.gaps),
                "clause_ends": list(term.clause_ends),
                "joinable": term.joinable,
            }
            for term in matcher.terms
        ],
        "symbols": [
            {"rule": rule.id, "symbols": _symbol_parts(rule.symbols)} for rule in exported if rule.symbols
        ],
        "lookalikes": _lookalikes(),
    }


@lru_cache(maxsize=1)
def default_offline_rules() -> tuple[bytes, bytes, str]:
    """The campaign's rules as the kiosk fetches them (plain and gzipped) and their ETag; built once."""
    body = json.dumps(offline_rules(default_rules()), ensure_ascii=False, separators=(",", ":")).encode()
    return body, gzip.compress(body, mtime=0), f'"{hashlib.sha256(body).hexdigest()[:32]}"'


def _rule(rule: Rule) -> dict:
    return {
        "id": rule.id,
        "category": rule.category,
        "severity": rule.severity,
        "fields": list(rule.fields),
        "message": rule.message.model_dump(),
        "suggestion": rule.suggestion.model_dump() if rule.suggestion else None,
        "suggestion_gloss": rule.suggestion_gloss.model_dump(exclude_none=True) if rule.suggestion_gloss else None,
    }


def _symbol_parts(symbols: list[str]) -> list[list[str]]:
    """Each symbol as the engine matches it: its canonical characters, longest symbol first
    (the browser allows spaces between the parts, as the engine does)."""
    parts = [[char for char in canonicalise(symbol).text if not char.isspace()] for symbol in symbols]
    return sorted(parts, key=len, reverse=True)


@lru_cache(maxsize=1)
def _lookalikes() -> dict:
    """For each character as typed (with its case): the Russian and the Latin letter it passes for."""
    listed = json.loads(files("confusable_homoglyphs").joinpath("confusables.json").read_text(encoding="utf-8"))
    candidates = {char for char in listed if len(char) == 1}
    candidates |= {chr(code) for block in _CYRILLIC_BLOCKS for code in block}
    candidates |= {chr(code) for code in range(0x41, 0x7B) if chr(code).isalpha()}
    candidates |= {case for char in set(candidates) for case in (char.upper(), char.lower()) if len(case) == 1}
    cyrillic, latin = {}, {}
    for char in sorted(candidates):
        if not is_letter(char):
            continue
        if (reading := as_cyrillic(char)) is not None:
            cyrillic[char] = reading
        if (reading := as_latin(char)) is not None:
            latin[char] = reading
    return {"russian_letters": "".join(sorted(RUSSIAN_UKRAINIAN)), "cyrillic": cyrillic, "latin": latin}
