// Input elements (modals, and the rare input in a message), their values and what a submission sends.
//
// A value per element, as the page keeps it:
//   text/number inputs: string · single selects, radio buttons: {value, text} | null
//   multi-selects, checkboxes: [{value, text}] · datetimepicker: epoch seconds | null
//   datepicker: "YYYY-MM-DD" | null · timepicker: "HH:MM" | null
// ctx.input (modals): get(block, el) -> value | undefined, set(block, el, value),
//   suggest(block, el, query) -> Promise<{options, option_groups}>, dispatch(block, el, value).

import { h, unsupported } from "./dom.js";
import { flatText, plainText, textObject } from "./mrkdwn.js";

const TEXTS = new Set(["plain_text_input", "number_input", "email_text_input", "url_text_input"]);
const SINGLE = new Set(["static_select", "external_select", "radio_buttons"]);
const MULTI = new Set(["multi_static_select", "multi_external_select", "checkboxes"]);
export const INPUT_TYPES = new Set([...TEXTS, ...SINGLE, ...MULTI, "datetimepicker", "datepicker", "timepicker"]);

const option = (o) => (o ? { value: o.value, text: flatText(o.text) } : null);

/** The value an element starts with: what the view's state holds (a pick already made), else its initial_*. */
export function initialValue(el, entry) {
  const has = entry && typeof entry === "object";
  if (TEXTS.has(el.type)) {
    const v = has ? entry.value : el.initial_value;
    return v === undefined || v === null ? "" : String(v);
  }
  if (SINGLE.has(el.type)) return option(has ? entry.selected_option : el.initial_option);
  if (MULTI.has(el.type)) return ((has ? entry.selected_options : el.initial_options) || []).map(option);
  if (el.type === "datetimepicker") {
    const v = has ? entry.selected_date_time : el.initial_date_time;
    return v === undefined || v === null ? null : Number(v);
  }
  if (el.type === "datepicker") return (has ? entry.selected_date : el.initial_date) || null;
  if (el.type === "timepicker") return (has ? entry.selected_time : el.initial_time) || null;
  return null;
}

/** A value as /api/submit takes it. */
export function submissionValue(el, value) {
  if (el.type === "number_input") return value === "" || value === null || value === undefined ? null : value; // Slack: null
  if (TEXTS.has(el.type)) return value || "";
  if (SINGLE.has(el.type)) return value ? value.value : null;
  if (MULTI.has(el.type)) return (value || []).map((o) => o.value);
  if (el.type === "datetimepicker") return value === null || value === undefined ? null : { selected_date_time: value };
  return value;
}

/** A value as /api/select takes it (the part besides user, view, block and action). */
export function selectionPayload(el, value) {
  if (MULTI.has(el.type)) return { values: (value || []).map((o) => o.value) };
  if (el.type === "datetimepicker") return { selected_date_time: value };
  if (SINGLE.has(el.type)) return { value: value ? value.value : null };
  return { value };
}

function placeholderOf(el, fallback) {
  return el.placeholder ? flatText(el.placeholder) : fallback;
}

export function renderInputElement(block, el, ctx, id) {
  let local = initialValue(el);
  const io = {
    get: () => {
      const kept = ctx.input ? ctx.input.get(block, el) : undefined;
      return kept === undefined ? local : kept;
    },
    set: (value) => {
      local = value;
      if (ctx.input) ctx.input.set(block, el, value);
    },
    // Slack tells the app about an input only when it dispatches actions (dispatch_action), and
    // always about a select in an actions block or an accessory.
    dispatch: (value) => {
      if (ctx.input && block.type === "input") {
        if (block.dispatch_action) ctx.input.dispatch(block, el, value);
      } else if (ctx.onAction) {
        ctx.onAction(block, el, { value: value && value.value, selected_option: value });
      }
    },
  };
  switch (el.type) {
    case "static_select": return staticSelect(el, io, id, false);
    case "multi_static_select": return staticSelect(el, io, id, true);
    case "external_select": return externalSelect(block, el, ctx, io, id, false);
    case "multi_external_select": return externalSelect(block, el, ctx, io, id, true);
    case "checkboxes": return choices(el, ctx, io, id, "checkbox");
    case "radio_buttons": return choices(el, ctx, io, id, "radio");
    case "datetimepicker": return dateTime(el, io, id);
    case "datepicker": return single(el, io, id, "date");
    case "timepicker": return single(el, io, id, "time");
    default: return TEXTS.has(el.type) ? textInput(el, io, id) : unsupported(el.type);
  }
}

