// A QR code of a letter's receipt link, drawn on the device (no network, no third party): the kiosk's
// thank-you screen shows it so that a visitor can follow their letter on their own phone.
// The code comes from qrcode-generator (vendor/, MIT); it is drawn as SVG elements, not markup.

import qrcode from "./vendor/qrcode-generator.js";

const SVG = "http://www.w3.org/2000/svg";
// A quiet zone of four modules all round, as the QR standard asks, so that any phone reads it.
const MARGIN = 4;

/** An <svg> of the QR code for `text`; error correction M survives a smudged or glaring screen. */
export function qrCodeSvg(text, { label = "" } = {}) {
  const code = qrcode(0, "M");
  code.addData(text);
  code.make();
  const count = code.getModuleCount();
  const size = count + MARGIN * 2;
  let path = "";
  for (let row = 0; row < count; row += 1) {
    for (let col = 0; col < count; col += 1) {
      if (code.isDark(row, col)) path += `M${col + MARGIN} ${row + MARGIN}h1v1h-1z`;
    }
  }
  const svg = document.createElementNS(SVG, "svg");
  svg.setAttribute("viewBox", `0 0 ${size} ${size}`);
  svg.setAttribute("shape-rendering", "crispEdges");
  svg.setAttribute("role", "img");
  if (label) svg.setAttribute("aria-label", label);
  const background = document.createElementNS(SVG, "rect");
  background.setAttribute("width", String(size));
  background.setAttribute("height", String(size));
  background.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", path);
  modules.setAttribute("fill", "#000");
  svg.append(background, modules);
  return svg;
}
