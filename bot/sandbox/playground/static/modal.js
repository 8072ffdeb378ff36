// The person's modal stack: the top view drawn as Slack's dialog, its form values kept here while
// they type (across views.update by the bot, as Slack keeps drafts), submitted per block_id.

import { api, trouble } from "./api.js";
import { h, renderBlocks } from "./blockkit.js";
import { initialValue, selectionPayload, submissionValue } from "./inputs.js";
import { flatText, plainText } from "./mrkdwn.js";

const key = (block, el) => `${block.block_id}\u0000${el.action_id}`;

export class Modals {
  /** root: the element modals go into; app: {me(), names, refresh(), toast(text)} */
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.values = new Map(); // view id -> Map(block\0action -> value)
    this.localErrors = new Map(); // view id -> {hash, errors} from the last submit answer
    this.drawn = null; // signature of what is on screen
    this.views = [];
  }

  /** Draw the person's stack (bottom first); redrawn only when the top view itself changed. */
  update(views, me) {
    this.views = views || [];
    const top = this.views[this.views.length - 1];
    if (!top) {
      this.root.replaceChildren();
      this.drawn = null;
      this.values.clear();
      return;
    }
    const open = new Set(this.views.map((v) => v.id));
    for (const id of [...this.values.keys()]) if (!open.has(id)) this.values.delete(id);
    const errors = this.errorsOf(top);
    const signature = JSON.stringify([me, top.id, top.hash, errors, this.views.length]);
    if (signature === this.drawn) return;
    this.drawn = signature;
    this.draw(top, errors);
  }

  errorsOf(view) {
    if (view.errors && Object.keys(view.errors).length) return view.errors;
    const kept = this.localErrors.get(view.id);
    return kept && kept.hash === view.hash ? kept.errors : {};
  }

  formOf(view) {
    if (!this.values.has(view.id)) this.values.set(view.id, new Map());
    return this.values.get(view.id);
  }

  /** The value of one input now: typed here, else what the view's state holds, else undefined. */
  valueOf(view, block, el) {
    const form = this.formOf(view);
    if (form.has(key(block, el))) return form.get(key(block, el));
    const entry = ((view.state || {}).values || {})[block.block_id];
    return entry && entry[el.action_id] ? initialValue(el, entry[el.action_id]) : undefined;
  }

  draw(view, errors) {
    const me = this.app.me();
    const active = document.activeElement && this.root.contains(document.activeElement) ? document.activeElement : null;
    const focused = active ? active.id : null;
    // A query being typed into an open picker survives the bot's views.update, as in Slack.
    const typing = active && active.getAttribute("role") === "combobox" && active.getAttribute("aria-expanded") === "true"
      ? active.value : null;
    const ctx = {
      names: this.app.names,
      idPrefix: `m-${view.id}`,
      errors,
      onAction: (block, el, extra) => this.gesture(api.click, { user: me, view_id: view.id, action_id: el.action_id,
        block_id: block.block_id, value: extra.value }),
      input: {
        get: (block, el) => this.valueOf(view, block, el),
        set: (block, el, value) => this.formOf(view).set(key(block, el), value),
        suggest: (block, el, query) => api.suggest({ user: me, view_id: view.id, action_id: el.action_id,
          block_id: block.block_id, query }),
        dispatch: (block, el, value) => this.gesture(api.select, { user: me, view_id: view.id, block_id: block.block_id,
          action_id: el.action_id, ...selectionPayload(el, value) }),
      },
    };
    const titleId = `modal-title-${view.id}`;
    const footer = h("footer", { class: "modal-footer" },
      h("button", { type: "button", class: "bk-button", "data-testid": "modal-close", onclick: () => this.close(view) },
        plainText(flatText(view.close || { text: "Cancel" }))));
    if (view.submit) {
      footer.append(h("button", { type: "button", class: "bk-button bk-button-primary", "data-testid": "modal-submit",
        disabled: view.submit_disabled, onclick: (event) => this.submit(view, event.currentTarget) },
      plainText(flatText(view.submit))));
    }
    const dialog = h("div", { class: "modal", role: "dialog", "aria-modal": "true", "aria-labelledby": titleId,
      "data-testid": "modal", "data-callback-id": view.callback_id, "data-view-id": view.id },
    h("header", { class: "modal-header" },
      h("span", { class: "modal-app-icon", "aria-hidden": "true", text: "R" }),
      h("h2", { class: "modal-title", id: titleId }, plainText(flatText(view.title || { text: "" }))),
      h("button", { type: "button", class: "modal-x", "aria-label": "Close", text: "×", onclick: () => this.close(view) })),
    h("div", { class: "modal-body" }, renderBlocks(view.blocks, ctx)),
    footer);
    const behind = this.views.length > 1 ? h("div", { class: "modal-stack-note", text: `${this.views.length} views open` }) : null;
    this.root.replaceChildren(h("div", { class: "overlay modal-overlay" }, behind, dialog));
    const again = focused && document.getElementById(focused);
    if (!again) return;
    if (again.getAttribute("role") !== "combobox") {
      again.focus();
    } else if (typing !== null) {
      again.focus(); // reopens its list...
      again.value = typing;
      again.dispatchEvent(new Event("input")); // ...for what was typed
    } // a picker whose list was closed stays closed
  }

  async gesture(send, body) {
    try {
      const answer = await send(body);
      const problem = trouble(answer);
      if (problem) this.app.toast(problem);
      return answer;
    } catch (error) {
      this.app.toast(String(error.message || error));
      return null;
    } finally {
      this.app.refresh();
    }
  }

  /** Every input's value by block_id, as the page shows it (what Slack would put in view.state). */
  collect(view) {
    const values = {};
    for (const block of view.blocks || []) {
      if (block.type !== "input" || !block.element) continue;
      const el = block.element;
      let value = this.valueOf(view, block, el);
      if (value === undefined) value = initialValue(el);
      const sent = submissionValue(el, value);
      if (sent !== null && sent !== undefined) values[block.block_id] = sent; // nothing there: the server sends null
    }
    return values;
  }

  async submit(view, button) {
    button.disabled = true;
    button.classList.add("busy");
    try {
      const answer = await api.submit({ user: this.app.me(), view_id: view.id, values: this.collect(view) });
      if (answer.errors && Object.keys(answer.errors).length) {
        this.localErrors.set(view.id, { hash: view.hash, errors: answer.errors });
        this.drawn = null;
        this.update(this.views, this.app.me());
      } else {
        this.localErrors.delete(view.id);
      }
      const problem = trouble(answer);
      if (problem) this.app.toast(problem);
    } catch (error) {
      this.app.toast(String(error.message || error));
    } finally {
      button.disabled = false;
      button.classList.remove("busy");
      await this.app.refresh();
    }
  }

  async close(view) {
    try {
      await api.close({ user: this.app.me(), view_id: view.id });
    } catch (error) {
      this.app.toast(String(error.message || error));
    }
    await this.app.refresh();
  }
}
