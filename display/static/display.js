// The hall display of one zone: the current call very large, the latest calls, the waits,
// the clock and the managers' ticker line; live over Socket.IO with replay on reconnect.
// Built to run for weeks: every list is capped, one clock timer, no listener added per event.
import { connectLive } from "/static/server/js/live.js";
import { createAnnouncer } from "./announcer.js";

const data = JSON.parse(document.getElementById("display-data").textContent);
const $ = (selector) => document.querySelector(selector);
// A replayed call older than this (a display that was offline) is shown, not announced.
const ANNOUNCE_WITHIN_MS = 60_000;
const FLASH_MS = 6_000;
const counters = data.counters;
let calls = [];
let clockOffset = 0;
let flashTimer = null;

const announcer = createAnnouncer({
  chimeUrl: data.chimeUrl,
  announcementUrl: data.announcementUrl,
  volume: data.volume,
  voice: data.voice,
  onBlocked: () => { $("[data-enable-sound]").hidden = false; },
});

function format(template, values) {
  return template.replace(/%\((\w+)\)s/g, (_, key) => String(values[key]));
}

function serverNow() {
  return Date.now() + clockOffset;
}

// --- calls ------------------------------------------------------------------------------

function fromEvent(name, message) {
  const ticket = message.ticket || {};
  return {
    ticket_id: ticket.id, number: ticket.number, service: ticket.service,
    counter: ticket.counter, preferential: Boolean(ticket.preferential),
    recall: name === "ticket.recalled", at: message.at, seq: message.seq,
  };
}

function addCall(call) {
  calls = [call, ...calls.filter((c) => c.ticket_id !== call.ticket_id)]
    .slice(0, data.shownCalls);
  renderCalls();
  flash();
  if (serverNow() - Date.parse(call.at) <= ANNOUNCE_WITHIN_MS) announcer.enqueue(call);
}

function counterName(id) {
  return counters[id] || id || "";
}

function marks(call) {
  const spans = [];
  if (call.preferential) {
    const mark = document.createElement("span");
    mark.className = "mark preferential";
    mark.textContent = `★ ${data.text.preferential}`;
    spans.push(mark);
  }
  return spans;
}

function renderCalls() {
  const [current, ...older] = calls;
  $("[data-idle]").hidden = Boolean(current);
  $("[data-current-call]").hidden = !current;
  if (current) {
    fitWidth($("[data-current-number]"), current.number);
    $("[data-current-counter]").textContent = counterName(current.counter);
    $("[data-current-preferential]").hidden = !current.preferential;
    $("[data-current-recall]").hidden = !current.recall;
    $("[data-current]").dataset.ticket = current.ticket_id;
  }
  $("[data-recent]").replaceChildren(...older.map((call) => {
    const item = document.createElement("li");
    item.dataset.ticket = call.ticket_id;
    if (call.preferential) item.dataset.preferential = "yes";
    const number = document.createElement("span");
    number.className = "number";
    number.textContent = call.number;
    const counter = document.createElement("span");
    counter.className = "counter";
    counter.textContent = counterName(call.counter);
    item.append(number, counter, ...marks(call));
    return item;
  }));
}

// A long number ("LN-1024") on a portrait screen: shrink it just enough to fit the width.
function fitWidth(element, text) {
  element.textContent = text;
  element.style.fontSize = "";
  const room = element.parentElement.clientWidth;
  if (room && element.scrollWidth > room) {
    const size = parseFloat(getComputedStyle(element).fontSize);
    element.style.fontSize = `${Math.floor(size * room / element.scrollWidth)}px`;
  }
}

function flash() {
  const section = $("[data-current]");
  section.classList.remove("flash");
  void section.offsetWidth; // restart the animation for a call that follows another at once
  section.classList.add("flash");
  clearTimeout(flashTimer);
  flashTimer = setTimeout(() => section.classList.remove("flash"), FLASH_MS);
}

// --- waits, ticker, clock ----------------------------------------------------------------

const waiting = new Map();

function renderQueues() {
  $("[data-queues]").replaceChildren(...data.services.map((service) => {
    const item = document.createElement("li");
    item.dataset.service = service.code;
    const prefix = document.createElement("span");
    prefix.className = "prefix";
    prefix.textContent = service.prefix;
    const name = document.createElement("span");
    name.className = "name";
    name.textContent = service.name;
    const count = document.createElement("span");
    count.className = "count";
    const n = waiting.get(service.code) || 0;
    count.dataset.waiting = n;
    count.textContent = String(n);
    // The heading says "waiting"; the whole phrase is for screen readers and tooltips.
    item.title = n ? format(data.text.waiting, { n }) : data.text.waitingNone;
    item.append(prefix, name, count);
    return item;
  }));
}

