// The operators' page for directory updates from outside lists: upload a list's CSV, read the
// proposed changes as a diff, tick the ones to apply. Everything from the list is shown with
// textContent only: a name in a public list is text here, never markup. Sign-in, requests and the
// language come from the staff kit.

import { $, detail, el, notice, report, staffSession, syncRows } from "/staff-kit/kit.js";
import { addStrings, formatNumber, onLangChange, t } from "/staff-kit/i18n.js";

addStrings({
  uk: {
    "import.pageTitle": "Оновлення довідника", "import.title": "Оновлення довідника",
    "import.subtitle": "зі стороннього списку", "import.roles": "оператор або адміністратор",
    "import.list": "Список", "import.columns": "CSV з колонками",
    "import.nothingYet": "Нічого не змінюється, доки ви не підтвердите вибрані зміни.",
    "import.source": "Джерело", "import.sourceExample": "КПГ, список від 30.11.2026", "import.file": "Файл CSV",
    "import.compare": "Порівняти", "import.proposed": "Запропоновані зміни", "import.apply": "Застосувати вибрані",
    "import.col.choose": "Обрати", "import.col.change": "Зміна", "import.col.line": "Рядок", "import.col.person": "Людина",
    "import.col.inList": "У списку", "import.col.before": "Було", "import.col.after": "Стане",
    "import.col.result": "Результат",
    "import.kind.new": "Нова людина", "import.kind.status": "Зміна статусу", "import.kind.release": "Звільнення",
    "import.kind.transfer": "Етапування", "import.kind.placement": "Місце утримання",
    "import.kind.unmatched_spelling": "Написання не збігається",
    "import.result.applied": "Застосовано", "import.result.already_applied": "Уже застосовано",
    "import.result.changed_since": "Довідник змінився відтоді; не застосовано",
    "import.result.gone": "Людини вже немає в довіднику", "import.result.unknown_change": "Невідома зміна",
    "import.since": "з {date}", "import.lineProblem": "Рядок {line}: {message}",
    "import.summary": "{id} · {source} · змін: {changes}, без змін: {unchanged}, проблем: {problems}",
    "import.chooseFirst": "Оберіть зміни, які застосувати.", "import.applied": "Застосовано: {applied} / {chosen}",
  },
  ru: {
    "import.pageTitle": "Обновление справочника", "import.title": "Обновление справочника",
    "import.subtitle": "из стороннего списка", "import.roles": "оператор или администратор",
    "import.list": "Список", "import.columns": "CSV с колонками",
    "import.nothingYet": "Ничего не меняется, пока вы не подтвердите выбранные изменения.",
    "import.source": "Источник", "import.sourceExample": "КПГ, список от 30.11.2026", "import.file": "Файл CSV",
    "import.compare": "Сравнить", "import.proposed": "Предложенные изменения", "import.apply": "Применить выбранные",
    "import.col.choose": "Выбрать", "import.col.change": "Изменение", "import.col.line": "Строка",
    "import.col.person": "Человек", "import.col.inList": "В списке", "import.col.before": "Было",
    "import.col.after": "Станет", "import.col.result": "Результат",
    "import.kind.new": "Новый человек", "import.kind.status": "Смена статуса", "import.kind.release": "Освобождение",
    "import.kind.transfer": "Этапирование", "import.kind.placement": "Место содержания",
    "import.kind.unmatched_spelling": "Написание не совпадает",
    "import.result.applied": "Применено", "import.result.already_applied": "Уже применено",
    "import.result.changed_since": "Справочник изменился с тех пор; не применено",
    "import.result.gone": "Человека уже нет в справочнике", "import.result.unknown_change": "Неизвестное изменение",
    "import.since": "с {date}", "import.lineProblem": "Строка {line}: {message}",
    "import.summary": "{id} · {source} · изменений: {changes}, без изменений: {unchanged}, проблем: {problems}",
    "import.chooseFirst": "Выберите изменения, которые применить.", "import.applied": "Применено: {applied} / {chosen}",
  },
  en: {
    "import.pageTitle": "Directory update", "import.title": "Directory update",
    "import.subtitle": "from an outside list", "import.roles": "operator or admin",
    "import.list": "The list", "import.columns": "A CSV with the columns",
    "import.nothingYet": "Nothing changes until you confirm the changes you choose.",
    "import.source": "Source", "import.sourceExample": "KPG, list of 30.11.2026", "import.file": "CSV file",
    "import.compare": "Compare", "import.proposed": "Proposed changes", "import.apply": "Apply chosen",
    "import.col.choose": "Choose", "import.col.change": "Change", "import.col.line": "Line", "import.col.person": "Person",
    "import.col.inList": "In the list", "import.col.before": "Before", "import.col.after": "After",
    "import.col.result": "Result",
    "import.kind.new": "New person", "import.kind.status": "Status change", "import.kind.release": "Release",
    "import.kind.transfer": "Transfer", "import.kind.placement": "Facility recorded",
    "import.kind.unmatched_spelling": "Unmatched spelling",
    "import.result.applied": "Applied", "import.result.already_applied": "Already applied",
    "import.result.changed_since": "The directory changed since; not applied",
    "import.result.gone": "No longer in the directory", "import.result.unknown_change": "Unknown change",
    "import.since": "since {date}", "import.lineProblem": "Line {line}: {message}",
    "import.summary": "{id} · {source} · changes: {changes}, unchanged: {unchanged}, problems: {problems}",
    "import.chooseFirst": "Choose the changes to apply.", "import.applied": "Applied: {applied} / {chosen}",
  },
});

