// Starts ReDoc on this service's own OpenAPI document (served from a file: the page's CSP allows
// no inline script). The theme only darkens colours that fell short of 4.5:1 in the axe audit.
/* global Redoc */
const theme = {
  colors: {
    text: { secondary: "#4b5563" },
    error: { main: "#b3261e" },
    responses: {
      success: { color: "#1b5e20", tabTextColor: "#81c784" },
      error: { color: "#b3261e", tabTextColor: "#ff8a80" },
      redirect: { color: "#8a4b00", tabTextColor: "#ffb74d" },
      info: { color: "#0b57a4", tabTextColor: "#90caf9" },
    },
  },
  schema: { requireLabelColor: "#b3261e" },
  typography: { code: { color: "#b3261e" } },
};

// ReDoc's example and content-type pickers are <select>s without a name: give them one.
function nameTheSelects(root) {
  for (const select of root.querySelectorAll("select:not([aria-label])")) {
    select.setAttribute("aria-label", "Choose an example");
  }
}

const root = document.getElementById("redoc");
new MutationObserver(() => nameTheSelects(root)).observe(root, { childList: true, subtree: true });

// No search box: ReDoc would run it in a worker made from a blob: URL, which the policy refuses.
Redoc.init("/openapi.json", { disableSearch: true, theme }, root, () => {
  nameTheSelects(root);
  const title = root.querySelector("h1");
  if (title) document.title = `${title.textContent.trim()} — ReDoc`;
});
