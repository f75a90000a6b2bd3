// Start page: keep the waiting counts and the counters' current tickets live.
import { connectLive } from "./live.js";

const status = document.querySelector("[data-live-status]");

function setWaiting(service, waiting) {
  const cell = document.querySelector(`[data-waiting="${service}"]`);
  if (cell) cell.textContent = String(waiting);
}

function setCounter(counter, number) {
  const cell = document.querySelector(`[data-counter-ticket="${counter}"]`);
  if (cell) cell.textContent = number || "—";
}

connectLive({
  rooms: ["csa"],
  onStatus: (state) => {
    if (status) status.dataset.liveStatus = state;
  },
  onSnapshot: (snapshot) => {
    snapshot.queues.forEach((q) => setWaiting(q.service, q.waiting));
    snapshot.counters.forEach((c) => setCounter(c.id, c.current_ticket));
  },
  onEvent: (name, message) => {
    if (name === "queue.changed") {
      message.queues.forEach((q) => setWaiting(q.service, q.waiting));
      return;
    }
    const ticket = message.ticket;
    if (!ticket) return;
    if (name === "ticket.called" || name === "ticket.recalled" || name === "ticket.started") {
      setCounter(ticket.counter, ticket.number);
    } else if (message.from_counter) {
      setCounter(message.from_counter, null);
    } else if (ticket.counter) {
      setCounter(ticket.counter, null);
    }
  },
});
