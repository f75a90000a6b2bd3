// Pairing: a technician pastes the kiosk token once; the server keeps it in a cookie.
// A launcher may also open the page as /kiosk/<id>#token=..., which never reaches logs.
const form = document.querySelector("[data-pair-form]");
const error = document.querySelector("[data-pair-error]");

async function pair(token) {
  const response = await fetch(form.dataset.url, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ token }),
  });
  if (response.status === 204) {
    history.replaceState(null, "", location.pathname);
    location.reload();
  } else {
    error.hidden = false;
  }
}

form.addEventListener("submit", (event) => {
  event.preventDefault();
  pair(form.elements.token.value.trim());
});

const fromLauncher = new URLSearchParams(location.hash.slice(1)).get("token");
if (fromLauncher) pair(fromLauncher);
