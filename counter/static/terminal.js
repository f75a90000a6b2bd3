// The counter terminal: one JSON call per action, then redraw from the server's answer;
// live events from other screens (another clerk, a kiosk) trigger a quiet refresh.
import { connectLive } from "/static/server/js/live.js";

const body = document.body;
const $ = (selector) => document.querySelector(selector);
const csrf = document.querySelector('meta[name="csrf-token"]').content;
const base = body.dataset.baseUrl;
const labels = JSON.parse(document.getElementById("labels").textContent);
let state = null;
let inFlight = null;
// A clerk types ahead ("f", Enter, "n"): an action pressed while another is on its way runs
// when that one is answered, instead of being lost. Only the latest one waits; repeating the
// action already on its way is a double press, not a second request.
let typedAhead = null;

const PATHS = {
  "call-next": "/call-next", call: "/call", pause: "/pause", open: "/open", close: "/close",
  recall: "/ticket/recall", start: "/ticket/start", complete: "/ticket/complete",
  "no-show": "/ticket/no-show", cancel: "/ticket/cancel", transfer: "/ticket/transfer",
  "print-slip": "/receipt/print-slip",
};
const DIALOGS = { complete: "complete", transfer: "transfer", call: "call" };
const KEYS = { n: "call-next", r: "recall", i: "start", f: "complete", a: "no-show",
  t: "transfer", x: "cancel", l: "call", p: "pause" };

function time(iso) {
  if (!iso) return "—";
  return new Date(iso).toLocaleTimeString(document.documentElement.lang, {
    hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: body.dataset.timeZone,
  });
}

function minutes(seconds) {
  if (seconds == null) return "—";
  return `${Math.round(seconds / 60)} min`;
}

function render(next) {
  state = next;
  $("[data-counter-state]").textContent = labels[state.counter.state] || state.counter.state;
  $("[data-counter-state]").dataset.state = state.counter.state;
  const ticket = state.ticket;
  $("[data-no-ticket]").hidden = Boolean(ticket);
  $("[data-has-ticket]").hidden = !ticket;
  body.dataset.ticketStatus = ticket ? ticket.status : "none";
  if (ticket) {
    $("[data-number]").textContent = ticket.number;
    $("[data-service]").textContent = ticket.service_name;
    $("[data-pref]").hidden = !ticket.preferential;
    $("[data-status]").textContent = labels[ticket.status] || ticket.status;
    $("[data-issued]").textContent = time(ticket.issued_at);
    $("[data-called]").textContent = time(ticket.called_at);
    $("[data-started]").textContent = time(ticket.started_at);
    $("[data-recalls]").textContent = String(ticket.recall_count);
  }
  $("[data-queues]").replaceChildren(...state.queues.map(renderQueue));
  $("[data-served]").textContent = String(state.day.served);
  $("[data-noshows]").textContent = String(state.day.no_shows);
  $("[data-average]").textContent = minutes(state.day.average_service_seconds);
  fillTransferTargets();
  renderReceipt(state.receipt);
}

// The receipt of the ticket just completed: a QR for the citizen's phone, and a paper slip.
function renderReceipt(receipt) {
  $("[data-receipt]").hidden = !receipt;
  if (!receipt) return;
  if ($("[data-receipt-qr]").getAttribute("src") !== receipt.qr_url) {
    $("[data-receipt-qr]").src = receipt.qr_url;
  }
  $("[data-receipt-folio]").textContent = receipt.folio;
  $("[data-print-slip]").hidden = !receipt.can_print;
}

function renderQueue(queue) {
  const box = document.createElement("article");
  box.className = "queue";
  box.dataset.service = queue.service;
  const title = document.createElement("h3");
  title.textContent = `${queue.prefix} · ${queue.name}`;
  const figures = document.createElement("p");
  figures.className = "figures";
  figures.innerHTML = "";
  const count = document.createElement("strong");
  count.dataset.waiting = queue.service;
  count.textContent = String(queue.waiting);
  figures.append(count, ` · ${minutes(queue.oldest_wait_seconds)}`);
  const list = document.createElement("ol");
  list.className = "next";
  for (const item of queue.next) {
    const li = document.createElement("li");
    li.textContent = item.number;
    if (item.preferential) li.classList.add("preferential");
    list.append(li);
  }
  box.append(title, figures, list);
  return box;
}

