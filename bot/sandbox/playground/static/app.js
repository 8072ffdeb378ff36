// The playground page: who you are, channels, DMs, App Home, threads, the composer and live updates.
// State comes from /api/state (what this person's Slack shows) and /api/panel; /api/events says when
// to fetch again. Every gesture is a POST the server turns into what Slack would send the bot.

import { api, trouble } from "./api.js";
import { h, renderBlocks } from "./blockkit.js";
import { icon } from "./dom.js";
import { messageItems } from "./messages.js";
import { Modals } from "./modal.js";
import { setClockOffset } from "./mrkdwn.js";
import { renderPanel } from "./panel.js";
import { syncList } from "./sync.js";

const $ = (id) => document.getElementById(id);
const COMMANDS = [
  ["clone", "[instance-id]", "clone an instance (needs approval)"],
  ["copy", "[instance-id]", "copy SQL Server databases (needs approval)"],
  ["restore", "[instance-id]", "restore databases/tables (needs approval)"],
  ["backup", "[instance-id]", "back up an instance now"],
  ["backups", "[instance-id]", "list cross-region backup sets"],
  ["remind", "<instance-id> daily 09:00", "backup reminders"],
  ["status", "[request-id]", "your requests, or one request's timeline"],
  ["pending", "", "what waits for your approval"],
  ["cancel", "<request-id>", "withdraw your own request"],
  ["help", "", "every command"],
];

const app = {
  world: null,
  me: null,
  where: null, // {kind: "channel"|"dm"|"home", id}
  thread: null, // {channel, ts}
  state: null,
  stateUser: null, // whose state that is: a refresh for the person picked before may still be on screen
  panel: null,
  seen: new Map(), // `${me} ${channel}` -> newest ts seen there
  homeDrawn: null,
};

const users = new Map();
const channels = new Map();
const names = {
  user: (id) => (users.has(id) ? users.get(id).real_name : id === (app.world && app.world.bot_user_id) ? "rdsbot" : null),
  channel: (id) => (channels.has(id) ? channels.get(id).name : id && id.startsWith("D") ? "rdsbot" : null),
  group: () => null,
};

function toast(text) {
  const node = h("div", { class: "toast", "data-testid": "toast", role: "alert", text });
  $("toasts").append(node);
  setTimeout(() => node.remove(), 7000);
}

// ------------------------------------------------------------------------------- refresh and live
let inflight = null;
let again = false;

function refresh() {
  if (inflight) {
    again = true;
    return inflight;
  }
  inflight = (async () => {
    do {
      again = false;
      const who = app.me;
      try {
        const [state, panel] = await Promise.all([api.state(who), api.panel()]);
        if (who !== app.me) {
          again = true; // the person changed meanwhile: fetch again for the new one
          continue;
        }
        app.state = state;
        app.stateUser = who;
        app.panel = panel;
        render();
      } catch (error) {
        toast(`Could not read the playground: ${error.message || error}`);
      }
    } while (again);
  })().finally(() => {
    inflight = null;
  });
  return inflight;
}

function live() {
  const badge = $("live");
  const source = new EventSource("/api/events");
  source.addEventListener("open", () => {
    badge.textContent = "● live";
    badge.className = "live on";
    refresh();
  });
  source.addEventListener("change", () => refresh());
  source.addEventListener("error", () => {
    badge.textContent = "○ reconnecting";
    badge.className = "live off";
  });
  setInterval(() => {
    if (source.readyState !== EventSource.OPEN) refresh(); // no events: look now and then anyway
  }, 5000);
}

async function gesture(send, body) {
  try {
    const answer = await send(body);
    const problem = trouble(answer);
    if (problem) toast(problem);
    return answer;
  } catch (error) {
    toast(String(error.message || error));
    return null;
  } finally {
    refresh();
  }
}

// ------------------------------------------------------------------------------------- sidebar
function conversations() {
  const state = app.state || { channels: {}, dms: {} };
  const visible = (app.world.channels || []).filter((c) => c.id in (state.channels || {}));
  return { visible, dm: Object.keys(state.dms || {})[0] || null };
}

