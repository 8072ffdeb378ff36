// The side panel: what RDS holds (instances, backup sets, jobs), the audit trail with
// `audit verify`'s answer, and the controls that make RDS slow or throttled and move time.

import { h } from "./dom.js";

const SHOWN = 12;
const STEPS = [[300, "+5 min"], [3600, "+1 h"], [86400, "+1 day"]];

function localTime(iso, withDate = false) {
  if (!iso) return "—";
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return String(iso);
  const options = { hour: "2-digit", minute: "2-digit", second: "2-digit" };
  if (withDate) Object.assign(options, { month: "short", day: "numeric" });
  return new Intl.DateTimeFormat(undefined, options).format(date);
}

function pill(status) {
  const word = String(status || "—");
  const tone = /fail|error|broken|locked|denied|reject|expired|cancel/i.test(word) ? "bad"
    : /succe|approved|running|^ok|finished|done|intact|available/i.test(word) ? "good" : "busy";
  return h("span", { class: `pill pill-${tone}`, text: word });
}

function offset(seconds) {
  const s = Math.round(Number(seconds || 0));
  if (!s) return "real time";
  const parts = [];
  let rest = Math.abs(s);
  for (const [size, unit] of [[86400, "d"], [3600, "h"], [60, "min"]]) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)} ${unit}`);
      rest %= size;
    }
  }
  if (rest || !parts.length) parts.push(`${rest} s`);
  return `${s < 0 ? "−" : "+"}${parts.join(" ")}`;
}

function section(title, testid, count, ...body) {
  return h("details", { class: "panel-section", open: true, "data-testid": testid },
    h("summary", {}, h("span", { text: title }), count === null ? null : h("span", { class: "count", text: String(count) })),
    ...body);
}

function more(total) {
  return total > SHOWN ? h("div", { class: "panel-more", text: `… and ${total - SHOWN} more` }) : null;
}

function controls(data, act) {
  const current = (data.faults && data.faults.rds) || "none";
  const fault = (name, label) => h("button", { type: "button", class: `seg${current === name ? " on" : ""}`,
    "aria-pressed": current === name ? "true" : "false", "data-testid": `fault-${name}`,
    onclick: () => act.fault(name), text: label });
  const clock = data.clock || {};
  return h("div", { class: "panel-controls" },
    h("div", { class: "control-row" }, h("span", { class: "control-label", text: "RDS" }),
      h("div", { class: "segmented", role: "group", "aria-label": "RDS behaviour" },
        fault("none", "Normal"), fault("slow", "Slow"), fault("throttled", "Throttled"))),
    h("div", { class: "control-row" }, h("span", { class: "control-label", text: "Time" }),
      h("div", { class: "segmented", role: "group", "aria-label": "Advance time" },
        STEPS.map(([seconds, label]) => h("button", { type: "button", class: "seg", "data-testid": "time-advance",
          "data-seconds": String(seconds), "aria-label": `Advance time ${label}`, onclick: () => act.time(seconds),
          text: label })))),
    h("div", { class: "clock", "data-testid": "clock",
      text: `bot clock ${offset(clock.bot_offset_s)} · RDS clock ${offset(clock.rds_offset_s)}` }));
}

function instances(list) {
  return section("RDS instances", "panel-instances", list.length, h("table", { class: "panel-table" },
    h("tbody", {}, list.map((i) => h("tr", { "data-instance": i.id },
      h("td", {}, h("div", { class: "mono", text: i.id }),
        h("div", { class: "sub", text: [i.description, i.engine, i.region].filter(Boolean).join(" · ") }),
        h("div", { class: "tags" }, Object.entries(i.tags || {}).map(([k, v]) => h("span", { class: "tag", text: `${k}=${v}` })))),
      h("td", { class: "right" }, pill(i.status)))))));
}

function jobs(list) {
  const body = list.length ? list.slice(0, SHOWN).map((j) => h("div", { class: "job", "data-testid": "job" },
    h("div", { class: "job-line" }, h("span", { class: "mono", text: j.kind }), h("span", { class: "sub", text: j.instance }),
      pill(j.status)),
    h("div", { class: "bar", role: "progressbar", "aria-valuenow": String(j.progress || 0), "aria-valuemin": "0",
      "aria-valuemax": "100", "aria-label": `${j.kind} ${j.instance}` },
    h("span", { style: `width:${Math.max(0, Math.min(100, Number(j.progress) || 0))}%` })),
  )) : [h("div", { class: "empty", text: "No jobs yet." })];
  return section("Jobs", "panel-jobs", list.length, ...body, more(list.length));
}

function backups(list) {
  const rows = list.slice(0, SHOWN).map((b) => h("tr", {},
    h("td", { class: "mono", text: String(b.id) }),
    h("td", { class: "sub", text: b.instance }),
    h("td", { class: "sub", text: [b.type, b.method].filter(Boolean).join(" ") }),
    h("td", {}, pill(b.status)),
    h("td", { class: "sub", text: localTime(b.end, true) })));
  return section("Backup sets", "panel-backups", list.length,
    h("table", { class: "panel-table" }, h("tbody", {}, rows)), more(list.length));
}

function audit(trail, names) {
  const verify = trail.verify || {};
  const answer = verify.ok
    ? `✓ chain intact · ${verify.count} events`
    : `✗ chain broken${verify.first_bad ? ` at event ${verify.first_bad}` : ""}${verify.reason ? `: ${verify.reason}` : ""}`;
  const head = h("div", { class: `verify ${verify.ok ? "ok" : "bad"}`, "data-testid": "audit-verify" },
    h("div", { text: answer }),
    verify.anchor ? h("div", { class: "anchor", title: "Keep this anchor elsewhere: `rdsbot audit verify --anchor` "
      + "later catches a cut or rewritten trail" }, h("span", { text: "anchor " }), h("code", { text: verify.anchor })) : null);
  const events = trail.events || [];
  const rows = events.map((e) => h("li", { class: "audit-event", "data-testid": "audit-event" },
    h("div", { class: "audit-line" }, h("span", { class: "mono", text: e.event }), pill(e.state),
      h("span", { class: "sub right", text: localTime(e.ts) })),
    h("div", { class: "sub" }, h("span", { text: e.request_id || "" }),
      h("span", { text: e.actor ? ` · ${names.user(e.actor) || e.actor}` : "" }),
      h("span", { class: "hash", title: e.hash || "", text: e.hash ? ` · ${String(e.hash).slice(0, 10)}` : "" }))));
  return section("Audit trail", "panel-audit", events.length, head,
    h("ol", { class: "audit-list" }, rows.length ? rows : h("li", { class: "empty", text: "No events yet." })));
}

/** Draw the whole panel from /api/panel; act = {fault(name), time(seconds)}. */
let drawn = null;

export function renderPanel(root, data, act, names) {
  if (!data) {
    root.replaceChildren(h("div", { class: "empty", text: "Loading…" }));
    return;
  }
  const signature = JSON.stringify(data);
  if (signature === drawn) return; // unchanged: keep what the mouse is on
  drawn = signature;
  const open = new Map([...root.querySelectorAll("details")].map((d) => [d.dataset.testid, d.open]));
  const scroll = root.scrollTop;
  root.replaceChildren(controls(data, act), jobs(data.jobs || []), audit(data.audit || {}, names),
    instances(data.instances || []), backups(data.backups || []));
  for (const d of root.querySelectorAll("details")) if (open.has(d.dataset.testid)) d.open = open.get(d.dataset.testid);
  root.scrollTop = scroll;
}
