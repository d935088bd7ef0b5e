// The letter field with live hints: the text is screened by /api/v1/letters/check ~400 ms after the
// last keystroke, the flagged words are highlighted in a mirror element behind the (transparent)
// textarea, and the messages are listed under it. The writer's name and city are printed on the
// scan too, so they are screened with the text; what is flagged in them is listed next to them.
//
// Without a network (the kiosk), an `offline` source of the exported rules (offline-hints.js) gives the
// same hints for the word, phrase and symbol rules, labelled as offline; the server's answer replaces
// them at the next check that reaches it.
//
// The server counts offsets in Unicode code points (Python), JavaScript in UTF-16 units: they differ
// after any character outside the Basic Multilingual Plane (emoji, flags), so offsets are converted.

import { ApiError, checkLetter } from "./api.js";
import { lang, onLangChange, t } from "./i18n.js";

/** units[i] = the UTF-16 offset of code point i (and units[length] = text.length). */
export function codePointOffsets(text) {
  const units = [0];
  let unit = 0;
  for (const char of text) {
    unit += char.length;
    units.push(unit);
  }
  return units;
}

/** Keep the findings an edit did not touch, moved to where their text now is. */
export function shiftFindings(findings, before, after) {
  if (findings.length === 0 || before === after) return findings;
  let prefix = 0;
  const shortest = Math.min(before.length, after.length);
  while (prefix < shortest && before[prefix] === after[prefix]) prefix += 1;
  let suffix = 0;
  while (
    suffix < shortest - prefix &&
    before[before.length - 1 - suffix] === after[after.length - 1 - suffix]
  ) {
    suffix += 1;
  }
  const delta = after.length - before.length;
  const editEnd = before.length - suffix; // the edit replaced before[prefix, editEnd)
  return findings.flatMap((finding) => {
    if (finding.end <= prefix) return [finding];
    if (finding.start >= editEnd) return [{ ...finding, start: finding.start + delta, end: finding.end + delta }];
    return [];
  });
}

/**
 * Findings in a one-line field (name, city), placed in the field as typed: the server screened the
 * trimmed value (of the name, its first word, which starts it), counting code points.
 */
export function placeFieldFindings(value, findings) {
  const lead = value.length - value.trimStart().length;
  const units = codePointOffsets(value.trimStart());
  const at = (offset) => lead + units[Math.max(0, Math.min(Number(offset) || 0, units.length - 1))];
  return findings
    .map((finding) => ({ ...finding, start: at(finding.start), end: at(finding.end) }))
    .filter((finding) => finding.end > finding.start);
}

// The printed fields besides the text, and where the letter carries them.
const AUTHOR_KEYS = { writer_first_name: "display_name", writer_city: "city" };
const SEVERITY_RANK = { block: 2, warn: 1 };

function strongest(findings) {
  return findings.reduce((best, f) => ((SEVERITY_RANK[f.severity] || 0) > (SEVERITY_RANK[best.severity] || 0) ? f : best));
}

export class LetterEditor {
  /**
   * field: the textarea; mirror: the element behind it; list/summary/checking: where hints go;
   * counter: characters typed; context(): {prisoner_id, client_ref, channel} for the check request;
   * printed: {writer_first_name: {input, list}, writer_city: {input, list}}, the writer's name and
   * city inputs and the lists next to them for what is flagged in them; offline(): a promise of the
   * exported rules (OfflineRules), asked when the check cannot reach the server.
   */
  constructor({ field, mirror, list, summary, checking, counter, context, printed = {}, delay = 400, onChange, offline }) {
    Object.assign(this, { field, mirror, list, summary, checking, counter, context, printed, delay, onChange, offline });
    this.text = field.value;
    this.findings = [];
    this.fieldFindings = {}; // by printed field, offsets in the input's value
    this.state = "idle"; // idle | ok | offline (hints from the exported rules) | unavailable
    this.pending = false;
    this.timer = null;
    this.inflight = null;
    this.quietUntil = 0;
    field.addEventListener("input", () => this.onInput());
    for (const [name, { input }] of Object.entries(printed)) {
      input.addEventListener("input", () => {
        delete this.fieldFindings[name]; // what was flagged may be gone: the next check says
        this.renderFieldHints();
        this.renderHints();
        this.scheduleCheck();
      });
    }
    field.addEventListener("scroll", () => this.syncScroll());
    if (window.ResizeObserver) {
      // A narrower field wraps into more lines: grow it again. Height changes are our own doing.
      let width = 0;
      new ResizeObserver((entries) => {
        const next = Math.round(entries[0].contentRect.width);
        if (next !== width) {
          width = next;
          this.fit();
        }
      }).observe(field);
    }
    // The messages come from the server in the interface language: ask again after a switch.
    onLangChange(() => {
      this.render();
      if (this.hasContent()) this.scheduleCheck(0);
    });
    this.onInput();
  }

