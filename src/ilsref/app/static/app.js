// ILS reference UI: plain JS (the CSP forbids inline scripts). Tokens live in localStorage under
// ILS's own keys (docs/ils-contract.md store.*); each page wires itself up by the elements it finds.
"use strict";

const DASHBOARD_BY_ROLE = {
  ecp: "/ecp/dashboard",
  admin: "/admin/dashboard",
  platform_admin: "/platform-admin/dashboard",
  lab_tech: "/lab/dashboard",
  engineer: "/lab/dashboard",
};

// ILS's localStorage keys (client/src/lib/api.ts)
const STORAGE = { access: "ils_access_token", refresh: "ils_refresh_token", expiry: "ils_token_expiry" };

function storeTokens(data) {
  localStorage.setItem(STORAGE.access, data.accessToken);
  localStorage.setItem(STORAGE.refresh, data.refreshToken);
  localStorage.setItem(STORAGE.expiry, String(Date.now() + Number(data.expiresIn || 0) * 1000));
}

function csrfToken() {
  const match = document.cookie.match(/(?:^|; )csrf-token=([^;]*)/);
  return match ? decodeURIComponent(match[1]) : "";
}

async function api(method, path, body) {
  const headers = { "Content-Type": "application/json", "X-CSRF-Token": csrfToken() };
  const token = localStorage.getItem(STORAGE.access);
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
    storeTokens(data);
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

window.ILS = { api, csrfToken, storeTokens, DASHBOARD_BY_ROLE };
document.addEventListener("DOMContentLoaded", () => {
  wireLogin();
  wireApiDocs();
  wireShell();
});