function textInput(el, io, id) {
  const kind = { number_input: "number", email_text_input: "email", url_text_input: "url" }[el.type] || "text";
  const attrs = { id, class: "bk-text-input", placeholder: placeholderOf(el), maxlength: el.max_length,
    "data-element-type": el.type };
  if (kind === "number") Object.assign(attrs, { step: el.is_decimal_allowed ? "any" : "1", min: el.min_value, max: el.max_value });
  const node = el.multiline ? h("textarea", { ...attrs, rows: 4 }) : h("input", { ...attrs, type: kind });
  node.value = io.get() || "";
  node.addEventListener("input", () => io.set(node.value));
  node.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !el.multiline) {
      event.preventDefault(); // Enter in a Slack form field never submits the form
      io.dispatch(node.value);
    }
  });
  return node;
}

function staticSelect(el, io, id, multi) {
  const node = h("select", { id, class: "bk-select", multiple: multi, size: multi ? 5 : undefined,
    "data-element-type": el.type });
  if (!multi) node.append(h("option", { value: "", text: placeholderOf(el, "Select an option") }));
  const chosen = new Set((multi ? io.get() || [] : [io.get()]).filter(Boolean).map((o) => o.value));
  const add = (parent, o) => parent.append(h("option", { value: o.value, selected: chosen.has(o.value), text: flatText(o.text) }));
  for (const o of el.options || []) add(node, o);
  for (const group of el.option_groups || []) {
    const holder = h("optgroup", { label: flatText(group.label) });
    for (const o of group.options || []) add(holder, o);
    node.append(holder);
  }
  if (!multi && !chosen.size) node.value = "";
  node.addEventListener("change", () => {
    const picked = [...node.selectedOptions].filter((o) => o.value !== "").map((o) => ({ value: o.value, text: o.textContent }));
    const value = multi ? picked : picked[0] || null;
    io.set(value);
    io.dispatch(value);
  });
  return node;
}

function choices(el, ctx, io, id, kind) {
  const group = h("div", { id, class: `bk-choices bk-${kind}es`, role: kind === "radio" ? "radiogroup" : "group",
    "aria-labelledby": `${id}-label`, "data-element-type": el.type });
  const picked = () => {
    const value = io.get();
    return new Set((kind === "radio" ? [value] : value || []).filter(Boolean).map((o) => o.value));
  };
  const chosen = picked();
  (el.options || []).forEach((o, i) => {
    const boxId = `${id}-${i}`;
    const box = h("input", { type: kind, id: boxId, name: id, value: o.value, checked: chosen.has(o.value) });
    box.addEventListener("change", () => {
      const ticked = [...group.querySelectorAll("input")].filter((b) => b.checked);
      const values = ticked.map((b) => ({ value: b.value, text: b.nextElementSibling.dataset.text }));
      const value = kind === "radio" ? values[0] || null : values;
      io.set(value);
      io.dispatch(value);
    });
    const label = h("label", { for: boxId, class: "bk-choice-label", dataset: { text: flatText(o.text) } },
      textObject(o.text, ctx.names));
    const row = h("div", { class: "bk-choice" }, box, label);
    if (o.description) row.append(h("div", { class: "bk-choice-description" }, textObject(o.description, ctx.names)));
    group.append(row);
  });
  return group;
}

function pad(n) {
  return String(n).padStart(2, "0");
}

