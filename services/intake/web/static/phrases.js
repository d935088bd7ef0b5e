// Help to write in Russian: the phrase bank (services/intake/phrases.yaml, served by /api/v1/phrases) as
// topic chips; a topic shows its Russian phrases with what they mean, and one tap puts a phrase into the
// letter where the cursor is. A sample letter can start the letter. The last bank loaded is kept on the
// device, so that a kiosk without a network still offers it (its service worker keeps a copy too).

import { lang, onLangChange, t } from "./i18n.js";

const STORAGE_KEY = "letters.phrases";
// The glosses the bank carries; the interface speaks uk, en and ru, and a writer from Berlin or Warsaw
// may read German or Polish better than English.
const GLOSSES = { uk: "Українська", en: "English", de: "Deutsch", pl: "Polski" };

async function fetchBank() {
  try {
    const response = await fetch("/api/v1/phrases", { headers: { Accept: "application/json" }, credentials: "omit" });
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
    const bank = await response.json();
    try {
      localStorage.setItem(STORAGE_KEY, JSON.stringify(bank));
    } catch {
      /* no storage: the copy is just not kept */
    }
    return bank;
  } catch (error) {
    try {
      const kept = JSON.parse(localStorage.getItem(STORAGE_KEY) || "null");
      if (kept && Array.isArray(kept.topics)) return kept;
    } catch {
      /* a broken copy is no copy */
    }
    throw error;
  }
}

/** Put `text` into the field at the cursor (replacing a selection), spaced from its neighbours. */
export function insertAtCursor(field, text, { paragraph = false } = {}) {
  const start = field.selectionStart ?? field.value.length;
  const end = field.selectionEnd ?? start;
  const before = field.value.slice(0, start);
  const after = field.value.slice(end);
  const gap = paragraph ? "\n\n" : " ";
  const lead = before && !/\s$/.test(before) ? gap : "";
  const trail = after && !/^\s/.test(after) ? " " : "";
  field.focus({ preventScroll: true });
  field.setRangeText(lead + text + trail, start, end, "end");
  field.dispatchEvent(new Event("input", { bubbles: true })); // the editor screens and saves it
}

export class PhrasePicker {
  /** root: the <details> holding the picker (see writer.html); field: the letter's textarea. */
  constructor({ root, field }) {
    Object.assign(this, { root, field });
    this.bank = null;
    this.topic = null;
    this.gloss = null; // chosen by the writer; else the interface language's
    this.topics = root.querySelector(".phrase-topics");
    this.list = root.querySelector(".phrase-list");
    this.samples = root.querySelector(".phrase-samples");
    this.status = root.querySelector(".phrase-status");
    this.glossSelect = root.querySelector(".phrase-gloss-select");
    this.glossSelect.addEventListener("change", () => {
      this.gloss = this.glossSelect.value;
      this.renderTopic();
    });
    onLangChange(() => this.render());
  }

  async load() {
    this.setStatus("phrases.loading");
    try {
      this.bank = await fetchBank();
      this.setStatus(null);
    } catch {
      this.setStatus("phrases.unavailable");
    }
    this.render();
  }

  setStatus(key) {
    this.status.textContent = key ? t(key) : "";
    this.status.hidden = !key;
  }

  glossLanguage() {
    if (this.gloss !== null) return this.gloss;
    return lang() in GLOSSES ? lang() : ""; // a Russian interface needs no gloss of Russian
  }

  render() {
    this.renderGlossChoice();
    if (!this.bank) return;
    const chips = this.bank.topics.map((topic) => {
      const chip = document.createElement("button");
      chip.type = "button";
      chip.className = "phrase-topic";
      chip.dataset.topic = topic.id;
      chip.textContent = topic.title[lang()] || topic.title.en;
      chip.setAttribute("aria-pressed", String(topic.id === this.topic));
      chip.addEventListener("click", () => {
        this.topic = topic.id === this.topic ? null : topic.id;
        this.render();
      });
      return chip;
    });
    this.topics.replaceChildren(...chips);
    this.renderTopic();
  }

  renderGlossChoice() {
    const current = this.glossLanguage();
    const none = new Option(t("phrases.glossNone"), "");
    const options = [none, ...Object.entries(GLOSSES).map(([code, name]) => new Option(name, code))];
    for (const option of options) option.selected = option.value === current;
    this.glossSelect.replaceChildren(...options);
  }

  renderTopic() {
    const topic = this.bank && this.bank.topics.find((item) => item.id === this.topic);
    const gloss = this.glossLanguage();
    const meaning = (item) => {
      const text = document.createElement("span");
      text.className = "phrase-gloss";
      text.lang = gloss;
      text.textContent = item[gloss];
      return text;
    };
    const phrases = (topic ? topic.phrases : []).map((phrase) => {
      const item = document.createElement("li");
      item.className = "phrase";
      const insert = document.createElement("button");
      insert.type = "button";
      insert.className = "phrase-insert";
      insert.lang = "ru";
      insert.textContent = phrase.ru;
      insert.title = t("phrases.insert");
      insert.addEventListener("click", () => this.use(phrase.ru));
      item.append(insert);
      if (gloss && phrase[gloss]) item.append(meaning(phrase));
      return item;
    });
    this.list.replaceChildren(...phrases);
    this.list.hidden = phrases.length === 0;
    const samples = (topic ? topic.samples : []).map((sample) => {
      const item = document.createElement("li");
      item.className = "phrase-sample";
      const heading = document.createElement("p");
      heading.className = "phrase-sample-title";
      heading.textContent = t("phrases.sample");
      const text = document.createElement("p");
      text.className = "phrase-sample-text";
      text.lang = "ru";
      text.textContent = sample.ru;
      item.append(heading, text);
      if (gloss && sample[gloss]) item.append(meaning(sample));
      const start = document.createElement("button");
      start.type = "button";
      start.className = "button secondary phrase-use-sample";
      start.textContent = t("phrases.useSample");
      start.addEventListener("click", () => this.use(sample.ru, { paragraph: true }));
      item.append(start);
      return item;
    });
    this.samples.replaceChildren(...samples);
    this.samples.hidden = samples.length === 0;
  }

  /** Closed, no topic chosen: how the next kiosk visitor finds it. */
  reset() {
    this.root.open = false;
    this.topic = null;
    this.gloss = null;
    this.setStatus(null);
    this.render();
  }

  use(text, options) {
    insertAtCursor(this.field, text, options);
    this.status.textContent = t("phrases.inserted");
    this.status.hidden = false;
  }
}