function updateQueues(queues) {
  for (const queue of queues || []) {
    if (data.services.some((s) => s.code === queue.service)) {
      waiting.set(queue.service, queue.waiting);
    }
  }
  renderQueues();
}

let messageExpiry = null;

function showMessage(message) {
  clearTimeout(messageExpiry);
  const ticker = $("[data-ticker]");
  ticker.hidden = !message;
  $("[data-ticker-text]").textContent = message ? message.text : "";
  ticker.classList.remove("scrolling");
  const overflow = message ? $("[data-ticker-text]").scrollWidth - ticker.clientWidth * 0.95 : 0;
  if (overflow > 0) {
    ticker.style.setProperty("--ticker-shift", `-${Math.ceil(overflow)}px`);
    ticker.style.setProperty("--ticker-seconds", `${Math.max(6, Math.ceil(overflow / 80))}s`);
    ticker.classList.add("scrolling");
  }
  if (message && message.expires_at) {
    const left = Date.parse(message.expires_at) - serverNow();
    // setTimeout overflows past ~24 days; a week is the longest a message lasts.
    messageExpiry = setTimeout(() => showMessage(null), Math.max(0, Math.min(left, 2 ** 31 - 1)));
  }
}

const clockFormat = new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-US" : "es-MX", {
  timeZone: data.timeZone, hour: "2-digit", minute: "2-digit", hour12: false,
});
const dateFormat = new Intl.DateTimeFormat(document.documentElement.lang === "en" ? "en-US" : "es-MX", {
  timeZone: data.timeZone, weekday: "long", day: "numeric", month: "long", year: "numeric",
});

function tick() {
  const now = new Date(serverNow());
  $("[data-clock]").textContent = clockFormat.format(now);
  $("[data-date]").textContent = dateFormat.format(now);
}

// --- state and live updates --------------------------------------------------------------

function applyState(state) {
  clockOffset = state.serverTime - Date.now();
  calls = (state.calls || []).slice(0, data.shownCalls);
  renderCalls();
  updateQueues(state.queues);
  showMessage(state.message);
  tick();
}

async function refresh() {
  try {
    const response = await fetch(data.stateUrl, { headers: { Accept: "application/json" } });
    if (response.status === 401) {
      location.reload(); // unpaired (token revoked): the pairing page
      return;
    }
    if (response.ok) applyState(await response.json());
  } catch (error) {
    // Offline: the socket's reconnection brings us back here.
  }
}

let wasOffline = false;

function setStatus(status) {
  document.body.dataset.status = status;
  $("[data-offline]").hidden = status === "live" || status === "connecting";
  if (status === "offline") wasOffline = true;
  if (status === "live" && wasOffline) {
    // Back after a drop or a server restart: missed calls were replayed; re-read the counts,
    // the ticker and the server's clock (a restarted server may have another offset).
    wasOffline = false;
    refreshSoon();
  }
}

let refreshTimer = null;
function refreshSoon() {
  clearTimeout(refreshTimer);
  refreshTimer = setTimeout(refresh, 300);
}

function onEvent(name, message) {
  if (name === "ticket.called" || name === "ticket.recalled") {
    addCall(fromEvent(name, message));
  } else if (name === "queue.changed") {
    updateQueues(message.queues);
  }
}

// --- keeping the screen awake -------------------------------------------------------------

let wakeLock = null;

async function keepAwake() {
  if (!("wakeLock" in navigator) || document.visibilityState !== "visible" || wakeLock) return;
  try {
    wakeLock = await navigator.wakeLock.request("screen");
    wakeLock.addEventListener("release", () => { wakeLock = null; }, { once: true });
  } catch (error) {
    wakeLock = null; // not allowed here (no user gesture yet, battery saver): try again later
  }
}

document.addEventListener("visibilitychange", keepAwake);

// --- start --------------------------------------------------------------------------------

$("[data-enable-sound]").addEventListener("click", () => {
  announcer.unlock();
  keepAwake();
  $("[data-enable-sound]").hidden = true;
});

applyState(data.state);
announcer.warmUp();
keepAwake();
setInterval(tick, 1000);
const socket = connectLive({
  rooms: [`zone:${data.zone}`],
  since: data.state.seq,
  onEvent,
  onSnapshot: () => refreshSoon(),
  onStatus: setStatus,
});
socket.on("display.message", (payload) => {
  if (payload && payload.zone === data.zone) showMessage(payload.message);
});
window.turnosDisplay = { socket };