function messagesOf(id) {
  const state = app.state || {};
  return (state.channels && state.channels[id]) || (state.dms && state.dms[id]) || [];
}

function unread(id) {
  const seen = app.seen.get(`${app.me} ${id}`);
  if (seen === undefined) return 0;
  return messagesOf(id).filter((m) => Number(m.ts) > Number(seen)).length;
}

function markSeen(id) {
  const list = messagesOf(id);
  app.seen.set(`${app.me} ${id}`, list.length ? list[list.length - 1].ts : "0");
}

function navItem(label, aria, active, count, onclick, glyph) {
  return h("button", { type: "button", class: `nav-item${active ? " active" : ""}${count ? " unread" : ""}`,
    "aria-label": aria, "aria-current": active ? "page" : undefined, onclick },
  h("span", { class: "nav-icon", "aria-hidden": "true" }, icon(glyph)), h("span", { class: "nav-label", text: label }),
  count ? h("span", { class: "badge", "aria-hidden": "true", text: String(count) }) : null);
}

function renderNav() {
  const { visible, dm } = conversations();
  for (const c of visible) if (!app.seen.has(`${app.me} ${c.id}`)) markSeen(c.id);
  if (dm && !app.seen.has(`${app.me} ${dm}`)) markSeen(dm);
  const at = (kind, id) => app.where && app.where.kind === kind && app.where.id === id;
  $("nav").replaceChildren(...[
    h("div", { class: "nav-title", text: "Channels" }),
    visible.map((c) => navItem(c.name, `#${c.name}`, at("channel", c.id), at("channel", c.id) ? 0 : unread(c.id),
      () => go({ kind: "channel", id: c.id }), c.is_private ? "lock" : "hash")),
    h("div", { class: "nav-title", text: "Direct messages" }),
    dm ? navItem("rdsbot", "rdsbot (direct message)", at("dm", dm), at("dm", dm) ? 0 : unread(dm),
      () => go({ kind: "dm", id: dm }), "dot") : null,
    h("div", { class: "nav-title", text: "Apps" }),
    navItem("rdsbot · Home", "Home", at("home", "home"), 0, () => go({ kind: "home", id: "home" }), "home"),
  ].flat().filter(Boolean));
}

function go(where) {
  app.where = where;
  if (where.kind === "home") {
    app.homeDrawn = null;
    gesture(api.home, { user: app.me });
  }
  render(true);
}

// ------------------------------------------------------------------------------------ messages
function items(list, channel, options) {
  return messageItems(list, {
    channel,
    names,
    me: app.me,
    botUserId: app.world.bot_user_id,
    onAction: (body) => gesture(api.click, { user: app.me, ...body }),
    openThread,
    ...options,
  });
}

function ephemeralsIn(channel, threadTs) {
  return ((app.state && app.state.ephemerals) || []).filter((e) => e.channel === channel
    && (threadTs ? e.thread_ts === threadTs : !e.thread_ts || !messagesOf(channel).some((m) => m.ts === e.thread_ts)));
}

function byTs(a, b) {
  return Number(a.message.ts) - Number(b.message.ts);
}

function renderConversation(switched) {
  const where = app.where;
  const box = $("messages");
  const atBottom = box.scrollHeight - box.scrollTop - box.clientHeight < 60;
  const list = [...messagesOf(where.id).map((message) => ({ message, ephemeral: false })),
    ...ephemeralsIn(where.id).map((message) => ({ message, ephemeral: true }))].sort(byTs);
  const channel = channels.get(where.id);
  $("channel-header").replaceChildren(where.kind === "dm"
    ? h("div", { class: "channel-name" }, h("span", { text: "rdsbot" }), h("span", { class: "app-badge", text: "APP" }))
    : h("div", { class: "channel-name" }, icon(channel && channel.is_private ? "lock" : "hash"),
      h("span", { text: channel ? channel.name : where.id })),
  h("div", { class: "channel-purpose", text: where.kind === "dm" ? "Your direct messages with the bot" : "" }));
  if (!list.length) {
    box.replaceChildren(h("div", { class: "empty-channel", text: where.kind === "dm"
      ? "The bot writes here when one of your requests ends." : "No messages yet. Type /rds help below." }));
  } else {
    if (box.querySelector(".empty-channel")) box.replaceChildren();
    syncList(box, items(list, where.id, {}));
  }
  if (switched || atBottom) box.scrollTop = box.scrollHeight;
  markSeen(where.id);
  $("composer").placeholder = where.kind === "dm" ? "Message rdsbot — try /rds status" : `Message #${channel ? channel.name : ""} — try /rds help`;
}

