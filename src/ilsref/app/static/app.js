// ILS reference UI: plain JS (the CSP forbids inline scripts). Tokens live in localStorage,
// as in ILS; each page wires itself up by the elements it finds.
"use strict";

const DASHBOARD_BY_ROLE = {
  ecp: "/ecp/dashboard",
  admin: "/admin/dashboard",
  platform_admin: "/platform-admin/dashboard",
  lab_tech: "/lab/dashboard",
  engineer: "/lab/dashboard",
};

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrf-token=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() };
  const token = localStorage.getItem("accessToken");
  if (token) headers.Authorization = "Bearer " + token;
  const response = await fetch(path, {
    method, headers, credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const data = await response.json().catch(() => ({}));
  return { status: response.status, data };
}

function wireLogin() {
  const form = document.getElementById("login-form");
  if (!form) return;
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("login-error");
    error.hidden = true;
    const { status, data } = await api("POST", "/api/auth/jwt/login", {
      email: form.email.value, password: form.password.value,
    });
    if (status !== 200) {
      error.textContent = (data.error && data.error.message) || "Sign in failed";
      error.hidden = false;
      return;
    }
    localStorage.setItem("accessToken", data.accessToken);
    localStorage.setItem("refreshToken", data.refreshToken);
    localStorage.setItem("user", JSON.stringify(data.user));
    window.location.assign(DASHBOARD_BY_ROLE[data.user.role] || "/");
  });
}

async function wireApiDocs() {
  const table = document.getElementById("api-routes");
  if (!table) return;
  const response = await fetch("/api/docs/openapi.json");
  const doc = await response.json();
  const body = table.querySelector("tbody");
  for (const [path, operations] of Object.entries(doc.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      const row = body.insertRow();
      row.insertCell().textContent = method.toUpperCase();
      row.insertCell().textContent = path;
      row.insertCell().textContent = operation.summary;
    }
  }
}

function wireShell() {
  const message = document.getElementById("spa-message");
  if (message) message.textContent = "This page is not available in the reference deployment.";
}

window.ILS = { api, csrfToken, DASHBOARD_BY_ROLE };
document.addEventListener("DOMContentLoaded", () => {
  wireLogin();
  wireApiDocs();
  wireShell();
});
