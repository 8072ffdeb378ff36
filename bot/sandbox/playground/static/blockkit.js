// Block Kit blocks and elements as Slack shows them, built with DOM calls only (no HTML strings).
//
// renderBlocks(blocks, ctx) draws messages, modals and App Home. ctx:
//   names:   {user(id), channel(id), group(id)} -> display names for mentions
//   onAction(block, element, extra): a button, overflow option or select in a message/modal/home
//   confirm(dialog): Promise<boolean> for elements with a confirm object (default: a dialog here)
//   input:   for modals, the form's values (see inputs.js); errors: {block_id: message}
//   idPrefix: keeps ids unique when several surfaces are on the page
// Anything this file does not know is drawn as "[unsupported: <type>]", never dropped silently.

import { flatText, mrkdwn, plainText, textObject } from "./mrkdwn.js";
import { h, unsupported } from "./dom.js";
import { renderInputElement, INPUT_TYPES } from "./inputs.js";

export { h, unsupported };

const BLOCKS = {
  section: sectionBlock,
  header: (block, ctx) => h("div", { class: "bk-header", role: "heading", "aria-level": "3" }, textObject(block.text, ctx.names)),
  divider: () => h("hr", { class: "bk-divider" }),
  context: contextBlock,
  actions: (block, ctx) => h("div", { class: "bk-actions" }, (block.elements || []).map((el) => renderElement(el, block, ctx))),
  input: inputBlock,
  image: imageBlock,
  rich_text: richTextBlock,
};

export function renderBlocks(blocks, ctx = {}) {
  const holder = h("div", { class: "blocks" });
  for (const block of blocks || []) holder.append(renderBlock(block, ctx));
  return holder;
}

export function renderBlock(block, ctx = {}) {
  if (!block || typeof block !== "object") return h("div", { class: "block" }, unsupported(typeof block, "block"));
  const draw = BLOCKS[block.type];
  const node = h("div", { class: `block block-${String(block.type).replace(/[^a-z_]/g, "")}`,
    "data-block-id": block.block_id, "data-block-type": block.type });
  node.append(draw ? draw(block, ctx) : unsupported(block.type, "block"));
  return node;
}

function sectionBlock(block, ctx) {
  const body = h("div", { class: "bk-section-body" });
  if (block.text) body.append(h("div", { class: "bk-text" }, textObject(block.text, ctx.names)));
  if (block.fields && block.fields.length) {
    body.append(h("div", { class: "bk-fields" },
      block.fields.map((f) => h("div", { class: "bk-field" }, textObject(f, ctx.names)))));
  }
  const row = h("div", { class: "bk-section" }, body);
  if (block.accessory) row.append(h("div", { class: "bk-accessory" }, renderElement(block.accessory, block, ctx)));
  return row;
}

function contextBlock(block, ctx) {
  return h("div", { class: "bk-context" }, (block.elements || []).map((el) => {
    if (el.type === "image") return imageElement(el, "bk-context-image");
    if (el.type === "mrkdwn" || el.type === "plain_text") {
      return h("span", { class: "bk-context-item" }, textObject(el, ctx.names));
    }
    return unsupported(el.type);
  }));
}

/** Only same-page images are shown: the playground fetches nothing from the internet. */
function safeImage(url) {
  return typeof url === "string" && (url.startsWith("data:image/") || url.startsWith("/"));
}

function imageElement(el, className) {
  const url = el.image_url || (el.slack_file && el.slack_file.url);
  if (safeImage(url)) return h("img", { class: className, src: url, alt: el.alt_text || "" });
  return h("span", { class: `${className} image-placeholder`, title: url || "", text: `🖼 ${el.alt_text || "image"}` });
}

function imageBlock(block, ctx) {
  return h("figure", { class: "bk-image" },
    block.title ? h("figcaption", {}, textObject(block.title, ctx.names)) : null,
    imageElement(block, "bk-image-img"));
}

function inputBlock(block, ctx) {
  const el = block.element || {};
  const id = `${ctx.idPrefix || "bk"}-${block.block_id || "b"}-${el.action_id || "a"}`.replace(/[^A-Za-z0-9_-]/g, "_");
  const error = ctx.errors && ctx.errors[block.block_id];
  const label = h("label", { class: "bk-label", for: id, id: `${id}-label` }, plainText(flatText(block.label)),
    block.optional ? h("span", { class: "bk-optional", text: " (optional)" }) : null);
  const control = INPUT_TYPES.has(el.type) ? renderInputElement(block, el, ctx, id) : unsupported(el.type);
  const wrap = h("div", { class: `bk-input${error ? " has-error" : ""}` }, label, h("div", { class: "bk-control" }, control));
  if (error) wrap.append(h("div", { class: "field-error", "data-testid": "field-error", role: "alert", text: error }));
  if (block.hint) wrap.append(h("div", { class: "bk-hint" }, textObject(block.hint, ctx.names)));
  return wrap;
}

/** An element outside input blocks: in actions blocks, as a section's accessory. */
export function renderElement(el, block, ctx = {}) {
  if (!el || typeof el !== "object") return unsupported(typeof el);
  switch (el.type) {
    case "button": return button(el, block, ctx);
    case "overflow": return overflow(el, block, ctx);
    case "image": return imageElement(el, "bk-accessory-image");
    default:
      if (INPUT_TYPES.has(el.type)) {
        const id = `${ctx.idPrefix || "bk"}-${block.block_id || "b"}-${el.action_id || "a"}`.replace(/[^A-Za-z0-9_-]/g, "_");
        return renderInputElement(block, el, { ...ctx, dispatchAll: true }, id);
      }
      return unsupported(el.type);
  }
}