function renderHome() {
  const home = app.state && app.state.home;
  const signature = JSON.stringify([app.me, home && home.hash, home && home.blocks]);
  if (signature === app.homeDrawn) return;
  app.homeDrawn = signature;
  $("channel-header").replaceChildren(h("div", { class: "channel-name" }, h("span", { text: "rdsbot" }),
    h("span", { class: "app-badge", text: "APP" })), h("div", { class: "tabs" }, h("span", { class: "tab on", text: "Home" })));
  const ctx = {
    names,
    idPrefix: "home",
    onAction: (block, el, extra) => gesture(api.click, { user: app.me, action_id: el.action_id, value: extra.value,
      block_id: block.block_id, home: true }),
  };
  $("home").replaceChildren(home ? renderBlocks(home.blocks, ctx) : h("div", { class: "empty-channel", text: "Opening Home…" }));
}

// --------------------------------------------------------------------------------------- threads
function openThread(channel, ts) {
  app.thread = { channel, ts };
  renderThread();
}

function renderThread() {
  const pane = $("thread-pane");
  const parent = app.thread && messagesOf(app.thread.channel).find((m) => m.ts === app.thread.ts);
  if (!parent) {
    pane.hidden = true;
    pane.replaceChildren();
    app.thread = null;
    return;
  }
  pane.hidden = false;
  const { channel } = app.thread;
  let list = pane.querySelector(".thread-messages");
  if (!list || pane.dataset.thread !== `${channel} ${parent.ts}`) {
    pane.dataset.thread = `${channel} ${parent.ts}`;
    list = h("div", { class: "thread-messages" });
    const c = channels.get(channel);
    pane.replaceChildren(h("header", { class: "thread-header" },
      h("div", {}, h("div", { class: "thread-title", text: "Thread" }),
        h("div", { class: "thread-where", text: c ? `#${c.name}` : "rdsbot" })),
      h("button", { type: "button", class: "thread-close", "aria-label": "Close thread", text: "×",
        onclick: () => { app.thread = null; renderThread(); } })), list);
  }
  const atBottom = list.scrollHeight - list.scrollTop - list.clientHeight < 60;
  const replies = [...(parent.replies || []).map((message) => ({ message, ephemeral: false })),
    ...ephemeralsIn(channel, parent.ts).map((message) => ({ message, ephemeral: true }))].sort(byTs);
  const count = (parent.replies || []).length;
  syncList(list, [
    ...items([{ message: parent, ephemeral: false }], channel, { inThread: true }),
    { key: "divider", sig: String(count), render: () => h("div", { class: "thread-divider", text: `${count} ${count === 1 ? "reply" : "replies"}` }) },
    ...items(replies, channel, { inThread: true }),
  ]);
  if (atBottom) list.scrollTop = list.scrollHeight;
}

// -------------------------------------------------------------------------------------- render
function render(switched = false) {
  if (!app.state || !app.world) return;
  const { visible, dm } = conversations();
  if (!app.where || (app.where.kind === "channel" && !visible.some((c) => c.id === app.where.id))) {
    const ops = visible.find((c) => c.name === "ops") || visible[0];
    app.where = ops ? { kind: "channel", id: ops.id } : { kind: "home", id: "home" };
    switched = true;
  }
  if (app.where.kind === "dm" && app.where.id !== dm) app.where = { kind: "dm", id: dm };
  const home = app.where.kind === "home";
  $("messages").hidden = home;
  $("composer-form").hidden = home;
  $("home").hidden = !home;
  if (home) renderHome();
  else renderConversation(switched);
  renderNav();
  renderThread();
  modals.update(app.state.views || [], app.stateUser);
  document.body.dataset.user = app.stateUser; // whose Slack is on screen (tests wait for it)
  if (app.panel) setClockOffset(app.panel.clock && app.panel.clock.bot_offset_s);
  renderPanel($("panel"), app.panel, {
    fault: (rds) => gesture(api.fault, { rds }),
    time: (seconds) => gesture(api.time, { advance_s: seconds }),
  }, names);
}

