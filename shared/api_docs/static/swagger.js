// Starts Swagger UI on this service's own OpenAPI document (served from a file: the page's CSP
// allows no inline script).
/* global SwaggerUIBundle */
SwaggerUIBundle({
  url: "/openapi.json",
  dom_id: "#swagger-ui",
  layout: "BaseLayout",
  // Deep links put a link inside each operation's button (axe: nested-interactive).
  deepLinking: false,
  showExtensions: true,
  showCommonExtensions: true,
  // The default validator badge asks a public server about the document: never.
  validatorUrl: null,
  presets: [SwaggerUIBundle.presets.apis, SwaggerUIBundle.SwaggerUIStandalonePreset],
  onComplete() {
    const title = document.querySelector("#swagger-ui .title");
    if (title) document.title = `${title.firstChild.textContent.trim()} — Swagger UI`;
  },
});
