// Pairing: a technician pastes the display token once; the server keeps it in a cookie.
// A launcher may also open the page as /display/<zone>#token=..., which never reaches logs.
const form = document.querySelector("[data-pair-form]");
const error = document.querySelector("[data-pair-error]");
// Only present when a staff member is signed in on this browser (then CSRF applies).
const csrf = document.querySelector("meta[name='csrf-token']")?.content;

async function pair(token) {
  const headers = { "Content-Type": "application/json" };
  if (csrf) headers["X-CSRF-Token"] = csrf;
  const response = await fetch(form.dataset.url, {
    method: "POST", headers, body: JSON.stringify({ token }),
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
