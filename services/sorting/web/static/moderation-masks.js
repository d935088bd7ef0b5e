// Masking a region of a photographed page: the moderator draws a rectangle (mouse, pen or finger,
// Pointer Events) over the line the censor must not see, or types its place in per cent of the page,
// and saves it with a short note. The server burns it into a new image of the page; the page shown
// here (and in the viewer) is that image, exactly as the scan prints it, with the region already black.
// Rectangles are shares 0..1 of the image as stored, never of a turned view.

import { $, detail, el, notice, report } from "/staff-kit/kit.js";
import { formatNumber, t } from "/staff-kit/i18n.js";

const SIDES = ["x", "y", "width", "height"];
// What the number fields show and take: per cent of the page, to a tenth.
const percent = (share) => Math.round(share * 1000) / 10;
const clamp = (value) => Math.min(1, Math.max(0, value));

const drawing = { rect: null, start: null, page: 1 };

/** Wire the mask form once. `current()` is the letter on screen; `saved(letter)` takes the server's answer. */
export function wireMasks({ api, current, saved }) {
  $("mask-start").addEventListener("click", () => startMask(current()));
  $("mask-page").addEventListener("change", () => showPage(current(), Number($("mask-page").value)));
  for (const side of SIDES) $(`mask-${side}`).addEventListener("input", fromNumbers);
  const stage = $("mask-stage");
  stage.addEventListener("pointerdown", (event) => {
    if (event.button !== 0) return;
    event.preventDefault();
    stage.setPointerCapture(event.pointerId);
    drawing.start = at(event);
    setRect({ x: drawing.start.x, y: drawing.start.y, width: 0, height: 0 });
  });
  stage.addEventListener("pointermove", (event) => {
    if (!drawing.start) return;
    const end = at(event);
    setRect({
      x: Math.min(drawing.start.x, end.x), y: Math.min(drawing.start.y, end.y),
      width: Math.abs(end.x - drawing.start.x), height: Math.abs(end.y - drawing.start.y),
    });
  });
  const finish = () => { drawing.start = null; };
  stage.addEventListener("pointerup", finish);
  stage.addEventListener("pointercancel", finish);
  $("mask-form").addEventListener("submit", (event) => {
    event.preventDefault();
    saveMask(api, current(), saved).catch(report);
  });
  $("mask-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-mask-id]");
    if (button) removeMask(api, current(), button.dataset.maskId, saved).catch(report);
  });
}

/** The masks section of a letter: shown for photographed pages that are printed (not for a translation). */
export function renderMasks(letter) {
  const section = $("masks");
  section.hidden = !letter.pages.length || Boolean(letter.translation);
  if (section.hidden) return;
  const open = letter.state === "review_needed";
  $("mask-start").disabled = !open;
  $("mask-list").replaceChildren(...letter.masks.map((mask) => {
    const item = el("li", null, "mask-item");
    item.dataset.maskId = mask.id;
    let text = t("mod.mask.item", {
      n: mask.page, x: formatNumber(percent(mask.x)), y: formatNumber(percent(mask.y)),
      w: formatNumber(percent(mask.width)), h: formatNumber(percent(mask.height)), by: mask.by,
    });
    if (mask.note) text += ` — «${mask.note}»`;
    const remove = el("button", t("mod.mask.remove"), "quiet");
    remove.type = "button";
    remove.dataset.maskId = mask.id;
    remove.disabled = !open;
    remove.setAttribute("aria-label", t("mod.mask.removeLabel", { n: mask.page }));
    item.append(el("span", text), remove);
    return item;
  }));
  $("mask-none").hidden = letter.masks.length > 0;
  const form = $("mask-form");
  // A page of the letter on screen: its image may be a new one after a save (links change).
  if (!form.hidden) showPage(letter, drawing.page, { keepRect: true });
}

function startMask(letter) {
  if (!letter || letter.state !== "review_needed" || !letter.pages.length) return;
  // The letter's other forms close (one form at a time, as the decision forms do).
  for (const form of document.querySelectorAll(".decision-form")) form.hidden = true;
  $("mask-page").replaceChildren(...letter.pages.map((page) => {
    const option = el("option", t("mod.page", { n: page.number }));
    option.value = String(page.number);
    return option;
  }));
  $("mask-note").value = "";
  $("mask-form").hidden = false;
  showPage(letter, letter.pages[0].number);
  $("mask-page").focus();
}

function showPage(letter, number, { keepRect = false } = {}) {
  const page = letter.pages.find((p) => p.number === number) || letter.pages[0];
  drawing.page = page.number;
  $("mask-page").value = String(page.number);
  const image = $("mask-image");
  if (image.getAttribute("src") !== page.url) image.src = page.url;
  image.alt = t("mod.mask.imageAlt", { n: page.number });
  if (!keepRect) setRect(null);
}

// Where a pointer is, as shares of the image (the stage wraps the image exactly).
function at(event) {
  const box = $("mask-image").getBoundingClientRect();
  return { x: clamp((event.clientX - box.left) / (box.width || 1)), y: clamp((event.clientY - box.top) / (box.height || 1)) };
}

function setRect(rect) {
  drawing.rect = rect;
  const box = $("mask-box");
  box.hidden = !rect || !(rect.width > 0 && rect.height > 0);
  if (rect) {
    Object.assign(box.style, {
      left: `${rect.x * 100}%`, top: `${rect.y * 100}%`, width: `${rect.width * 100}%`, height: `${rect.height * 100}%`,
    });
  }
  for (const side of SIDES) {
    const input = $(`mask-${side}`);
    if (document.activeElement !== input) input.value = rect ? String(percent(rect[side])) : "";
  }
}

// A keyboard (or a careful hand) gives the rectangle in per cent; the drawing follows.
function fromNumbers() {
  const values = Object.fromEntries(SIDES.map((side) => [side, Number($(`mask-${side}`).value) / 100]));
  if (SIDES.some((side) => $(`mask-${side}`).value === "" || !Number.isFinite(values[side]))) return;
  setRect({ x: clamp(values.x), y: clamp(values.y), width: clamp(values.width), height: clamp(values.height) });
}

async function saveMask(api, letter, saved) {
  const rect = drawing.rect;
  if (!letter || !rect || !(rect.width > 0 && rect.height > 0)) {
    notice(t("mod.mask.drawFirst"), "warn");
    return;
  }
  const answer = await api(`/letters/${encodeURIComponent(letter.id)}/masks`, {
    method: "POST",
    body: { page: drawing.page, ...rect, note: $("mask-note").value, revision: letter.revision },
  });
  if (!answer.ok) {
    notice(detail(answer.data, answer.status), answer.status === 409 ? "warn" : "error");
    return;
  }
  $("mask-form").hidden = true;
  if ($("mask-form").contains(document.activeElement)) document.activeElement.blur();
  setRect(null);
  notice(t("mod.mask.saved", { n: drawing.page }), "ok");
  await saved(answer.data);
}

async function removeMask(api, letter, maskId, saved) {
  if (!letter) return;
  const path = `/letters/${encodeURIComponent(letter.id)}/masks/${encodeURIComponent(maskId)}?revision=${letter.revision}`;
  const answer = await api(path, { method: "DELETE" });
  if (!answer.ok) {
    notice(detail(answer.data, answer.status), answer.status === 409 ? "warn" : "error");
    return;
  }
  notice(t("mod.mask.removed"), "ok");
  await saved(answer.data);
}