function button(el, block, ctx) {
  const style = el.style === "primary" || el.style === "danger" ? ` bk-button-${el.style}` : "";
  const node = h("button", { type: "button", class: `bk-button${style}`, "data-action-id": el.action_id,
    "data-value": el.value, title: el.url || undefined }, plainText(flatText(el.text)));
  node.addEventListener("click", async () => {
    if (el.confirm && !(await (ctx.confirm || confirmDialog)(el.confirm, ctx))) return;
    if (el.url) window.open(el.url, "_blank", "noopener");
    node.disabled = true;
    try {
      if (ctx.onAction) await ctx.onAction(block, el, { value: el.value });
    } finally {
      node.disabled = false;
    }
  });
  return node;
}

function overflow(el, block, ctx) {
  const menu = h("div", { class: "bk-menu", role: "menu", hidden: true });
  const toggle = h("button", { type: "button", class: "bk-button bk-overflow", "aria-haspopup": "menu",
    "aria-label": "More actions", text: "⋯" });
  for (const option of el.options || []) {
    menu.append(h("button", { type: "button", role: "menuitem", class: "bk-menu-item", onclick: async () => {
      menu.hidden = true;
      if (el.confirm && !(await (ctx.confirm || confirmDialog)(el.confirm, ctx))) return;
      if (ctx.onAction) await ctx.onAction(block, el, { value: option.value, selected_option: option });
    } }, plainText(flatText(option.text))));
  }
  toggle.addEventListener("click", () => { menu.hidden = !menu.hidden; });
  return h("div", { class: "bk-overflow-wrap" }, toggle, menu);
}

/** A confirm object as Slack's dialog: title, text, Confirm/Cancel; resolves true on Confirm. */
export function confirmDialog(dialog, ctx = {}) {
  return new Promise((resolve) => {
    const done = (answer) => { overlay.remove(); resolve(answer); };
    const confirmStyle = dialog.style === "danger" ? " bk-button-danger" : " bk-button-primary";
    const overlay = h("div", { class: "overlay confirm-overlay" },
      h("div", { class: "confirm", role: "alertdialog", "aria-modal": "true", "data-testid": "confirm" },
        h("h2", { class: "confirm-title" }, plainText(flatText(dialog.title || { text: "Are you sure?" }))),
        h("div", { class: "confirm-text" }, textObject(dialog.text || { type: "plain_text", text: "" }, ctx.names)),
        h("div", { class: "confirm-buttons" },
          h("button", { type: "button", class: "bk-button", onclick: () => done(false) },
            plainText(flatText(dialog.deny || { text: "Cancel" }))),
          h("button", { type: "button", class: `bk-button${confirmStyle}`, onclick: () => done(true) },
            plainText(flatText(dialog.confirm || { text: "Yes" }))))));
    document.body.append(overlay);
  });
}

// --- rich_text (what Slack's own composer sends; drawn so a person's message shows as Slack would) ---

function richTextBlock(block, ctx) {
  return h("div", { class: "bk-rich" }, (block.elements || []).map((el) => richContainer(el, ctx)));
}

function richContainer(el, ctx) {
  switch (el.type) {
    case "rich_text_section": return h("div", { class: "rt-section" }, richInline(el.elements, ctx));
    case "rich_text_preformatted": return h("pre", { class: "mk-pre" }, richInline(el.elements, ctx));
    case "rich_text_quote": return h("blockquote", { class: "mk-quote" }, richInline(el.elements, ctx));
    case "rich_text_list": {
      const list = h(el.style === "ordered" ? "ol" : "ul", { class: "rt-list" });
      for (const item of el.elements || []) list.append(h("li", {}, richContainer(item, ctx)));
      return list;
    }
    default: return unsupported(el.type);
  }
}

function richInline(elements, ctx) {
  const names = ctx.names || {};
  return (elements || []).map((el) => {
    let node;
    switch (el.type) {
      case "text": node = document.createTextNode(el.text || ""); break;
      case "link": node = h("a", { class: "mk-link", href: /^(https?:|mailto:)/i.test(el.url) ? el.url : undefined,
        target: "_blank", rel: "noopener noreferrer", text: el.text || el.url }); break;
      case "user": node = h("span", { class: "mention", text: "@" + ((names.user && names.user(el.user_id)) || el.user_id) }); break;
      case "channel": node = h("span", { class: "mention", text: "#" + ((names.channel && names.channel(el.channel_id)) || el.channel_id) }); break;
      case "usergroup": node = h("span", { class: "mention", text: "@" + ((names.group && names.group(el.usergroup_id)) || el.usergroup_id) }); break;
      case "broadcast": node = h("span", { class: "mention mention-all", text: "@" + el.range }); break;
      case "emoji": node = plainText(`:${el.name}:`); break;
      case "date": node = mrkdwn(`<!date^${el.timestamp}^${el.format || "{date_short_pretty} {time}"}|${el.fallback || ""}>`, names); break;
      default: return unsupported(el.type);
    }
    const style = el.style || {};
    for (const [flag, tag] of [["code", "code"], ["strike", "s"], ["italic", "i"], ["bold", "b"]]) {
      if (style[flag]) node = h(tag, { class: tag === "code" ? "mk-code" : `mk-${tag}` }, node);
    }
    return node;
  });
}
