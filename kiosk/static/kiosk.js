// The kiosk: agency -> service -> ticket, for a touchscreen, with no keyboard.
// A ticket number is shown only once the server has confirmed it; a lost connection is
// retried with the same idempotency key, so a retry or a double tap never makes two tickets.
import { connectLive } from "/static/server/js/live.js";

const data = JSON.parse(document.getElementById("kiosk-data").textContent);
const $ = (selector) => document.querySelector(selector);
const state = { screen: "agencies", agency: null, reason: null, pending: null, state: data.state };
const history = [];
let idleTimer = null;
let retryTimer = null;
let busyTimer = null;
// The server's clock (which tests and demos may shift) minus this device's.
const clockOffset = data.serverTime - Date.now();
// A request that hangs (a half-open connection) is given up and retried with the same key.
const REQUEST_TIMEOUT_MS = 10_000;
// Only a fetch slower than this shows "Getting your ticket…"; a fast one would just flicker.
const BUSY_DELAY_MS = 250;

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
}

function show(screen, { remember = true } = {}) {
  if (remember && state.screen !== screen) history.push(state.screen);
  state.screen = screen;
  document.body.dataset.screen = screen;
  document.querySelectorAll("[data-screen-id]").forEach((section) => {
    section.hidden = section.dataset.screenId !== screen;
  });
  $("[data-back]").disabled = history.length === 0 || screen === "ticket";
  const heading = document.querySelector(`[data-screen-id="${screen}"] h1`);
  heading?.focus?.();
  armIdle();
}

function restart() {
  history.length = 0;
  state.agency = null;
  setReason(null);
  cancelPending();
  if (data.agencies.length === 1) {
    openAgency(data.agencies[0], { remember: false });
  } else {
    show("agencies", { remember: false });
  }
}

function back() {
  const previous = history.pop();
  if (previous) show(previous, { remember: false });
}

function armIdle() {
  clearTimeout(idleTimer);
  const seconds = state.screen === "ticket" ? data.ticketSeconds : data.idleSeconds;
  if (state.screen === "agencies" && history.length === 0) {
    // Already at the start: only a language other than the default needs resetting.
    if (document.documentElement.lang !== "es") {
      idleTimer = setTimeout(() => location.assign("?lang=es_MX"), seconds * 1000);
    }
    return;
  }
  idleTimer = setTimeout(() => {
    if (document.documentElement.lang !== "es") location.assign("?lang=es_MX");
    else restart();
  }, seconds * 1000);
}

function icon(name) {
  const img = document.createElement("img");
  img.src = `/kiosk/static/icons/${name}.svg`;
  img.alt = "";
  return img;
}

function renderAgencies() {
  const list = $("[data-agency-list]");
  list.replaceChildren(
    ...data.agencies.map((agency) => {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "tile";
      button.dataset.agency = agency.id;
      const label = document.createElement("span");
      label.textContent = agency.name;
      button.append(icon(`agency-${agency.order}`), label);
      button.addEventListener("click", () => openAgency(agency));
      return button;
    }),
  );
}

function openAgency(agency, options) {
  state.agency = agency;
  $("[data-agency-name]").textContent = agency.name;
  $("[data-preferential]").hidden = !agency.services.some((s) => s.preferential);
  renderServices();
  show("services", options);
}

function serviceLine(service) {
  const live = state.state.services[service.code];
  if (!live) return "";
  if (!live.open) return live.closed_text;
  const waiting = live.waiting === 0 ? data.text.waitingNone : format(data.text.waiting, { n: live.waiting });
  const minutes = live.estimated_wait_minutes;
  const estimate = minutes == null ? "" : minutes <= 1 ? data.text.estimateNow : format(data.text.estimate, { n: minutes });
  return estimate ? `${waiting} · ${estimate}` : waiting;
}

function renderServices() {
  if (!state.agency) return;
  const list = $("[data-service-list]");
  list.replaceChildren(
    ...state.agency.services.map((service) => {
      const live = state.state.services[service.code];
      const button = document.createElement("button");
      button.type = "button";
      button.className = "service-button";
      button.dataset.service = service.code;
      const closed = live && !live.open;
      const refused = state.reason && !service.preferential;
      button.disabled = Boolean(closed || refused);
      button.classList.toggle("closed", Boolean(closed));
      const letter = document.createElement("span");
      letter.className = "letter";
      letter.textContent = service.prefix;
      const name = document.createElement("span");
      name.className = "name";
      name.textContent = service.name;
      const detail = document.createElement("span");
      detail.className = "detail";
      detail.textContent = refused ? data.text.preferentialOnly : serviceLine(service);
      const text = document.createElement("span");
      text.className = "text";
      text.append(name, detail);
      button.append(letter, text);
      button.addEventListener("click", () => takeTicket(service));
      return button;
    }),
  );
}

