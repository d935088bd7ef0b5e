// Hints without a network: the kiosk screens a letter with the rules the server exported
// (GET /api/v1/screening/offline-rules, built by shared/screening/offline.py from rules.yaml and
// kept by the service worker). Nothing here knows a rule: this module only interprets the exported
// word forms, phrases and symbols the way the engine does (shared/screening/terms.py, rules.py,
// engine.py), so its findings on a letter are the server's findings of those rules.
//
// The reading of the letter is the part of normalize.py that needs no dictionary: invisible
// characters dropped, compatibility forms folded, case, ё as е, mixed-script words read in the
// script they pretend to be. Digits and signs for letters, words spelt letter by letter or cut into
// pieces, and backwards text are read by the server only; so are the detector rules (phones,
// languages...), listed in the document's server_only. Offline hints are therefore a subset, and
// the server screens every letter again when it arrives.
//
// Offsets are UTF-16 units of the text as typed, as the editor counts them.

export const OFFLINE_RULES_URL = "/api/v1/screening/offline-rules";
const FORMAT = 1;

const WORD = /[\p{L}\p{N}]+/gu;
const RU = "а-яёіїєґ";
const RUSSIAN_WORD = new RegExp(`^[${RU}]+$`, "u");
const CYRILLIC_LETTER = /[\u0400-\u04ff]/u;
const FOREIGN_LETTER = new RegExp(`(?![${RU}])[\\p{L}\\p{Nl}\\p{No}]`, "u");
const ROMAN_NUMERAL = /^[ivxlcdm]+$/u;
const PLAIN = /[\x00-\x7f\u0400-\u045f\u0490\u0491]/u;
const INVISIBLE = /^[\p{Cf}\p{Cc}\p{Cs}\p{Co}\p{Cn}]$/u;
const MARK = /^\p{M}$/u;
const LETTER = /^\p{L}$/u;
const DIGIT = /^\p{Nd}$/u;
const LETTER_MARKS = { "\u0306": "иуИУ", "\u0308": "еіЕІ" };
const APOSTROPHES = "\u2019\u02bc\u2018`\u00b4\u02b9";
const RLO = "\u202e";
const LRO = "\u202d";
const PDF = "\u202c";
const MASKS = "*#%?_•·●∗✱";
const SIGNS = "@$€" + MASKS;
const escapeClass = (chars) => chars.replace(/[\\\]\[^-]/g, "\\$&");
const WORDISH = new RegExp(
  `(?:[@$€](?=[${RU}]))?[\\p{L}\\p{N}]+(?:[${escapeClass(SIGNS)}]+[\\p{L}\\p{N}]+)*`,
  "gu",
);
const ADDRESS_GOES_ON = /\.[\p{L}\p{N}]/uy;
const NEIGHBOUR_REACH = 40;
const SENTENCE_END = /[.!?…]/u;
const CLAUSE_END = /[^\S\n]*(?:$|[\n.,!?…;:()«»"—–-])/uy;
const isUpper = (s) => /\p{Uppercase}/u.test(s) && !/[\p{Lowercase}\p{Lt}]/u.test(s);
const isLower = (s) => /\p{Lowercase}/u.test(s) && !/[\p{Uppercase}\p{Lt}]/u.test(s);

// ----------------------------------------------------------------- the letter as the engine reads it

/** A letter in canonical form: text, and for each UTF-16 unit of it the span of the original it came from. */
class Reading {
  constructor(original, text, cased, starts, ends) {
    Object.assign(this, { original, text, cased, starts, ends });
  }

  originalSpan(start, end) {
    if (end <= start) return [this.starts[start], this.starts[start]];
    const starts = this.starts.slice(start, end);
    const ends = this.ends.slice(start, end);
    return [Math.min(...starts), Math.max(...ends)];
  }

  isCapitalised(index) {
    const typed = this.original.slice(this.starts[index], this.ends[index]);
    const first = [...typed][0] || "";
    return isUpper(first);
  }
}

function foldSpecial(char) {
  if (APOSTROPHES.includes(char)) return "'";
  const kept = [];
  for (const part of char.normalize("NFKD")) {
    const combining = MARK.test(part);
    if (!combining || (kept.length && (LETTER_MARKS[part] || "").includes(kept[kept.length - 1]))) kept.push(part);
  }
  return kept.join("").normalize("NFC");
}

/** Characters as displayed: invisible ones dropped, marks on their letter, a right-to-left override undone. */
function readCharacters(original) {
  const chars = [];
  const starts = [];
  const ends = [];
  let since = null;
  const endOverride = () => {
    if (since === null) return;
    const from = since;
    since = null;
    if (from >= chars.length) return;
    for (const values of [chars, starts, ends]) values.splice(from, values.length - from, ...values.slice(from).reverse());
  };
  let index = 0;
  for (const char of original) {
    const at = index;
    index += char.length;
    if (PLAIN.test(char)) {
      if (since !== null && char === "\n") endOverride();
      chars.push(char);
      starts.push(at);
      ends.push(index);
      continue;
    }
    if (char === RLO) {
      if (since === null) since = chars.length;
      continue;
    }
    if (char === PDF || char === LRO) endOverride();
    if (INVISIBLE.test(char)) continue;
    if (MARK.test(char)) {
      if (!chars.length) continue;
      if ((LETTER_MARKS[char] || "").includes(chars[chars.length - 1])) {
        chars[chars.length - 1] = (chars[chars.length - 1] + char).normalize("NFC");
      }
      ends[ends.length - 1] = index;
      continue;
    }
    for (const folded of foldSpecial(char)) {
      chars.push(folded);
      starts.push(at);
      ends.push(index);
    }
  }
  endOverride();
  return { chars, starts, ends };
}

/** One entry per UTF-16 unit, so that regular expressions' offsets index the maps directly. */
function perUnit(chars, starts, ends) {
  const unitStarts = [];
  const unitEnds = [];
  chars.forEach((char, i) => {
    for (let unit = 0; unit < char.length; unit += 1) {
      unitStarts.push(starts[i]);
      unitEnds.push(ends[i]);
    }
  });
  return { unitStarts, unitEnds };
}

function lowercase(chars) {
  return chars.map((char) => {
    const lower = char.toLowerCase();
    return lower.length === char.length ? lower : char; // one character stays one (Turkish İ)
  });
}

const foldE = (char) => ({ ё: "е", ѐ: "е", ѝ: "и" })[char] || char;

// ----------------------------------------------------------------- look-alike letters

function unmaskMixedWord(word, cased, table) {
  const w = [...word];
  const c = [...cased];
  const ru = table.russian;
  const russian = w.filter((ch) => ru.has(ch)).length;
  const foreign = w.filter((ch) => LETTER.test(ch) && !ru.has(ch)).length;
  const hidden = w.some((ch) => DIGIT.test(ch) || SIGNS.includes(ch));
  if (!russian && !foreign) return word;
  if (hidden) return word; // digits and signs for letters: read with the dictionary, on the server
  const toCyrillic = w.map((ch, i) => (ru.has(ch) ? ch : table.cyrillic[c[i]] || null));
  const toLatin = c.map((ch) => (LETTER.test(ch) ? table.latin[ch] || null : null));
  const letters = w.map((ch) => LETTER.test(ch));
  const canBeCyrillic = w.every((_, i) => !letters[i] || toCyrillic[i]);
  const canBeLatin = w.every((_, i) => !letters[i] || toLatin[i]);
  if (russian === 0 || (canBeLatin && foreign > russian)) {
    if (!canBeLatin) return word;
    return w.map((ch, i) => (letters[i] ? toLatin[i] : ch)).join("");
  }
  if (!(canBeCyrillic || russian >= foreign)) return w.map((ch, i) => (letters[i] ? toLatin[i] || ch : ch)).join("");
  return w.map((ch, i) => (letters[i] ? toCyrillic[i] || ch : ch)).join("");
}

function betweenCyrillicWords(text, start, end, both) {
  const before = text.slice(Math.max(0, start - NEIGHBOUR_REACH), start).match(/([\p{L}\p{N}]+)[^\p{L}\p{N}]*$/u);
  const after = text.slice(end, end + NEIGHBOUR_REACH).match(/^[^\p{L}\p{N}]*([\p{L}\p{N}]+)/u);
  if ([before, after].some((found) => found && FOREIGN_LETTER.test(found[1]))) return false;
  if (both) return [before, after].every((found) => found && CYRILLIC_LETTER.test(found[1]));
  return true;
}

function passesForCyrillic(word, cased, text, start, end, memo, table) {
  const w = [...word];
  if (!w.every((ch) => LETTER.test(ch)) || [...cased].some((ch) => !table.cyrillic[ch])) return false;
  if (w.length === 1) {
    const loneSmall = isLower(cased) && !"zv".includes(word);
    return loneSmall && betweenCyrillicWords(text, start, end, true);
  }
  if (ROMAN_NUMERAL.test(word) && isUpper(cased)) return false;
  if (!(isUpper(cased) || !/^[\x00-\x7f]*$/.test(word))) return false;
  if (!betweenCyrillicWords(text, start, end, false)) return false;
  if (memo.mostly === undefined) {
    const count = (pattern) => (text.match(new RegExp(pattern.source, "gu")) || []).length;
    memo.mostly = count(CYRILLIC_LETTER) > count(FOREIGN_LETTER);
  }
  return memo.mostly;
}

function unmaskWords(text, cased, table) {
  let out = "";
  let copied = 0;
  const memo = {};
  for (const found of text.matchAll(WORDISH)) {
    const word = found[0];
    if (RUSSIAN_WORD.test(word)) continue;
    const start = found.index;
    const end = start + word.length;
    if (word.includes("@")) {
      ADDRESS_GOES_ON.lastIndex = end;
      if (ADDRESS_GOES_ON.test(text)) continue;
    }
    const typed = cased.slice(start, end);
    let unmasked;
    if (CYRILLIC_LETTER.test(word) || [...word].some((ch) => SIGNS.includes(ch))) {
      unmasked = unmaskMixedWord(word, typed, table);
    } else if (passesForCyrillic(word, typed, text, start, end, memo, table)) {
      unmasked = [...typed].map((ch) => table.cyrillic[ch] || ch).join("");
    } else continue;
    if (unmasked === word || unmasked.length !== word.length) continue;
    out += text.slice(copied, start) + unmasked;
    copied = end;
  }
  return out + text.slice(copied);
}

/** The letter as the engine reads it, as far as that needs no dictionary. */
export function canonicalise(original, table) {
  const { chars, starts, ends } = readCharacters(original);
  const { unitStarts, unitEnds } = perUnit(chars, starts, ends);
  const cased = chars.join("");
  const lowered = lowercase(chars).map(foldE).join("");
  const text = unmaskWords(lowered, cased, table);
  return new Reading(original, text, cased, unitStarts, unitEnds);
}

// ----------------------------------------------------------------- words, phrases and symbols

function sortedLengths(strings) {
  return [...new Set(strings.map((s) => s.length))].sort((a, b) => a - b);
}

class Word {
  constructor({ forms, prefixes }) {
    this.forms = new Set(forms);
    this.prefixes = new Set(prefixes);
    this.lengths = sortedLengths(forms);
    this.stemLengths = sortedLengths(prefixes);
  }

  /** Every end position where this word, starting at `at`, ends inside `token`. */
  *spells(token, at) {
    for (const length of this.lengths) {
      if (at + length > token.length) break;
      if (this.forms.has(token.slice(at, at + length))) yield at + length;
    }
    for (const length of this.stemLengths) {
      if (at + length > token.length) break;
      if (this.prefixes.has(token.slice(at, at + length))) {
        for (let end = at + length; end <= token.length; end += 1) yield end;
      }
    }
  }
}

function push(map, key, value) {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

export class OfflineRules {
  /** `doc`: the document GET /api/v1/screening/offline-rules answers. */
  constructor(doc) {
    if (!doc || doc.format !== FORMAT) throw new Error("offline rules in an unknown format");
    this.version = doc.rules_version;
    this.serverOnly = doc.server_only || [];
    this.rules = new Map(doc.rules.map((rule) => [rule.id, rule]));
    this.words = doc.words.map((word) => new Word(word));
    this.terms = doc.terms;
    this.byForm = new Map();
    this.byStem = new Map();
    this.words.forEach((word, id) => {
      for (const form of word.forms) push(this.byForm, form, id);
      for (const stem of word.prefixes) push(this.byStem, stem, id);
    });
    this.stemLengths = sortedLengths([...this.byStem.keys()]);
    this.termsStartingWith = new Map();
    this.joinedByStart = new Map();
    this.terms.forEach((term, id) => {
      push(this.termsStartingWith, term.words[0], id);
      if (!term.joinable) return;
      const first = this.words[term.words[0]];
      for (const start of new Set([...first.forms, ...first.prefixes])) push(this.joinedByStart, start, id);
    });
    this.joinedStartLengths = sortedLengths([...this.joinedByStart.keys()]);
    const looks = doc.lookalikes;
    this.table = { russian: new Set(looks.russian_letters), cyrillic: looks.cyrillic, latin: looks.latin };
    // One alternation over all symbol rules, in the rules' order, as rules.py compiles it.
    const escape = (char) => char.replace(/[\\^$.*+?()[\]{}|\/]/g, "\\$&");
    this.symbolRules = doc.symbols.map((entry) => entry.rule);
    const groups = doc.symbols.map(
      (entry) => `(${entry.symbols.map((parts) => parts.map(escape).join("\\s*")).join("|")})`,
    );
    this.symbols = groups.length ? new RegExp(groups.join("|"), "gu") : null;
  }

  /** Findings of the exported rules in one printed field, as the server's /check would list them. */
  screen(text, { lang = "en", field = "body" } = {}) {
    const reading = canonicalise(text, this.table);
    const spansByRule = new Map();
    for (const [ruleId, start, end] of this.find(reading, field)) push(spansByRule, ruleId, reading.originalSpan(start, end));
    const language = ["uk", "ru", "en"].includes(lang) ? lang : "en";
    const findings = [];
    for (const [ruleId, spans] of spansByRule) {
      const rule = this.rules.get(ruleId);
      for (const [start, end] of mergeOverlapping(spans)) {
        findings.push({
          rule: rule.id,
          field,
          category: rule.category,
          severity: rule.severity,
          start,
          end,
          message: rule.message[language],
          suggestion: rule.suggestion ? rule.suggestion[language] : null,
          suggestion_gloss: rule.suggestion_gloss ? rule.suggestion_gloss[language] || null : null,
          offline: true,
        });
      }
    }
    return findings.sort((a, b) => a.start - b.start || a.end - b.end || (a.rule < b.rule ? -1 : a.rule > b.rule ? 1 : 0));
  }

  /** The canonical text, for tests that compare the browser's reading with the server's. */
  reading(text) {
    return canonicalise(text, this.table).text;
  }

  *find(reading, field) {
    const screens = (ruleId) => {
      const rule = this.rules.get(ruleId);
      return rule && rule.fields.includes(field);
    };
    const matches = [];
    const cancelled = new Map();
    for (const [termId, start, end] of this.findTerms(reading)) {
      const term = this.terms[termId];
      if (term.cancels) push(cancelled, term.rule, [start, end]);
      else matches.push([term.rule, start, end]);
    }
    for (const [owner, start, end] of matches) {
      const cancels = cancelled.get(owner) || [];
      if (screens(owner) && !cancels.some(([s, e]) => s < end && start < e)) yield [owner, start, end];
    }
    if (this.symbols) {
      for (const found of reading.text.matchAll(this.symbols)) {
        const group = found.slice(1).findIndex((value) => value !== undefined);
        const ruleId = this.symbolRules[group];
        if (screens(ruleId)) yield [ruleId, found.index, found.index + found[0].length];
      }
    }
  }

  *findTerms(reading) {
    const tokens = [...reading.text.matchAll(WORD)].map((m) => [m.index, m.index + m[0].length, m[0]]);
    const cache = new Map();
    const hits = tokens.map(([, , token]) => this.lookup(token, cache));
    for (let index = 0; index < tokens.length; index += 1) {
      const [start, end] = tokens[index];
      const [wordIds, joined] = hits[index];
      for (const wordId of wordIds) {
        for (const termId of this.termsStartingWith.get(wordId) || []) {
          const term = this.terms[termId];
          if (term.clause_ends[0] && !endsClause(reading, end)) continue;
          for (const last of phraseEnds(term, tokens, hits, index, 1, reading)) yield [termId, start, tokens[last][1]];
        }
      }
      for (const termId of joined) yield [termId, start, end];
    }
  }

  lookup(token, cache) {
    let found = cache.get(token);
    if (found) return found;
    const words = new Set(this.byForm.get(token) || []);
    for (const length of this.stemLengths) {
      if (length > token.length) break;
      for (const id of this.byStem.get(token.slice(0, length)) || []) words.add(id);
    }
    const joined = [...new Set(this.joinedStarting(token, 0))].filter(
      (termId) => this.speltFrom(token, 0, this.terms[termId]) === token.length,
    );
    found = [words, joined];
    cache.set(token, found);
    return found;
  }

  joinedStarting(token, at) {
    const found = [];
    for (const length of this.joinedStartLengths) {
      if (at + length >= token.length) break;
      found.push(...(this.joinedByStart.get(token.slice(at, at + length)) || []));
    }
    return found;
  }

  speltFrom(token, at, term) {
    const words = this.words;
    function* ends(position, index) {
      if (index === term.words.length) {
        yield position;
        return;
      }
      for (const end of words[term.words[index]].spells(token, position)) {
        if (end > position) yield* ends(end, index + 1);
      }
    }
    for (const end of ends(at, 0)) if (end === token.length) return end;
    return null;
  }
}

function* phraseEnds(term, tokens, hits, at, position, reading) {
  if (position === term.words.length) {
    yield at;
    return;
  }
  for (let step = 1; step <= term.gaps[position] + 1; step += 1) {
    const following = at + step;
    if (following >= tokens.length || sentenceEndsBetween(tokens[following - 1], tokens[following], reading)) return;
    if (
      hits[following][0].has(term.words[position]) &&
      (!term.clause_ends[position] || endsClause(reading, tokens[following][1]))
    ) {
      yield* phraseEnds(term, tokens, hits, following, position + 1, reading);
    }
  }
}

function endsClause(reading, at) {
  CLAUSE_END.lastIndex = at;
  return CLAUSE_END.test(reading.text);
}

function sentenceEndsBetween(before, after, reading) {
  const between = reading.text.slice(before[1], after[0]);
  return SENTENCE_END.test(between) && reading.isCapitalised(after[0]);
}

function mergeOverlapping(spans) {
  const merged = [];
  for (const [start, end] of [...spans].sort((a, b) => a[0] - b[0] || a[1] - b[1])) {
    const last = merged[merged.length - 1];
    if (last && start < last[1]) last[1] = Math.max(end, last[1]);
    else merged.push([start, end]);
  }
  return merged;
}

// A kiosk page stays open for days: ask again now and then, so new rules reach it (the service
// worker answers from its copy when there is no network).
const KEEP_MS = 10 * 60 * 1000;
let loaded = null;
let loadedAt = 0;

/** The exported rules (an OfflineRules), fetched at most every ten minutes. */
export function offlineRules() {
  if (!loaded || Date.now() - loadedAt > KEEP_MS) {
    const previous = loaded;
    loadedAt = Date.now();
    loaded = fetch(OFFLINE_RULES_URL, { headers: { Accept: "application/json" } })
      .then((response) => {
        if (!response.ok) throw new Error(`offline rules: ${response.status}`);
        return response.json();
      })
      .then((doc) => new OfflineRules(doc))
      .catch((error) => {
        if (previous) return previous; // keep the rules we had; ask again at the next check
        loaded = null;
        throw error;
      });
  }
  return loaded;
}
