// ILS reference UI: the pages of the user flows (templates/ui). Each page wires itself up by the
// elements it finds; data comes from the JSON API through window.ILS.api (app.js), which sends
// the bearer token kept in localStorage and the CSRF header, as the ILS SPA does.
"use strict";
(() => {
  const { api, storeTokens, DASHBOARD_BY_ROLE } = window.ILS;
  const FLASH_KEY = "ils_ref_flash"; // a toast that survives the navigation after it (as ILS's SPA toasts do)
  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => [...root.querySelectorAll(selector)];
  const loads = new Map();

  const pick = (value, path) => path.split(".").reduce((v, key) => (v == null ? v : v[key]), value);
  const load = (path) => { // one request per path per page
    if (!loads.has(path)) loads.set(path, api("GET", path));
    return loads.get(path);
  };

  function errorText(status, data) {
    const error = data && data.error;
    const details = (error && error.details) || [];
    const message = (error && error.message) || (typeof error === "string" ? error : "");
    return [message || `request failed (${status})`, ...details.map((d) => d.message)].join(": ");
  }

  function show(element, text) {
    element.textContent = text;
    element.hidden = false;
  }

  function toast(text) {
    const element = $("[data-testid=toast]");
    show(element, text);
    setTimeout(() => { element.hidden = true; }, 5000);
  }

  function toastAfterNavigation(text, path) {
    sessionStorage.setItem(FLASH_KEY, text);
    window.location.assign(path);
  }

  function showFlash() {
    const text = sessionStorage.getItem(FLASH_KEY);
    if (!text) return;
    sessionStorage.removeItem(FLASH_KEY);
    toast(text);
  }

  function addRow(tbody, testid, values) {
    const row = tbody.insertRow();
    row.dataset.testid = testid;
    for (const value of values) row.insertCell().textContent = value == null ? "" : String(value);
    return row;
  }

  function wireLogin() {
    const form = $("#ui-login-form");
    if (!form) return;
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const { status, data } = await api("POST", form.dataset.loginPath, {
        email: form.email.value, password: form.password.value,
      });
      if (status !== 200 || !data.accessToken) {
        // as ILS: a toast titled "Login failed" with the answer's status and message
        toast(`Login failed: ${status}: ${errorText(status, data)}`);
        return;
      }
      storeTokens(data);
      sessionStorage.setItem(FLASH_KEY, "Login successful");
      const next = new URLSearchParams(window.location.search).get("next");
      const safeNext = next && next.startsWith("/") && !next.startsWith("//") ? next : null;
      window.location.assign(safeNext || DASHBOARD_BY_ROLE[data.user.role] || "/");
    });
  }

  function wireLogout() {
    const button = $("[data-testid=button-logout]");
    if (!button) return;
    button.addEventListener("click", async () => {
      await api("POST", "/api/auth/logout");
      localStorage.clear(); // as ILS's useAuth().logout: all of it, then /login
      sessionStorage.clear();
      window.location.assign("/login");
    });
  }

  async function fillStats() {
    for (const element of $$("[data-source]")) {
      const { status, data } = await load(element.dataset.source);
      element.textContent = status === 200 ? String(pick(data, element.dataset.field) ?? 0) : "unavailable";
    }
  }

  // ILS's OrderCard: card-order-<orderNumber>, its title text-order-id-<orderNumber>
  function orderCard(o) {
    const card = document.createElement("article");
    card.className = "order-card";
    card.dataset.testid = `card-order-${o.orderNumber}`;
    const title = document.createElement("h3");
    title.dataset.testid = `text-order-id-${o.orderNumber}`;
    title.textContent = o.orderNumber;
    const line = document.createElement("p");
    line.textContent = `${o.patientName} · ${o.status} · ${o.lensType} · ${o.coating}`;
    card.append(title, line);
    return card;
  }

  async function fillOrderLists() {
    for (const list of $$("[data-orders]")) {
      const { status, data } = await load(list.dataset.orders);
      const orders = status === 200 ? data.orders : [];
      list.replaceChildren(...orders.map(orderCard));
      if (!orders.length) list.textContent = status === 200 ? "No orders yet" : "unavailable";
    }
  }

  // A table filled from a list endpoint, re-queried (debounced) as the user types in `search`.
  function searchableTable({ tbody, search, path, items, testid, cells }) {
    let timer;
    async function refresh() {
      const query = search.value.trim();
      const { status, data } = await api("GET", path + (query ? `&search=${encodeURIComponent(query)}` : ""));
      if (query !== search.value.trim()) return; // the user typed on; a newer query follows
      tbody.replaceChildren();
      if (status !== 200) return toast(`Could not load the list: ${errorText(status, data)}`);
      for (const item of items(data)) addRow(tbody, testid(item), cells(item));
    }
    search.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(refresh, 250); });
    refresh();
    return refresh;
  }

  function wirePatients() {
    const tbody = $("#patient-rows");
    if (!tbody) return;
    const refresh = searchableTable({
      tbody, search: $("[data-testid=input-search-patients]"), path: "/api/patients?limit=100",
      items: (data) => data, testid: (p) => `row-patient-${p.id}`,
      cells: (p) => [p.name, p.customerNumber, p.dateOfBirth, p.email, p.fullAddress.city],
    });
    const form = $("#ui-patient-form");
    $("[data-testid=button-add-patient]").addEventListener("click", () => {
      form.hidden = !form.hidden;
      if (!form.hidden) form.elements[0].focus();
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const error = $("[data-testid=text-form-error]", form);
      error.hidden = true;
      const body = { fullAddress: {} };
      for (const input of $$("input", form)) {
        if (!input.value) continue;
        if (input.hasAttribute("data-address")) body.fullAddress[input.name] = input.value;
        else body[input.name] = input.value;
      }
      const { status, data } = await api("POST", "/api/patients", body);
      if (status !== 201) return show(error, `Could not save the patient: ${errorText(status, data)}`);
      form.reset();
      form.hidden = true;
      toast("Patient Added");
      refresh();
    });
  }

  function wireWizard() {
    const form = $("#ui-order-form");
    if (!form) return;
    const steps = $$("fieldset[data-step]", form);
    const back = $("[data-wizard=back]", form);
    const next = $("[data-wizard=next]", form);
    const complete = $("[data-testid=button-complete]", form);
    const error = $("[data-testid=text-form-error]", form);
    let current = 0;
    const values = () => Object.fromEntries([...form.elements]
      .filter((el) => el.name && el.value !== "")
      .map((el) => [el.name, el.type === "number" ? Number(el.value) : el.value]));

    function go(index) {
      current = index;
      steps.forEach((step, n) => { step.hidden = n !== index; });
      $$("[data-testid=wizard-steps] li").forEach((li, n) => li.classList.toggle("current", n === index));
      back.hidden = index === 0;
      next.hidden = index === steps.length - 1;
      complete.hidden = index !== steps.length - 1;
      if (index === steps.length - 1) {
        $("[data-testid=order-review]").replaceChildren(...Object.entries(values()).flatMap(([k, v]) => {
          const term = document.createElement("dt");
          const value = document.createElement("dd");
          term.textContent = k;
          value.textContent = String(v);
          return [term, value];
        }));
      }
    }
    next.addEventListener("click", () => {
      error.hidden = true;
      const missing = $$("[required]", steps[current]).filter((el) => !el.value.trim());
      if (missing.length) {
        return show(error, `Please fill in: ${missing.map((el) => el.closest("label").firstChild.textContent.trim()).join(", ")}`);
      }
      go(current + 1);
    });
    back.addEventListener("click", () => go(current - 1));
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      if (current !== steps.length - 1) return; // Enter in an earlier step does not submit
      error.hidden = true;
      complete.disabled = true;
      const { status, data } = await api("POST", "/api/orders", values());
      complete.disabled = false;
      if (status !== 201) return show(error, `Could not create the order: ${errorText(status, data)}`);
      // as ILS: the toast, then the dashboard (the page shows no order number)
      toastAfterNavigation("Order created successfully", "/ecp/dashboard");
    });
    go(0);
  }

  const RENDERERS = {
    bars(element, series) {
      const max = Math.max(1, ...Object.values(series));
      element.replaceChildren(...Object.entries(series).map(([label, count]) => {
        const bar = document.createElement("div");
        bar.className = "bar";
        bar.textContent = `${label}: ${count}`;
        bar.style.width = `${Math.max(8, (100 * count) / max)}%`;
        return bar;
      }));
    },
  };

  async function fillCharts() {
    for (const element of $$("[data-chart]")) {
      const { status, data } = await load(element.dataset.chart);
      RENDERERS[element.dataset.renderer](element, status === 200 ? pick(data, element.dataset.series) || {} : {});
    }
  }

  async function fillTables() {
    const clinical = $("#clinical-rows");
    if (clinical) {
      const { data } = await load("/api/clinical/reporting/reports");
      for (const r of data.reports || []) addRow(clinical, `row-report-${r.id}`, [r.name, r.records]);
    }
    const users = $("#user-rows");
    if (users) {
      const { status, data } = await load(users.dataset.usersPath);
      if (status !== 200) return toast(`Could not load the users: ${errorText(status, data)}`);
      for (const u of data.users) {
        addRow(users, `row-user-${u.id}`, [u.email, `${u.firstName} ${u.lastName}`, u.role,
          u.isActive ? "yes" : "no", u.lastLoginAt ? new Date(u.lastLoginAt).toLocaleString() : "never"]);
      }
    }
    const audit = $("#audit-rows");
    if (audit) {
      const [logs, people] = await Promise.all([load("/api/admin/audit-logs?limit=100"), load("/api/admin/users")]);
      if (logs.status !== 200) return toast(`Could not load the audit log: ${errorText(logs.status, logs.data)}`);
      const emails = new Map((people.data.users || []).map((u) => [u.id, u.email]));
      for (const entry of logs.data.logs) {
        addRow(audit, `row-audit-${entry.id}`, [new Date(entry.createdAt).toLocaleString(),
          emails.get(entry.userId) || "—", entry.action,
          [entry.entityType, entry.entityId].filter(Boolean).join(" "), JSON.stringify(entry.details)]);
      }
    }
  }

  document.addEventListener("DOMContentLoaded", () => {
    wireLogin();
    wireLogout();
    wirePatients();
    showFlash();
    wireWizard();
    fillStats();
    fillOrderLists();
    fillCharts();
    fillTables();
  });
})();
