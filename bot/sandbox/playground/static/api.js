// The playground's HTTP API (see the contract): every gesture goes to the server, which delivers
// it to the bot through the Slack emulator's signed path. The page never talks to the bot itself.

async function call(method, path, body) {
  const response = await fetch(path, {
    method,
    headers: body === undefined ? {} : { "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    cache: "no-store",
  });
  let data = null;
  try {
    data = await response.json();
  } catch (_notJson) {
    data = null; // an empty or non-JSON body: the status says enough
  }
  if (!response.ok) throw new Error((data && data.error) || `${response.status} ${response.statusText}`);
  return data || {};
}

const post = (path) => (body) => call("POST", path, body);

export const api = {
  world: () => call("GET", "/api/world"),
  state: (user) => call("GET", `/api/state?user=${encodeURIComponent(user)}`),
  panel: () => call("GET", "/api/panel"),
  command: post("/api/command"),
  click: post("/api/click"),
  select: post("/api/select"),
  suggest: post("/api/suggest"),
  submit: post("/api/submit"),
  close: post("/api/close"),
  home: post("/api/home"),
  fault: post("/api/fault"),
  time: post("/api/time"),
};

/** What the bot answered, when it was not a plain 200: a sentence for a toast, else null. */
export function trouble(answer) {
  if (!answer || answer.status === undefined || answer.status === null) return null;
  if (answer.status >= 200 && answer.status < 300) return null;
  const problems = (answer.problems || []).join("; ");
  return `The bot answered HTTP ${answer.status}${problems ? `: ${problems}` : ""}`;
}
