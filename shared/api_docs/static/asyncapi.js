// This service's AsyncAPI document (/asyncapi.json), readable: servers, channels, operations,
// messages and their payload schemas. Our own renderer instead of FastStream's page (which loads
// the AsyncAPI React component from a CDN and compiles its parser at run time, both refused by
// the page's policy). Every value reaches the page as text, never as markup.

const $ = (id) => document.getElementById(id);

function element(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value !== undefined && value !== null) node.setAttribute(name, value);
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== "") node.append(child);
  }
  return node;
}

// Internal references only ("#/components/…"), the only kind FastStream writes.
function resolve(document, value) {
  if (!value || typeof value !== "object" || typeof value.$ref !== "string") return value;
  return value.$ref.replace(/^#\//, "").split("/").reduce(
    (node, key) => (node ? node[key.replace(/~1/g, "/").replace(/~0/g, "~")] : undefined), document) ?? value;
}

const refName = (value) => (value && typeof value.$ref === "string" ? value.$ref.split("/").pop() : null);
const anchor = (kind, name) => `${kind}-${name.replace(/[^A-Za-z0-9_.-]/g, "_")}`;
const link = (kind, name) => element("a", { href: `#${anchor(kind, name)}` }, name);

function typeOf(document, schema) {
  const name = refName(schema);
  if (name) return link("schema", name);
  const resolved = resolve(document, schema) || {};
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    if (Array.isArray(resolved[key])) {
      const parts = resolved[key].map((option) => typeOf(document, option));
      return element("span", {}, ...parts.flatMap((part, index) => (index ? [" | ", part] : [part])));
    }
  }
  if (resolved.type === "array") return element("span", {}, "array of ", typeOf(document, resolved.items));
  const text = [resolved.type, resolved.format ? `(${resolved.format})` : ""].filter(Boolean).join(" ");
  return text || "any";
}

function schemaTable(document, schema, caption) {
  const resolved = resolve(document, schema) || {};
  const properties = Object.entries(resolved.properties || {});
  if (!properties.length) return element("p", {}, "Type: ", typeOf(document, schema));
  const required = new Set(resolved.required || []);
  return element("table", {},
    element("caption", {}, caption),
    element("thead", {}, element("tr", {},
      element("th", { scope: "col" }, "field"), element("th", { scope: "col" }, "type"),
      element("th", { scope: "col" }, "required"), element("th", { scope: "col" }, "description"))),
    element("tbody", {}, properties.map(([name, property]) => {
      const about = resolve(document, property) || {};
      return element("tr", {},
        element("th", { scope: "row" }, element("code", {}, name)),
        element("td", {}, typeOf(document, property)),
        element("td", {}, required.has(name) ? "yes" : "no"),
        element("td", {}, about.description || about.title || ""));
    })));
}

function messageNames(document, messages) {
  return Object.entries(messages || {}).map(([key, message]) => refName(message) || key);
}

function renderServers(document) {
  const section = $("servers");
  for (const [name, server] of Object.entries(document.servers || {})) {
    section.append(element("article", { id: anchor("server", name) },
      element("h3", {}, name),
      element("p", {}, `${server.protocol || ""} ${server.protocolVersion || ""} · `,
        element("code", {}, `${server.host || ""}${server.pathname || ""}`)),
      server.description ? element("p", {}, server.description) : null));
  }
  section.hidden = !section.querySelector("article");
}

function renderChannels(document) {
  const section = $("channels");
  for (const [name, channel] of Object.entries(document.channels || {})) {
    const names = messageNames(document, channel.messages);
    section.append(element("article", { id: anchor("channel", name) },
      element("h3", {}, element("code", { class: "address" }, channel.address || name)),
      channel.description ? element("p", {}, channel.description) : null,
      names.length ? element("p", {}, "Messages: ", names.flatMap((m, i) => (i ? [", ", link("message", m)] : [link("message", m)]))) : null));
  }
  section.hidden = !section.querySelector("article");
}

function renderOperations(document) {
  const section = $("operations");
  for (const [name, operation] of Object.entries(document.operations || {})) {
    const channel = resolve(document, operation.channel) || {};
    const channelName = refName(operation.channel);
    section.append(element("article", { id: anchor("operation", name) },
      element("h3", {}, element("span", { class: `action ${operation.action}` }, operation.action || ""), " ",
        element("code", {}, channel.address || channelName || name)),
      operation.summary ? element("p", {}, operation.summary) : null,
      operation.description ? element("p", {}, operation.description) : null,
      channelName ? element("p", {}, "Channel: ", link("channel", channelName)) : null));
  }
  section.hidden = !section.querySelector("article");
}

function renderMessages(document) {
  const section = $("messages");
  for (const [name, message] of Object.entries(document.components?.messages || {})) {
    section.append(element("article", { id: anchor("message", name) },
      element("h3", {}, message.title || name),
      message.summary ? element("p", {}, message.summary) : null,
      message.description ? element("p", {}, message.description) : null,
      message.contentType ? element("p", {}, "Content type: ", element("code", {}, message.contentType)) : null,
      schemaTable(document, message.payload, `Payload of ${message.title || name}`)));
  }
  section.hidden = !section.querySelector("article");
}

function renderSchemas(document) {
  const section = $("schemas");
  for (const [name, schema] of Object.entries(document.components?.schemas || {})) {
    const values = Array.isArray(schema.enum) ? element("p", {}, "One of: ", schema.enum.join(", ")) : null;
    section.append(element("article", { id: anchor("schema", name) },
      element("h3", {}, schema.title || name),
      schema.description ? element("p", {}, schema.description) : null,
      values || schemaTable(document, schema, `Fields of ${schema.title || name}`)));
  }
  section.hidden = !section.querySelector("article");
}

async function main() {
  try {
    const answer = await fetch("/asyncapi.json", { headers: { Accept: "application/json" } });
    if (!answer.ok) throw new Error(`the document answered ${answer.status}`);
    const document = await answer.json();
    const { title = "Messages", version = "", description = "" } = document.info || {};
    $("title").textContent = `${title} ${version}`.trim();
    window.document.title = `${title} — AsyncAPI`;
    $("summary").textContent = description;
    $("version").textContent = document.asyncapi || "";
    renderServers(document);
    renderChannels(document);
    renderOperations(document);
    renderMessages(document);
    renderSchemas(document);
    $("loading").remove();
  } catch (error) {
    $("loading").textContent = `The AsyncAPI document could not be read: ${error.message}`;
  }
}

main();