function fillTransferTargets() {
  const services = $("[data-transfer-services]");
  if (services.options.length > 1) return;
  for (const s of state.transfer_targets.services) services.add(new Option(s.name, s.code));
  const counters = $("[data-transfer-counters]");
  for (const c of state.transfer_targets.counters) counters.add(new Option(c.name, c.id));
}

function say(message) {
  const element = $("[data-message]");
  element.textContent = message || "";
  element.hidden = !message;
}

async function send(action, payload = {}) {
  if (inFlight) {
    if (action !== inFlight) typedAhead = { action, payload };
    return;
  }
  inFlight = action;
  body.dataset.busy = "true";
  try {
    const response = await fetch(base + PATHS[action], {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf },
      body: JSON.stringify(payload),
    });
    const answer = await response.json().catch(() => null);
    if (response.ok && answer) {
      say(action === "print-slip" ? labels.slip_sent : "");
      render(answer);
    } else if (response.status === 401) {
      location.reload();
    } else {
      say(answer?.error?.message || `Error ${response.status}`);
    }
  } catch {
    say(document.body.dataset.offlineText || "Sin conexión con el servidor.");
  } finally {
    inFlight = null;
    body.dataset.busy = "false";
  }
  if (typedAhead) {
    const next = typedAhead;
    typedAhead = null;
    send(next.action, next.payload);
  }
}

function act(action) {
  if (DIALOGS[action]) {
    const dialog = document.querySelector(`[data-dialog="${DIALOGS[action]}"]`);
    dialog.querySelector("form").reset();
    dialog.showModal();
    return;
  }
  if (action === "pause" && state?.counter.state === "paused") return send("open");
  send(action);
}

document.querySelectorAll("[data-action]").forEach((button) => {
  button.addEventListener("click", () => act(button.dataset.action));
});

$("[data-print-slip]").addEventListener("click", () => send("print-slip"));

document.querySelectorAll("dialog").forEach((dialog) => {
  // "Back" is not a submit button, so Enter in a field submits with the dialog's main action.
  dialog.querySelector("[data-dismiss]").addEventListener("click", () => dialog.close("cancel"));
  dialog.addEventListener("close", () => {
    if (dialog.returnValue !== "ok") return;
    const form = dialog.querySelector("form");
    const fields = Object.fromEntries(new FormData(form).entries());
    for (const key of Object.keys(fields)) if (fields[key] === "") delete fields[key];
    send(form.dataset.form, fields);
  });
});

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  // Keys typed into a field or an open dialog are not shortcuts. A dialog just closed can keep
  // the focus on its field until the browser's next frame, and a key pressed meanwhile (the
  // clerk's next "N" right after "Enter") is meant for the terminal.
  const field = event.target.closest("input, textarea, select, dialog");
  if (field && !field.closest("dialog:not([open])")) return;
  const action = KEYS[event.key.toLowerCase()];
  if (!action) return;
  event.preventDefault();
  act(action);
});

async function refresh() {
  const response = await fetch(body.dataset.stateUrl, { headers: { Accept: "application/json" } });
  if (response.status === 401) return location.reload();
  if (response.ok) render(await response.json());
}

let pending = null;
function soon() {
  clearTimeout(pending);
  pending = setTimeout(refresh, 100);
}

const services = body.dataset.services.split(",").map((code) => `service:${code}`);
connectLive({
  rooms: [`counter:${body.dataset.counter}`, ...services],
  onStatus: (status) => {
    $("[data-live]").dataset.status = status;
    $("[data-live]").textContent = status === "live" ? "●" : "…";
    if (status === "live") soon();
  },
  onSnapshot: soon,
  onEvent: soon,
});
refresh();
