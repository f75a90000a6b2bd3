// Follow one ticket live: its own events say when it is called; events of its service
// move it up the line, so the page then fetches its position and estimate again.
import { connectLive } from "/static/server/js/live.js";

const body = document.body;
let refresh = null;

async function reload() {
  const response = await fetch(body.dataset.stateUrl, { headers: { Accept: "application/json" } });
  if (!response.ok) return;
  const ticket = await response.json();
  const before = body.dataset.status;
  body.dataset.status = ticket.status;
  document.querySelector("[data-ahead]").textContent = String(Math.max(0, (ticket.position || 1) - 1));
  document.querySelector("[data-wait]").textContent =
    ticket.estimated_wait_minutes == null ? "—" : String(ticket.estimated_wait_minutes);
  document.querySelector("[data-counter]").textContent = ticket.counter_name || "";
  showReceipt(ticket.receipt);
  if (ticket.status === "called" && before !== "called" && navigator.vibrate) navigator.vibrate([400, 200, 400]);
}

// A completed ticket's receipt is signed a moment later; no event says so, so ask again.
let receiptPoll = null;
function showReceipt(receipt) {
  const box = document.querySelector("[data-receipt]");
  box.dataset.receiptStatus = receipt ? receipt.status : "none";
  if (receipt) {
    document.querySelector("[data-receipt-download]").href = receipt.download_url;
    document.querySelector("[data-receipt-verify]").href = receipt.verify_url;
  }
  clearTimeout(receiptPoll);
  if (body.dataset.status === "completed" && (!receipt || receipt.status === "pending")) {
    receiptPoll = setTimeout(reload, 3000);
  }
}

function soon() {
  clearTimeout(refresh);
  refresh = setTimeout(reload, 300);
}

// This ticket's own news (its call above all) is shown at once; other tickets of the service
// only move it up the line, so those refreshes wait a moment and are taken together.
function onEvent(name, message) {
  const own = message?.ticket?.number === document.querySelector("[data-number]").textContent;
  if (!own) return soon();
  clearTimeout(refresh);
  reload();
}

connectLive({
  rooms: [`ticket:${body.dataset.token}`, `service:${body.dataset.service}`],
  onStatus: (status) => {
    document.querySelector("[data-offline]").hidden = status !== "offline";
    document.querySelector("[data-live]").hidden = status === "offline";
    if (status === "live") soon();
  },
  onSnapshot: soon,
  onEvent,
});
