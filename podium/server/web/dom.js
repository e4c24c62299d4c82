// Building DOM from data. Text from tools, models and people is only ever set as text
// (createTextNode / textContent): nothing here parses a string as HTML.

const FOLD = 2000; // characters shown of a long text before "show all"

/** An element with attributes (class, title, ... never an event handler) and children. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) throw new Error("no event handlers through attributes");
    element.setAttribute(name, value === true ? "" : String(value));
  }
  append(element, ...children);
  return element;
}

/** Append children: strings and numbers become text nodes, arrays are flattened. */
export function append(element, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return element;
}

export function clear(element) {
  while (element.firstChild) element.firstChild.remove();
  return element;
}

/** A block of preformatted text, folded after FOLD characters with a button to unfold. */
export function folded(text, className = "out") {
  const full = String(text ?? "");
  const pre = h("pre", { class: className });
  if (full.length <= FOLD) {
    pre.textContent = full;
    return pre;
  }
  pre.textContent = full.slice(0, FOLD);
  const more = h("button", { type: "button", class: "link" },
    `show all ${full.length.toLocaleString()} characters`);
  more.addEventListener("click", () => {
    pre.textContent = full;
    more.remove();
  });
  return h("div", { class: "folded" }, pre, more);
}

/** Arguments as indented JSON text. */
export function json(value) {
  try {
    return JSON.stringify(value, null, 2);
  } catch {
    return String(value);
  }
}

export function clock(seconds) {
  if (!seconds) return "";
  const when = new Date(seconds * 1000);
  return when.toLocaleTimeString([], { hour: "2-digit", minute: "2-digit", second: "2-digit" });
}

export function ms(value) {
  if (value === undefined || value === null) return "";
  return value >= 1000 ? `${(value / 1000).toFixed(2)} s` : `${value.toFixed(1)} ms`;
}

export function shorten(text, length = 80) {
  const plain = String(text ?? "").replace(/\s+/g, " ").trim();
  return plain.length > length ? `${plain.slice(0, length - 1)}…` : plain;
}
