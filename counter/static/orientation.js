// Orientation tablet: one tap on a service issues the ticket; the answer shows its number and
// QR code. The idempotency key lives as long as one request, so a retried tap is one ticket.
import { staffFetch } from "/static/server/js/staff.js";

const page = document.querySelector("[data-tickets-url]");
const result = page.querySelector("[data-result]");
const error = page.querySelector("[data-error]");
let busy = false;

function newKey() {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

async function issue(service) {
  if (busy) return;
  busy = true;
  error.hidden = true;
  const preferential = page.querySelector("input[name=preferential]:checked").value || null;
  const printer = page.querySelector("select[name=printer]").value || null;
  try {
    const response = await staffFetch(page.dataset.ticketsUrl, {
      body: { service, preferential, printer, key: newKey() },
    });
    const body = await response.json().catch(() => null);
    if (response.status !== 201 || !body) {
      error.textContent = body?.error?.message || `Error ${response.status}`;
      error.hidden = false;
      return;
    }
    result.querySelector("[data-number]").textContent = body.number;
    result.querySelector("[data-service-name]").textContent = body.service_name;
    result.querySelector("[data-qr]").src = body.qr_url;
    result.querySelector("[data-printed]").hidden = !body.printer;
    result.hidden = false;
    result.scrollIntoView({ behavior: "smooth" });
  } finally {
    busy = false;
  }
}

page.querySelectorAll("[data-service]").forEach((button) => {
  button.addEventListener("click", () => issue(button.dataset.service));
});