function setReason(reason) {
  state.reason = reason;
  document.querySelectorAll("[data-reason]").forEach((toggle) => {
    toggle.setAttribute("aria-pressed", String(toggle.dataset.reason === reason));
  });
  renderServices();
}

// crypto.randomUUID exists only in secure contexts (https or localhost); a kiosk reaching
// the server over plain http on the CSA's network still needs a key.
function newKey() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

function takeTicket(service) {
  if (state.pending) return; // a double tap while the first one is on its way
  state.pending = {
    key: newKey(),
    body: { service: service.code, preferential: state.reason },
  };
  clearTimeout(busyTimer);
  busyTimer = setTimeout(() => {
    if (state.pending) $("[data-busy]").hidden = false;
  }, BUSY_DELAY_MS);
  send();
}

async function send() {
  const pending = state.pending;
  if (!pending) return;
  let response;
  try {
    response = await fetch(data.ticketsUrl, {
      method: "POST",
      headers: { "Content-Type": "application/json", "X-Turnos-Client": "kiosk" },
      body: JSON.stringify({ ...pending.body, key: pending.key }),
      signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS),
    });
  } catch {
    return retryLater(pending);
  }
  if (response.status >= 500) return retryLater(pending);
  const body = await response.json().catch(() => null);
  if (state.pending !== pending) return; // cancelled meanwhile
  state.pending = null;
  clearTimeout(busyTimer);
  $("[data-busy]").hidden = true;
  $("[data-offline]").hidden = true;
  if (response.status === 201 && body) {
    showTicket(body);
  } else {
    banner((body && body.error && body.error.message) || data.text.error);
    refreshState();
  }
}

function retryLater(pending) {
  if (state.pending !== pending) return;
  clearTimeout(busyTimer);
  $("[data-busy]").hidden = true;
  $("[data-offline]").hidden = false;
  clearTimeout(idleTimer);
  retryTimer = setTimeout(send, 2000);
}

function cancelPending() {
  state.pending = null;
  clearTimeout(retryTimer);
  clearTimeout(busyTimer);
  $("[data-busy]").hidden = true;
  $("[data-offline]").hidden = true;
}

function showPrinterNote(printer) {
  const note = $("[data-printer-note]");
  if (!printer) return;
  note.textContent = printer.message;
  note.classList.toggle("problem", !printer.ok);
}

function showTicket(ticket) {
  showPrinterNote(ticket.printer);
  $("[data-ticket-number]").textContent = ticket.number;
  $("[data-ticket-service]").textContent = ticket.service_name;
  $("[data-ticket-preferential]").hidden = !ticket.preferential;
  $("[data-ticket-ahead]").textContent = String(Math.max(0, (ticket.position || 1) - 1));
  const minutes = ticket.estimated_wait_minutes;
  $("[data-ticket-wait]").textContent =
    minutes == null ? "—" : minutes <= 1 ? data.text.estimateNow : format(data.text.estimate, { n: minutes });
  const date = document.createElement("small");
  date.textContent = ticket.issued_date;
  $("[data-ticket-time]").replaceChildren(ticket.issued_at, date);
  $("[data-ticket-qr]").src = ticket.qr_url;
  document.body.dataset.ticket = ticket.number;
  setReason(null);
  show("ticket");
}

function banner(message) {
  const element = $("[data-banner]");
  element.textContent = message;
  element.hidden = false;
  setTimeout(() => (element.hidden = true), 6000);
}

async function refreshState() {
  try {
    const response = await fetch(data.stateUrl, { headers: { Accept: "application/json" } });
    if (!response.ok) return;
    state.state = await response.json();
    renderServices();
  } catch {
    // The live connection's status line already tells people we are offline.
  }
}

function tick() {
  const now = new Date(Date.now() + clockOffset);
  $("[data-clock]").textContent = now.toLocaleTimeString(document.documentElement.lang, {
    hour: "2-digit",
    minute: "2-digit",
    hourCycle: "h23",
    timeZone: data.timeZone,
  });
}

document.querySelectorAll("[data-reason]").forEach((toggle) => {
  toggle.addEventListener("click", () => setReason(state.reason === toggle.dataset.reason ? null : toggle.dataset.reason));
});
$("[data-back]").addEventListener("click", back);
$("[data-restart]").addEventListener("click", restart);
$("[data-done]").addEventListener("click", restart);
$("[data-cancel-retry]").addEventListener("click", restart);
document.addEventListener("pointerdown", armIdle, { passive: true });

renderAgencies();
restart();
tick();
setInterval(tick, 5_000);
// Opening hours and estimates drift with time even when nothing happens.
setInterval(refreshState, 60_000);

let refreshQueued = false;
connectLive({
  rooms: ["csa"],
  onStatus: (status) => {
    document.body.dataset.live = status;
    if (status === "live") refreshState();
  },
  onEvent: (name) => {
    if (name !== "queue.changed" || refreshQueued) return;
    refreshQueued = true;
    setTimeout(() => {
      refreshQueued = false;
      refreshState();
    }, 500);
  },
});