const API = "/api/v1";
// The list's names by the interface language they are written in; "lat" is the Latin spelling.
const NAME_LANGS = { uk: "uk", ru: "ru", en: "lat" };
let shown = null; // {proposal, outcomes}

const session = staffSession({
  base: API,
  probe: "/staff/prisoners",
  roles: "import.roles",
  onSignedIn: async () => {
    const wanted = new URLSearchParams(location.hash.slice(1)).get("proposal");
    if (wanted) await load(wanted);
  },
});

const kind = (code) => t(`import.kind.${code}`);
const result = (code) => t(`import.result.${code}`);

async function load(id) {
  const answer = await session.api(`/directory/imports/${encodeURIComponent(id)}`);
  if (answer.ok) show(answer.data);
  else notice(detail(answer.data, answer.status), "error");
}

function names(map) {
  const list = el("ul", null, "names");
  for (const [code, label] of Object.entries(NAME_LANGS)) {
    if (map && map[code]) list.append(el("li", `${label}: ${map[code]}`));
  }
  return list;
}

function situation(s) {
  if (!s) return "—";
  const parts = [s.status];
  if (s.status_since) parts.push(t("import.since", { date: s.status_since }));
  if (s.facility_id) parts.push(s.facility_id);
  return parts.join(", ");
}

function filled(cell, ...nodes) {
  cell.replaceChildren(...nodes);
}

function show(data, outcomes = []) {
  shown = { proposal: data, outcomes };
  location.hash = `proposal=${data.id}`;
  const results = Object.fromEntries(outcomes.map((o) => [o.change_id, o.result]));
  $("proposal").hidden = false;
  $("proposal-summary").textContent = t("import.summary", {
    id: data.id, source: data.source || "—", changes: formatNumber(data.changes.length),
    unchanged: formatNumber(data.unchanged), problems: formatNumber(data.problems.length),
  });
  $("problems").replaceChildren(...data.problems.map((p) => el("li", t("import.lineProblem", p))));
  const done = (change) => change.id in data.applied;
  syncRows($("changes").closest("table"), data.changes, {
    key: (change) => change.id,
    columns: [
      { create: (change, cell) => {
        const box = el("input");
        Object.assign(box, { type: "checkbox", id: `choose-${change.id}`, value: change.id });
        cell.append(box);
      }, update: (change, cell) => {
        cell.parentElement.dataset.change = change.id;
        cell.parentElement.className = done(change) ? "applied" : "";
        cell.firstChild.disabled = done(change);
        cell.firstChild.setAttribute("aria-label", `${kind(change.kind)}: ${change.prisoner_id}`);
      } },
      { update: (change, cell) => filled(cell, el("span", kind(change.kind), `badge ${change.kind}`),
        ...change.notes.map((note) => el("p", note, "muted"))) },
      (change) => formatNumber(change.line),
      { update: (change, cell) => filled(cell, el("code", change.prisoner_id),
        ...(change.directory_names ? [names(change.directory_names)] : [])) },
      { update: (change, cell) => filled(cell, names(change.list_names)) },
      (change) => situation(change.before),
      (change) => situation(change.after),
      { update: (change, cell) => {
        const said = results[change.id];
        cell.textContent = said ? result(said) : done(change) ? result("applied") : "";
        cell.className = said && said !== "applied" ? "result-refused" : "result-applied";
      } },
    ],
    empty: "",
  });
  $("apply").disabled = data.changes.every(done);
}

async function compare(event) {
  event.preventDefault();
  const file = $("file").files[0];
  if (!file) return;
  notice("");
  $("compare").disabled = true;
  try {
    const answer = await session.api("/directory/imports", {
      method: "POST", body: { csv: await file.text(), source: $("source").value },
    });
    if (answer.ok) show(answer.data);
    else notice(detail(answer.data, answer.status), "error");
  } finally {
    $("compare").disabled = false;
  }
}

async function apply() {
  const chosen = [...document.querySelectorAll("#changes input[type=checkbox]:checked")].map((box) => box.value);
  if (!chosen.length) return notice(t("import.chooseFirst"), "error");
  $("apply").disabled = true;
  const answer = await session.api(`/directory/imports/${encodeURIComponent(shown.proposal.id)}/apply`, {
    method: "POST", body: { change_ids: chosen },
  });
  if (!answer.ok) {
    $("apply").disabled = false;
    return notice(detail(answer.data, answer.status), "error");
  }
  const applied = answer.data.outcomes.filter((o) => o.result === "applied").length;
  notice(t("import.applied", { applied: formatNumber(applied), chosen: formatNumber(chosen.length) }), "ok");
  show(answer.data.proposal, answer.data.outcomes);
}

$("upload-form").addEventListener("submit", (event) => compare(event).catch(report));
$("apply").addEventListener("click", () => apply().catch(report));
onLangChange(() => shown && show(shown.proposal, shown.outcomes));
session.start();
