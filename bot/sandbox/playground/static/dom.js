// The one way the page builds DOM: attributes and text set through the DOM API, never HTML strings.

/** h("div", {class, dataset, onclick, text, ...attributes}, ...children) */
export function h(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === "class") node.className = value;
    else if (key === "dataset") Object.assign(node.dataset, value);
    else if (key.startsWith("on") && typeof value === "function") node.addEventListener(key.slice(2), value);
    else if (key === "text") node.textContent = value;
    else node.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) {
    if (child !== undefined && child !== null && child !== false) node.append(child);
  }
  return node;
}

/** What the page cannot draw is shown as such, never dropped silently. */
export function unsupported(type, what = "element") {
  return h("span", { class: "unsupported", "data-testid": "unsupported", title: `Unknown ${what} type`,
    text: `[unsupported: ${type === undefined ? "(no type)" : type}]` });
}

const ICONS = {
  lock: "M5 7V5a3 3 0 0 1 6 0v2h1v7H4V7h1zm1.5 0h3V5a1.5 1.5 0 0 0-3 0v2z",
  hash: "M6 2h1.5l-.5 3h3l.5-3H12l-.5 3H14v1.5h-2.75l-.5 3H13V11h-2.5l-.5 3H8.5l.5-3h-3l-.5 3H4l.5-3H2V9.5h2.75l.5-3H3V5h2.5L6 2zm.75 4.5-.5 3h3l.5-3h-3z",
  home: "M8 2 1.5 7.5l1 1.2L3.5 8v6h3.5v-4h2v4h3.5V8l1 .7 1-1.2L8 2z",
  eye: "M8 3.5c3.3 0 5.8 2.6 6.8 4.5-1 1.9-3.5 4.5-6.8 4.5S2.2 9.9 1.2 8C2.2 6.1 4.7 3.5 8 3.5zm0 1.7a2.8 2.8 0 1 0 0 5.6 2.8 2.8 0 0 0 0-5.6zm0 1.4a1.4 1.4 0 1 1 0 2.8 1.4 1.4 0 0 1 0-2.8z",
  dot: "M8 4.5a3.5 3.5 0 1 1 0 7 3.5 3.5 0 0 1 0-7z",
};

/** A small inline icon (SVG built node by node: no emoji font needed, nothing fetched). */
export function icon(name) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", "0 0 16 16");
  svg.setAttribute("width", "14");
  svg.setAttribute("height", "14");
  svg.setAttribute("aria-hidden", "true");
  svg.setAttribute("class", "icon");
  const path = document.createElementNS(ns, "path");
  path.setAttribute("d", ICONS[name] || ICONS.dot);
  path.setAttribute("fill", "currentColor");
  path.setAttribute("fill-rule", "evenodd");
  svg.append(path);
  return svg;
}