  get blocking() {
    return this.allFindings().some((f) => f.severity === "block");
  }

  /** Most of the letter is in another language than Russian (as sorting judges it: half of it). */
  get mostlyNotRussian() {
    const letters = (this.text.match(/\p{L}/gu) || []).length;
    if (!letters) return false;
    let other = 0;
    for (const f of this.findings) {
      if (!["language.ukrainian", "language.crimean_tatar", "language.foreign"].includes(f.rule)) continue;
      other += (this.text.slice(f.start, f.end).match(/\p{L}/gu) || []).length;
    }
    return other * 2 >= letters;
  }

  /** A block-level finding that is not about the language (a translation does not make it go away). */
  get blockingBesidesLanguage() {
    return this.allFindings().some((f) => f.severity === "block" && !String(f.rule).startsWith("language."));
  }

  allFindings() {
    return [...this.findings, ...Object.values(this.fieldFindings).flat()];
  }

  /** The first finding the censor would stop: in the text first, then in the name, then the city. */
  firstBlocking() {
    const blocks = (findings = []) => findings.filter((f) => f.severity === "block").sort((a, b) => a.start - b.start);
    for (const found of [this.findings, ...Object.keys(this.printed).map((name) => this.fieldFindings[name])]) {
      const [first] = blocks(found);
      if (first) return first;
    }
    return null;
  }

  /** The printed values besides the text, as the letter will carry them. */
  printedValues() {
    const values = {};
    for (const [name, { input }] of Object.entries(this.printed)) {
      const value = input.value.trim();
      if (value) values[AUTHOR_KEYS[name]] = value;
    }
    return values;
  }

  hasContent() {
    return Boolean(this.text.trim()) || Object.keys(this.printedValues()).length > 0;
  }

  setText(text) {
    this.field.value = text;
    this.onInput();
  }

  clear() {
    clearTimeout(this.timer);
    if (this.inflight) this.inflight.abort();
    this.field.value = "";
    this.text = "";
    this.findings = [];
    this.fieldFindings = {};
    this.state = "idle";
    this.pending = false;
    this.fit();
    this.render();
    if (this.hasContent()) this.scheduleCheck(0); // a name kept for the next letter is screened again
  }

  onInput() {
    const next = this.field.value;
    this.findings = shiftFindings(this.findings, this.text, next);
    this.text = next;
    this.fit();
    this.render();
    this.scheduleCheck();
    if (this.onChange) this.onChange(next);
  }

  scheduleCheck(delay = this.delay) {
    clearTimeout(this.timer);
    if (!this.hasContent()) {
      if (this.inflight) this.inflight.abort();
      this.findings = [];
      this.fieldFindings = {};
      this.state = "idle";
      this.pending = false;
      this.render();
      return;
    }
    this.pending = true;
    this.renderChecking();
    // Told to slow down (429): no check before the server's Retry-After has passed.
    const wait = Math.max(delay, this.quietUntil ? this.quietUntil - Date.now() : 0);
    this.timer = setTimeout(() => this.check(), wait);
  }

