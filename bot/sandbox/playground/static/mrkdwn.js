// Slack's mrkdwn and plain_text objects, rendered into DOM nodes.
//
// Everything here builds nodes with createElement/textContent: text from a message (which may
// carry a user's input) never becomes HTML. Slack escapes &, < and > in message text as
// entities; they are decoded only into text nodes.

export const EMOJI = {
  alarm_clock: "⏰", arrow_forward: "▶️", ballot_box_with_check: "☑️", bell: "🔔", busts_in_silhouette: "👥",
  calendar: "📆", clock3: "🕒", earth_asia: "🌏", eyes: "👀", file_cabinet: "🗄️", floppy_disk: "💾",
  gear: "⚙️", heavy_check_mark: "✔️", heavy_multiplication_x: "✖️", hourglass: "⌛",
  hourglass_flowing_sand: "⏳", inbox_tray: "📥", information_source: "ℹ️", key: "🔑",
  large_blue_circle: "🔵", large_green_circle: "🟢", large_yellow_circle: "🟡", lock: "🔒", moneybag: "💰",
  no_entry: "⛔", no_entry_sign: "🚫", outbox_tray: "📤", red_circle: "🔴", repeat: "🔁", rocket: "🚀",
  rotating_light: "🚨", scales: "⚖️", shield: "🛡️", snowflake: "❄️", tada: "🎉", thumbsup: "👍",
  "+1": "👍", warning: "⚠️", white_check_mark: "✅", white_circle: "⚪", x: "❌", zap: "⚡",
};

const ENTITIES = { "&lt;": "<", "&gt;": ">", "&amp;": "&" };
const HOLD = /\uE000(\d+)\uE001/g;
const MARKS = { "*": "b", _: "i", "~": "s" };

let clockOffsetMs = 0;

/** The bot's clock may be moved ("advance time"): "today" and "ago" follow it. */
export function setClockOffset(seconds) {
  clockOffsetMs = Number(seconds || 0) * 1000;
}

function now() {
  return Date.now() + clockOffsetMs;
}

export function decode(text) {
  return String(text).replace(/&(lt|gt|amp);/g, (m) => ENTITIES[m]);
}

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** A text object ({type: "mrkdwn"|"plain_text", text}) as a fragment. */
export function textObject(obj, names) {
  if (!obj || typeof obj !== "object") return document.createDocumentFragment();
  if (obj.type === "mrkdwn") return mrkdwn(obj.text || "", names);
  return plainText(obj.text || "", obj.emoji !== false);
}

