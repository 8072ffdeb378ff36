// One message as Slack draws it: avatar, author (with APP for the bot), time, blocks or text,
// "(edited)", "Only visible to you" for ephemerals, and the thread link with its reply count.

import { renderBlocks } from "./blockkit.js";
import { h, icon } from "./dom.js";
import { mrkdwn } from "./mrkdwn.js";

function author(message, opts) {
  const bot = message.bot_id || message.user === opts.botUserId;
  return bot ? { name: "rdsbot", bot: true, id: opts.botUserId }
    : { name: opts.names.user(message.user) || message.user || "?", id: message.user };
}

function avatar(who) {
  const letters = who.bot ? "R" : who.name.split(/\s+/).map((w) => w[0]).join("").slice(0, 2).toUpperCase();
  const hue = [...String(who.id || who.name)].reduce((a, c) => (a * 31 + c.charCodeAt(0)) % 360, 7);
  return h("div", { class: `avatar${who.bot ? " avatar-bot" : ""}`, "aria-hidden": "true",
    style: who.bot ? undefined : `background:hsl(${hue} 45% 42%)`, text: letters });
}

export function clock(ts) {
  return new Intl.DateTimeFormat(undefined, { hour: "numeric", minute: "2-digit" }).format(new Date(Number(ts) * 1000));
}

/** Legacy attachments keep their colour bar; only a hex colour is used. */
function attachmentColor(color) {
  const hex = /^#?([0-9a-f]{3}|[0-9a-f]{6})$/i.exec(String(color || ""));
  return hex ? `border-left-color:#${hex[1]}` : undefined;
}

/** opts: {channel, names, botUserId, onAction({action_id, value, block_id, channel, ts, ephemeral?}),
 *  openThread(channel, ts), ephemeral, inThread} */
export function messageNode(message, opts) {
  const { channel, ephemeral = false, inThread = false, compact = false, names } = opts;
  const who = author(message, opts);
  const ctx = {
    names,
    idPrefix: `msg-${String(message.ts).replace(".", "_")}`,
    onAction: (block, el, extra) => opts.onAction({ action_id: el.action_id, value: extra.value, block_id: block.block_id,
      channel, ts: message.ts, ...(ephemeral ? { ephemeral: true } : {}) }),
  };
  const content = Array.isArray(message.blocks) && message.blocks.length
    ? renderBlocks(message.blocks, ctx) : h("div", { class: "message-text" }, mrkdwn(message.text || "", names));
  const time = h("time", { class: "message-time", title: new Date(Number(message.ts) * 1000).toString(), text: clock(message.ts) });
  const body = h("div", { class: "message-body" },
    compact ? null : h("div", { class: "message-meta" }, h("span", { class: "author", text: who.name }),
      who.bot ? h("span", { class: "app-badge", text: "APP" }) : null, time),
    ephemeral ? h("div", { class: "ephemeral-mark" }, icon("eye"), h("span", { text: " Only visible to you" })) : null,
    content,
    (message.attachments || []).map((a) => h("div", { class: "attachment", style: attachmentColor(a.color) },
      a.blocks ? renderBlocks(a.blocks, ctx) : mrkdwn(a.text || a.fallback || "", names))),
    message.edited ? h("span", { class: "edited", "data-testid": "edited", text: "(edited)" }) : null);
  if (!inThread && message.reply_count) {
    const replies = message.replies || [];
    const last = replies.length ? replies[replies.length - 1].ts : message.latest_reply;
    body.append(h("button", { type: "button", class: "thread-link", "data-testid": "open-thread",
      onclick: () => opts.openThread(channel, message.ts) },
    h("span", { class: "thread-count", text: `${message.reply_count} ${message.reply_count === 1 ? "reply" : "replies"}` }),
    last ? h("span", { class: "thread-last", text: `Last reply ${clock(last)}` }) : null));
  }
  return h("div", { class: `message${who.bot ? " from-bot" : ""}${ephemeral ? " ephemeral" : ""}${compact ? " compact" : ""}`,
    "data-testid": "message", "data-ts": message.ts, "data-ephemeral": ephemeral ? "true" : undefined },
  compact ? h("div", { class: "gutter" }, time) : avatar(who), body);
}

const GROUP_S = 300; // Slack shows one header for a run of messages by one author within a few minutes

function sameRun(previous, current, opts) {
  if (!previous || previous.ephemeral || current.ephemeral) return false;
  const a = author(previous.message, opts);
  const b = author(current.message, opts);
  return a.id === b.id && Number(current.message.ts) - Number(previous.message.ts) < GROUP_S;
}

/** Keyed items for syncList: a message keeps its node until its content changes. */
export function messageItems(list, opts) {
  return list.map((item, index) => {
    const { message, ephemeral } = item;
    const compact = sameRun(list[index - 1], item, opts);
    return {
      key: `${ephemeral ? "e" : "m"}${message.ts}`,
      sig: JSON.stringify([message.text, message.blocks, message.edited, message.reply_count,
        (message.replies || []).length, message.attachments, ephemeral, opts.me, opts.inThread, compact]),
      render: () => messageNode(message, { ...opts, ephemeral, compact }),
    };
  });
}