  /** Screen the current text, name and city now; resolves when the answer (or the failure) is shown. */
  async check() {
    clearTimeout(this.timer);
    const text = this.text;
    if (!this.hasContent()) return;
    if (this.inflight) this.inflight.abort();
    const controller = new AbortController();
    this.inflight = controller;
    const { prisoner_id, client_ref, channel } = this.context();
    const typed = Object.fromEntries(Object.entries(this.printed).map(([name, { input }]) => [name, input.value]));
    const letter = {
      prisoner_id: prisoner_id || "unknown",
      body: text,
      client_ref,
      author: { ...this.printedValues(), contact_consent: false },
      source: { channel: channel || "web" },
    };
    const unchanged = () =>
      text === this.text && Object.entries(this.printed).every(([name, { input }]) => input.value === typed[name]);
    try {
      const answer = await checkLetter(letter, { lang: lang(), signal: controller.signal });
      if (!unchanged()) return; // typed on meanwhile: a newer check follows
      const found = answer.findings || [];
      const inField = (name) => found.filter((finding) => (finding.field || "body") === name);
      const units = codePointOffsets(text);
      const at = (offset) => units[Math.max(0, Math.min(Number(offset) || 0, units.length - 1))];
      this.findings = inField("body")
        .map((finding) => ({ ...finding, start: at(finding.start), end: at(finding.end) }))
        .filter((finding) => finding.end > finding.start);
      this.fieldFindings = Object.fromEntries(
        Object.keys(this.printed).map((name) => [name, placeFieldFindings(typed[name], inField(name))]),
      );
      this.state = "ok";
    } catch (error) {
      if (error && error.name === "AbortError") return;
      if (error instanceof ApiError && error.status === 429) {
        this.quietUntil = Date.now() + (error.retryAfter ?? 10) * 1000;
        if (unchanged()) this.scheduleCheck(0); // the latest text still gets its hints
        return;
      }
      if (!unchanged()) return;
      if (!(await this.checkOffline(text, typed)) || !unchanged()) {
        if (!unchanged()) return;
        this.state = "unavailable"; // hints are a help, not a gate: keep the moved old ones
      }
    } finally {
      if (this.inflight === controller) this.inflight = null;
    }
    this.pending = false;
    this.render();
  }

  /** Hints from the exported rules, when the server cannot be reached; false if there are none to use. */
  async checkOffline(text, typed) {
    if (!this.offline) return false;
    let rules;
    try {
      rules = await this.offline();
    } catch {
      return false; // no copy of the rules yet (never online since the kiosk was set up)
    }
    if (text !== this.text) return true; // typed on meanwhile: a newer check follows
    this.findings = rules.screen(text, { lang: lang(), field: "body" });
    // As the server screens them: the first word of the name (only that is printed), the city as typed.
    const values = { writer_first_name: (typed.writer_first_name || "").trimStart().split(/\s/)[0], writer_city: typed.writer_city || "" };
    this.fieldFindings = Object.fromEntries(
      Object.keys(this.printed).map((name) => {
        const value = typed[name] || "";
        const lead = value.length - value.trimStart().length;
        const found = values[name] ? rules.screen(values[name].trim(), { lang: lang(), field: name }) : [];
        return [name, found.map((finding) => ({ ...finding, start: finding.start + lead, end: finding.end + lead }))];
      }),
    );
    this.state = "offline";
    return true;
  }

  fit() {
    const { field } = this;
    const borders = field.offsetHeight - field.clientHeight;
    field.style.height = "auto";
    field.style.height = `${field.scrollHeight + borders}px`;
    this.syncScroll();
  }

  syncScroll() {
    this.mirror.scrollTop = this.field.scrollTop;
    this.mirror.scrollLeft = this.field.scrollLeft;
  }

  render() {
    this.renderMirror();
    this.renderHints();
    this.renderFieldHints();
  }

  renderMirror() {
    const { text } = this;
    const cuts = new Set([0, text.length]);
    for (const finding of this.findings) {
      cuts.add(finding.start);
      cuts.add(finding.end);
    }
    const points = [...cuts].filter((p) => p >= 0 && p <= text.length).sort((a, b) => a - b);
    const fragment = document.createDocumentFragment();
    for (let i = 0; i < points.length - 1; i += 1) {
      const [from, to] = [points[i], points[i + 1]];
      const covering = this.findings.filter((f) => f.start < to && f.end > from);
      const piece = text.slice(from, to);
      if (covering.length === 0) {
        fragment.append(document.createTextNode(piece));
        continue;
      }
      const top = strongest(covering);
      const mark = document.createElement("mark");
      mark.className = `flag flag-${top.severity === "block" ? "block" : "warn"}`;
      mark.dataset.rule = top.rule;
      mark.dataset.rules = [...new Set(covering.map((f) => f.rule))].join(" ");
      mark.dataset.severity = top.severity;
      mark.dataset.category = top.category || "";
      mark.dataset.start = String(from);
      mark.textContent = piece;
      fragment.append(mark);
    }
    // A trailing newline would otherwise collapse in the mirror and the heights would differ.
    fragment.append(document.createTextNode("\u200b"));
    this.mirror.replaceChildren(fragment);
    this.syncScroll();
  }