/** Date and time in this browser's zone; Slack sends epoch seconds, so no zone can be mistaken. */
function dateTime(el, io, id) {
  const date = h("input", { type: "date", id, class: "bk-date", "data-element-type": el.type });
  const time = h("input", { type: "time", id: `${id}-time`, class: "bk-time", "aria-label": "Time",
    "aria-describedby": `${id}-zone` });
  const epoch = io.get();
  if (epoch !== null && epoch !== undefined) {
    const d = new Date(epoch * 1000);
    date.value = `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
    time.value = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  }
  const zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
  const changed = () => {
    if (!date.value || !time.value) {
      io.set(null);
      return;
    }
    const value = Math.floor(new Date(`${date.value}T${time.value}`).getTime() / 1000);
    io.set(value);
    io.dispatch(value);
  };
  date.addEventListener("change", changed);
  time.addEventListener("change", changed);
  return h("div", { class: "bk-datetime" }, date, time, h("span", { class: "bk-zone", id: `${id}-zone`, text: zone }));
}

function single(el, io, id, kind) {
  const node = h("input", { type: kind, id, class: `bk-${kind}`, "data-element-type": el.type });
  node.value = io.get() || "";
  node.addEventListener("change", () => {
    io.set(node.value || null);
    io.dispatch(node.value || null);
  });
  return node;
}

/** A select whose options the app serves as the person types (block_suggestion). */
function externalSelect(block, el, ctx, io, id, multi) {
  const minLength = el.min_query_length === undefined ? 3 : Number(el.min_query_length);
  const input = h("input", { id, type: "text", class: "bk-combo-input", role: "combobox", autocomplete: "off",
    "aria-expanded": "false", "aria-autocomplete": "list", "aria-controls": `${id}-list`,
    placeholder: placeholderOf(el, multi ? "Select options" : "Select an option"), "data-element-type": el.type });
  const list = h("div", { id: `${id}-list`, class: "bk-listbox", role: "listbox", hidden: true });
  const chips = h("div", { class: "bk-chips" });
  let asked = 0;
  let timer = null;
  let active = -1;

  const selected = () => (multi ? io.get() || [] : io.get());
  const showSelected = (chipsToo = true) => {
    if (multi) {
      input.value = "";
      if (!chipsToo) return; // rebuilding them on blur would drop the click that caused the blur
      chips.replaceChildren(...selected().map((o) => h("span", { class: "bk-chip" }, o.text,
        h("button", { type: "button", class: "bk-chip-remove", "aria-label": `Remove ${o.text}`, text: "×",
          onclick: () => choose(o, true) }))));
    } else {
      input.value = selected() ? selected().text : "";
    }
  };
  const open = (yes) => {
    list.hidden = !yes;
    input.setAttribute("aria-expanded", yes ? "true" : "false");
  };
  const note = (text) => list.replaceChildren(h("div", { class: "bk-list-note", text }));
  const items = () => [...list.querySelectorAll("[role=option]")];
  const highlight = (index) => {
    const all = items();
    if (!all.length) return;
    active = (index + all.length) % all.length;
    all.forEach((node, i) => node.classList.toggle("active", i === active));
    all[active].scrollIntoView({ block: "nearest" });
  };
  const optionNode = (o) => {
    const isChosen = (multi ? selected() : [selected()]).some((s) => s && s.value === o.value);
    return h("div", { role: "option", class: "bk-option", "aria-selected": isChosen ? "true" : "false",
      dataset: { value: o.value }, onmousedown: (event) => event.preventDefault(), onclick: () => choose(o) },
    plainText(flatText(o.text)), o.description ? h("div", { class: "bk-option-description", text: flatText(o.description) }) : null);
  };
  const show = (answer) => {
    const options = answer.options || [];
    const groups = answer.option_groups || [];
    active = -1;
    if (!options.length && !groups.some((g) => (g.options || []).length)) {
      note("No results");
      return;
    }
    list.replaceChildren(...options.map(optionNode), ...groups.map((g) => h("div", { role: "group",
      class: "bk-option-group", "aria-label": flatText(g.label) }, h("div", { class: "bk-group-label", text: flatText(g.label) }),
    (g.options || []).map(optionNode))));
  };
  const ask = async (query) => {
    open(true);
    if (!ctx.input || !ctx.input.suggest) {
      note("Options are only served inside a modal.");
      return;
    }
    if (query.length < minLength) {
      note(`Type at least ${minLength} characters`);
      return;
    }
    const mine = ++asked;
    note("Loading…");
    try {
      const answer = await ctx.input.suggest(block, el, query);
      if (mine === asked) show(answer || {});
    } catch (error) {
      if (mine === asked) note(String(error.message || error));
    }
  };
  function choose(o, remove = false) {
    const picked = { value: o.value, text: typeof o.text === "string" ? o.text : flatText(o.text) };
    let value;
    if (multi) {
      const rest = selected().filter((s) => s.value !== picked.value);
      value = remove ? rest : [...rest, picked];
    } else {
      value = picked;
    }
    io.set(value);
    open(false);
    showSelected();
    io.dispatch(value);
  }

  input.addEventListener("focus", () => {
    if (!multi) input.select();
    ask("");
  });
  input.addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => ask(input.value), 150);
  });
  input.addEventListener("keydown", (event) => {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) ask(multi ? input.value : "");
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault();
      const all = items();
      if (active >= 0 && all[active]) all[active].click();
    } else if (event.key === "Escape") {
      open(false);
    }
  });
  input.addEventListener("blur", () => {
    clearTimeout(timer);
    asked++;
    open(false);
    showSelected(false); // what is shown is what is picked, not a half-typed query
  });
  showSelected();
  return h("div", { class: `bk-combo${multi ? " bk-combo-multi" : ""}` }, multi ? chips : null,
    h("div", { class: "bk-combo-field" }, input, h("span", { class: "bk-combo-caret", "aria-hidden": "true", text: "▾" })), list);
}
