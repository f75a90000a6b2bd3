// Shared by staff pages. The session's CSRF token is in <meta name="csrf-token">; every call
// that changes something must send it (the server refuses it otherwise with a 403).

export function csrfToken() {
  return document.querySelector('meta[name="csrf-token"]')?.content ?? "";
}

// fetch() for staff JSON calls: same-origin cookies, the CSRF header, JSON in and out.
export async function staffFetch(url, { method = "POST", body, headers = {} } = {}) {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: {
      Accept: "application/json",
      ...(body === undefined ? {} : { "Content-Type": "application/json" }),
      ...(method === "GET" ? {} : { "X-CSRF-Token": csrfToken() }),
      ...headers,
    },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (response.status === 401) {
    // The session ended (signed out elsewhere, idle, deactivated): sign in again.
    location.assign(`/login?next=${encodeURIComponent(location.pathname)}`);
  }
  return response;
}

// Forms that ask first: <form data-confirm="Are you sure?">.
document.addEventListener("submit", (event) => {
  const message = event.target.dataset?.confirm;
  if (message && !window.confirm(message)) event.preventDefault();
});