  renderChecking() {
    if (this.checking) this.checking.textContent = this.pending ? t("hints.checking") : "";
  }

  renderHints() {
    if (this.counter) this.counter.textContent = t("letter.count", { n: [...this.text].length });
    this.renderChecking();
    let summary;
    if (this.findings.length > 0) summary = t("hints.count", { n: this.findings.length });
    else if (this.state === "unavailable") summary = t("hints.unavailable");
    else if (this.state === "offline") summary = t("hints.offlineNone");
    else if (this.state === "ok") summary = t("hints.none");
    else summary = t("hints.idle");
    if (this.findings.length > 0 && this.state === "unavailable") summary += ` ${t("hints.unavailable")}`;
    if (this.findings.length > 0 && this.state === "offline") summary += ` ${t("hints.offline")}`;
    if (Object.values(this.fieldFindings).some((found) => found.length > 0)) summary += ` ${t("hints.inAuthor")}`;
    if (this.summary.textContent !== summary) this.summary.textContent = summary;
    this.summary.dataset.state = this.findings.length > 0 ? "flagged" : this.state;
    this.summary.dataset.source = this.state === "offline" ? "offline" : "server";
    this.renderList(this.list, this.findings, this.text);
  }

  /** Next to the name and city: what is flagged in them, and the input marked. */
  renderFieldHints() {
    for (const [name, { input, list }] of Object.entries(this.printed)) {
      const found = this.fieldFindings[name] || [];
      const top = found.length ? strongest(found).severity : null;
      if (top) input.dataset.flag = top;
      else delete input.dataset.flag;
      input.setAttribute("aria-invalid", String(top === "block"));
      if (list) this.renderList(list, found, input.value);
    }
  }

  renderList(list, findings, text) {
    const sorted = [...findings].sort((a, b) => a.start - b.start || (SEVERITY_RANK[b.severity] || 0) - (SEVERITY_RANK[a.severity] || 0));
    const items = sorted.map((finding) => {
      const item = document.createElement("li");
      item.className = `finding finding-${finding.severity === "block" ? "block" : "warn"}`;
      item.dataset.rule = finding.rule;
      item.dataset.severity = finding.severity;
      item.dataset.field = finding.field || "body";

      const jump = document.createElement("button");
      jump.type = "button";
      jump.className = "finding-jump";
      jump.title = t("hints.showInText");
      const severity = document.createElement("span");
      severity.className = "finding-severity";
      severity.textContent = t(finding.severity === "block" ? "hints.block" : "hints.warn");
      const excerpt = document.createElement("q");
      excerpt.className = "finding-excerpt";
      if ((finding.field || "body") === "body") excerpt.lang = "ru"; // a name may be in any language
      excerpt.textContent = text.slice(finding.start, finding.end);
      jump.append(severity, excerpt);
      jump.addEventListener("click", () => this.reveal(finding));

      const message = document.createElement("p");
      message.className = "finding-message";
      message.textContent = finding.message || "";
      item.append(jump, message);
      if (finding.suggestion) {
        const suggestion = document.createElement("p");
        suggestion.className = "finding-suggestion";
        suggestion.textContent = t("hints.suggestion", { s: finding.suggestion });
        item.append(suggestion);
        // The kinder wording is Russian: what it means, unless the suggestion already says it.
        const gloss = finding.suggestion_gloss;
        if (gloss && !finding.suggestion.includes(gloss)) {
          const meaning = document.createElement("p");
          meaning.className = "finding-gloss";
          meaning.lang = lang();
          meaning.textContent = t("hints.gloss", { g: gloss });
          item.append(meaning);
        }
      }
      return item;
    });
    list.replaceChildren(...items);
    list.hidden = items.length === 0;
  }

  /** Select the flagged words in the text, the name or the city, and bring them into view. */
  reveal(finding) {
    const printed = this.printed[finding.field];
    if (printed) {
      printed.input.focus({ preventScroll: true });
      printed.input.setSelectionRange(finding.start, finding.end);
      printed.input.scrollIntoView({ block: "center", behavior: "smooth" });
      return;
    }
    this.field.focus({ preventScroll: true });
    this.field.setSelectionRange(finding.start, finding.end);
    const mark = this.mirror.querySelector(`mark[data-start="${finding.start}"]`);
    (mark || this.field).scrollIntoView({ block: "center", behavior: "smooth" });
  }
}