/** plain_text: shown as typed (Slack does not escape it), only :emoji: replaced. */
export function plainText(text, emoji = true) {
  const frag = document.createDocumentFragment();
  if (!emoji) {
    frag.append(String(text));
    return frag;
  }
  let last = 0;
  for (const m of String(text).matchAll(/:([a-z0-9_+'-]+):/g)) {
    if (!EMOJI[m[1]]) continue;
    frag.append(text.slice(last, m.index), emojiNode(m[1]));
    last = m.index + m[0].length;
  }
  frag.append(String(text).slice(last));
  return frag;
}

/** The text of a text object, without markup (option labels in native selects). */
export function flatText(obj) {
  const text = obj && typeof obj === "object" ? obj.text || "" : String(obj || "");
  const holder = el("span");
  holder.append(obj && obj.type === "mrkdwn" ? mrkdwn(text, {}) : plainText(text));
  return holder.textContent;
}

const EMOJI_FONT = '16px "Apple Color Emoji", "Segoe UI Emoji", "Noto Color Emoji", sans-serif';
const drawable = new Map();
let missingGlyph = null;

function glyphPixels(text) {
  const canvas = document.createElement("canvas");
  canvas.width = 24;
  canvas.height = 24;
  const pen = canvas.getContext("2d", { willReadFrequently: true });
  pen.font = EMOJI_FONT;
  pen.textBaseline = "top";
  pen.fillText(text, 0, 2);
  return pen.getImageData(0, 0, 24, 24).data.join(",");
}

/** Whether this machine has a glyph for the emoji (without an emoji font it would be an empty box). */
function canDraw(char) {
  if (!drawable.has(char)) {
    try {
      missingGlyph = missingGlyph || glyphPixels("\u{10FFFD}");
      drawable.set(char, glyphPixels(char) !== missingGlyph);
    } catch (_noCanvas) {
      drawable.set(char, true); // cannot tell: draw it
    }
  }
  return drawable.get(char);
}

// Without an emoji font (a bare Linux), a plain symbol in the emoji's colour still says the state.
const PLAIN = {
  large_green_circle: ["●", "#2eb67d"], red_circle: ["●", "#e01e5a"], large_yellow_circle: ["●", "#ecb22e"],
  large_blue_circle: ["●", "#1264a3"], white_circle: ["○", "#616061"], rotating_light: ["◉", "#e01e5a"],
  white_check_mark: ["✔", "#2eb67d"], heavy_check_mark: ["✔", "#1d1c1d"], ballot_box_with_check: ["☑", "#1264a3"],
  x: ["✖", "#e01e5a"], heavy_multiplication_x: ["✖", "#616061"], no_entry: ["⊘", "#e01e5a"],
  no_entry_sign: ["⊘", "#e01e5a"], warning: ["⚠", "#ecb22e"], gear: ["⚙", "#616061"], snowflake: ["❄", "#1264a3"],
  scales: ["⚖", "#616061"], arrow_forward: ["▶", "#1264a3"], repeat: ["⟳", "#1264a3"], alarm_clock: ["◷", "#e01e5a"],
  clock3: ["◷", "#616061"], hourglass: ["⧗", "#616061"], hourglass_flowing_sand: ["⧗", "#ecb22e"],
  information_source: ["ℹ", "#1264a3"], lock: ["⚿", "#616061"], key: ["⚷", "#616061"],
};

function emojiNode(name) {
  const plain = PLAIN[name];
  if (!canDraw(EMOJI[name]) && plain && canDraw(plain[0])) {
    const node = el("span", "emoji emoji-plain", plain[0]);
    node.style.color = plain[1];
    node.title = `:${name}:`;
    node.setAttribute("role", "img");
    node.setAttribute("aria-label", name.replace(/_/g, " "));
    return node;
  }
  if (!canDraw(EMOJI[name])) {
    const node = el("span", "emoji-missing", `:${name}:`);
    node.title = "No emoji font on this machine";
    return node;
  }
  const node = el("span", "emoji", EMOJI[name]);
  node.title = `:${name}:`;
  node.setAttribute("aria-label", name.replace(/_/g, " "));
  node.setAttribute("role", "img");
  return node;
}

/** mrkdwn text as a fragment: ```pre```, > quotes, then inline markup per line. */
export function mrkdwn(text, names = {}) {
  const frag = document.createDocumentFragment();
  const parts = String(text).split(/```/);
  parts.forEach((part, i) => {
    if (i % 2 === 1 && i < parts.length - 1) {
      frag.append(el("pre", "mk-pre", decode(part.replace(/^\n/, ""))));
    } else {
      const chunk = i % 2 === 1 ? "```" + part : part; // an unclosed fence stays text
      appendLines(frag, chunk, names);
    }
  });
  return frag;
}

function appendLines(frag, text, names) {
  if (!text) return;
  const lines = text.split("\n");
  let quote = null;
  let first = true;
  for (const line of lines) {
    const quoted = /^(&gt;|>) ?/.exec(line);
    if (quoted) {
      if (!quote) {
        quote = el("blockquote", "mk-quote");
        frag.append(quote);
      } else {
        quote.append(el("br"));
      }
      quote.append(inline(line.slice(quoted[0].length), names));
      first = true;
      continue;
    }
    if (quote) {
      quote = null;
      first = true;
    }
    if (!first) frag.append(el("br"));
    frag.append(inline(line, names));
    first = false;
  }
}

/** One line: `code`, <tokens> and :emoji: are set aside first, so *, _ and ~ inside them stay text. */
export function inline(text, names = {}) {
  const held = [];
  const hold = (node) => `\uE000${held.push(node) - 1}\uE001`;
  let s = String(text);
  s = s.replace(/`([^`]+)`/g, (_m, code) => hold(el("code", "mk-code", decode(code))));
  s = s.replace(/<([^<>]+)>/g, (_m, inner) => hold(angle(inner, names)));
  s = s.replace(/:([a-z0-9_+'-]+):/g, (m, name) => hold(EMOJI[name] ? emojiNode(name) : document.createTextNode(m)));
  const frag = document.createDocumentFragment();
  frag.append(...formatted(s, held));
  return frag;
}

function markPattern(mark) {
  const m = mark === "*" ? "\\*" : mark;
  // Opens after a start, space or punctuation; never next to a space inside; closes before the same.
  return new RegExp(`(^|[^\\p{L}\\p{N}${m}])${m}(?!\\s)([^${m}\\n]*?[^\\s${m}])${m}(?![\\p{L}\\p{N}${m}])`, "u");
}

const PATTERNS = Object.keys(MARKS).map((mark) => [mark, markPattern(mark)]);

function formatted(s, held) {
  const nodes = [];
  let rest = s;
  while (rest) {
    let best = null;
    for (const [mark, pattern] of PATTERNS) {
      const m = pattern.exec(rest);
      if (m && (!best || m.index + m[1].length < best.start)) best = { mark, m, start: m.index + m[1].length };
    }
    if (!best) {
      nodes.push(...expand(rest, held));
      break;
    }
    nodes.push(...expand(rest.slice(0, best.start), held));
    const node = el(MARKS[best.mark], `mk-${MARKS[best.mark]}`);
    node.append(...formatted(best.m[2], held));
    nodes.push(node);
    rest = rest.slice(best.m.index + best.m[0].length);
  }
  return nodes;
}

function expand(s, held) {
  const nodes = [];
  let last = 0;
  for (const m of s.matchAll(HOLD)) {
    if (m.index > last) nodes.push(document.createTextNode(decode(s.slice(last, m.index))));
    nodes.push(held[Number(m[1])]);
    last = m.index + m[0].length;
  }
  if (last < s.length) nodes.push(document.createTextNode(decode(s.slice(last))));
  return nodes;
}

/** <…>: a mention, a channel, a special mention, a date or a link; anything else as typed. */
function angle(inner, names) {
  const bar = inner.indexOf("|");
  const target = bar >= 0 ? inner.slice(0, bar) : inner;
  const label = bar >= 0 ? decode(inner.slice(bar + 1)) : "";
  if (/^@[UW][A-Z0-9]+$/.test(target)) {
    const node = el("span", "mention", "@" + (label || (names.user && names.user(target.slice(1))) || target.slice(1)));
    node.dataset.userId = target.slice(1);
    return node;
  }
  if (/^#[CGD][A-Z0-9]+$/.test(target)) {
    return el("span", "mention channel-mention",
      "#" + (label || (names.channel && names.channel(target.slice(1))) || target.slice(1)));
  }
  if (target.startsWith("!date^")) return dateNode(target, label);
  if (target.startsWith("!subteam^")) {
    const id = target.slice("!subteam^".length);
    const name = label || (names.group && names.group(id)) || id;
    return el("span", "mention", name.startsWith("@") ? name : "@" + name);
  }
  if (/^!(here|channel|everyone)$/.test(target)) return el("span", "mention mention-all", "@" + target.slice(1));
  if (/^(https?:\/\/|mailto:)/i.test(target)) {
    const a = el("a", "mk-link", label || decode(target));
    a.href = decode(target);
    a.target = "_blank";
    a.rel = "noopener noreferrer";
    return a;
  }
  return document.createTextNode(decode(`<${inner}>`));
}

function dateNode(target, fallback) {
  const [, epochText, format = "{date_short_pretty} {time}", link] = target.split("^");
  const epoch = Number(epochText);
  if (!Number.isFinite(epoch)) return document.createTextNode(fallback);
  const text = formatDate(epoch, decode(format));
  let node;
  if (link && /^https?:\/\//i.test(link)) {
    node = el("a", "mk-date", text);
    node.href = link;
    node.target = "_blank";
    node.rel = "noopener noreferrer";
  } else {
    node = el("time", "mk-date", text);
  }
  node.title = fallback || new Date(epoch * 1000).toISOString();
  node.dataset.epoch = String(epoch);
  if (node.tagName === "TIME") node.dateTime = new Date(epoch * 1000).toISOString();
  return node;
}

function ordinal(day) {
  const tens = day % 100;
  if (tens >= 11 && tens <= 13) return `${day}th`;
  return `${day}${["th", "st", "nd", "rd"][day % 10] || "th"}`;
}

function dayDiff(date) {
  const today = new Date(now());
  const a = Date.UTC(date.getFullYear(), date.getMonth(), date.getDate());
  const b = Date.UTC(today.getFullYear(), today.getMonth(), today.getDate());
  return Math.round((a - b) / 86400000);
}

function ago(epoch) {
  const seconds = Math.round(epoch - now() / 1000);
  const units = [["year", 31536000], ["month", 2592000], ["day", 86400], ["hour", 3600], ["minute", 60]];
  const rtf = new Intl.RelativeTimeFormat(undefined, { numeric: "auto" });
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return rtf.format(Math.round(seconds / size), unit);
  }
  return rtf.format(seconds, "second");
}

/** Slack's <!date> tokens, in this browser's zone (each reader sees their own). */
export function formatDate(epoch, format) {
  const date = new Date(epoch * 1000);
  const fmt = (options) => new Intl.DateTimeFormat(undefined, options).format(date);
  const month = fmt({ month: "long" });
  const full = `${month} ${ordinal(date.getDate())}, ${date.getFullYear()}`;
  const plain = {
    date_num: `${date.getFullYear()}-${String(date.getMonth() + 1).padStart(2, "0")}-${String(date.getDate()).padStart(2, "0")}`,
    date: full,
    date_short: fmt({ month: "short", day: "numeric", year: "numeric" }),
    date_long: `${fmt({ weekday: "long" })}, ${full}`,
    time: fmt({ hour: "numeric", minute: "2-digit" }),
    time_secs: fmt({ hour: "numeric", minute: "2-digit", second: "2-digit" }),
    ago: ago(epoch),
  };
  const relative = { "-1": "Yesterday", 0: "Today", 1: "Tomorrow" }[dayDiff(date)];
  for (const kind of ["date", "date_short", "date_long"]) plain[`${kind}_pretty`] = relative || plain[kind];
  return format.replace(/\{([a-z_]+)\}/g, (m, token) => (token in plain ? plain[token] : m));
}