// ------------------------------------------------------------------------------------ composer
function composer() {
  const input = $("composer");
  const hint = $("composer-hint");
  const suggest = $("composer-suggest");
  const normalHint = hint.cloneNode(true).childNodes;
  const say = (text, warn) => {
    hint.classList.toggle("warn", Boolean(warn));
    if (text) hint.textContent = text;
    else hint.replaceChildren(...[...normalHint].map((n) => n.cloneNode(true)));
  };
  const suggestions = () => {
    const typed = input.value;
    const m = /^\/(r|rd|rds|rds (\w*))?$/.exec(typed);
    const matches = m ? COMMANDS.filter(([name]) => !m[2] || name.startsWith(m[2])) : [];
    suggest.hidden = !matches.length;
    suggest.replaceChildren(...matches.map(([name, args, what]) => h("div", { class: "composer-option", role: "option",
      onmousedown: (event) => event.preventDefault(),
      onclick: () => { input.value = `/rds ${name} `; suggest.hidden = true; input.focus(); } },
    h("b", { text: `/rds ${name}` }), h("span", { class: "args", text: ` ${args}` }), h("span", { class: "what", text: what }))));
  };
  input.addEventListener("input", () => { say(null); suggestions(); });
  input.addEventListener("blur", () => { suggest.hidden = true; });
  $("composer-form").addEventListener("submit", async (event) => {
    event.preventDefault();
    suggest.hidden = true;
    const text = input.value.trim();
    if (!text) return;
    if (!/^\/rds(\s|$)/.test(text)) {
      say(text.startsWith("/") ? `${text.split(/\s/)[0]} is not a command here: only /rds is installed.`
        : "This playground only sends /rds commands (try /rds help); other messages would not reach the bot.", true);
      return;
    }
    input.value = "";
    const answer = await gesture(api.command, { user: app.me, channel: app.where.id, text });
    if (answer && answer.status && answer.status >= 400) say(`The bot answered HTTP ${answer.status}.`, true);
  });
}

// ---------------------------------------------------------------------------------------- start
function picker() {
  const select = $("who");
  const people = app.world.users || [];
  const wanted = new URLSearchParams(location.search).get("as") || localStorage.getItem("rdsbot-playground-who");
  app.me = people.some((u) => u.id === wanted) ? wanted : (people[0] || {}).id;
  select.replaceChildren(...people.map((u) => h("option", { value: u.id, selected: u.id === app.me,
    title: [u.title, u.tz, u.locale].filter(Boolean).join(" · "), text: `${u.real_name} (${u.role || "no role"})` })));
  const detail = () => {
    const u = users.get(app.me);
    $("who-detail").textContent = u ? [u.title, u.tz].filter(Boolean).join(" · ") : "";
  };
  detail();
  select.addEventListener("change", () => {
    app.me = select.value;
    localStorage.setItem("rdsbot-playground-who", app.me);
    app.homeDrawn = null;
    detail();
    if (app.where && app.where.kind === "home") gesture(api.home, { user: app.me });
    else refresh();
  });
}

// A modal's gestures are made by the person whose modal is on screen.
const modals = new Modals($("modals"), { me: () => app.stateUser, names, refresh, toast });

async function start() {
  $("panel-toggle").addEventListener("click", (event) => {
    const shown = document.body.classList.toggle("panel-hidden");
    event.currentTarget.setAttribute("aria-pressed", shown ? "false" : "true");
  });
  try {
    app.world = await api.world();
  } catch (error) {
    toast(`The playground server did not answer: ${error.message || error}`);
    return;
  }
  for (const u of app.world.users || []) users.set(u.id, u);
  for (const c of app.world.channels || []) channels.set(c.id, c);
  if (app.world.team && app.world.team.name) $("team-name").textContent = app.world.team.name;
  picker();
  composer();
  live();
  await refresh();
}

start();
