// The admin console's behaviour: JSON calls with the session's CSRF token, confirmations in a <dialog>,
// copy buttons and status changes without a full reload. No framework, no build step.
"use strict";

const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
const say = (text) => { const s = document.querySelector("[data-status]"); if (s) s.textContent = text; };

async function call(url, body, method = "POST") {
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers: method === "GET" ? {} : { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
    body: method === "GET" ? undefined : JSON.stringify(body || {}),
  });
  const data = await response.json().catch(() => ({}));
  if (!response.ok) {
    if (response.status === 401) window.location.assign("/admin/signin");
    throw new Error(data.detail || `The request failed (${response.status}).`);
  }
  return data;
}

function confirmed(message, label = "Confirm") {
  const dialog = document.querySelector("[data-confirm-dialog]");
  dialog.querySelector("[data-confirm-message]").textContent = message;
  dialog.querySelector("[data-confirm-ok]").textContent = label;
  dialog.returnValue = "";
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener("close", () => resolve(dialog.returnValue === "ok"), { once: true }));
}

async function guarded(action) {
  try { await action(); } catch (error) { say(error.message); }
}

// The status the server answered: "invited" once the mail channel accepted it, else still "staged"
// (queued, or failed and retrying: the Invitations page shows which and why).
function markInvited(employees) {
  for (const { id, status } of employees) {
    const row = document.querySelector(`tr[data-id="${CSS.escape(id)}"]`);
    if (!row) continue;
    row.querySelector("[data-cell-status]").textContent = status;
    if (status !== "invited") continue;
    row.querySelector("[data-cell-actions]").textContent = "";
    const box = row.querySelector("[data-select]");
    if (box) box.remove();
  }
}

function formBody(form) {
  const body = {};
  for (const element of form.elements) {
    if (!element.name) continue;
    if (element.type === "checkbox") body[element.name] = element.checked;
    else if (element.type === "number") body[element.name] = Number(element.value);
    else body[element.name] = element.value;
  }
  return body;
}

document.addEventListener("click", (event) => {
  const target = event.target.closest("button");
  if (!target) return;
  const d = target.dataset;
  if (d.copy !== undefined) {
    const field = document.getElementById(d.copy);
    guarded(async () => { field.select(); await navigator.clipboard.writeText(field.value); say("Copied."); });
  } else if (d.signout !== undefined) {
    guarded(async () => { await call("/admin/signout"); window.location.assign("/admin/signin"); });
  } else if (d.generateToken !== undefined) {
    guarded(async () => {
      const hint = document.querySelector("[data-token-hint]").textContent.trim();
      if (hint !== "none" && !(await confirmed(d.confirm, "Generate token"))) return;
      const result = await call(d.url);
      document.getElementById("secret-token").value = result.token;
      document.querySelector("[data-new-token]").hidden = false;
      document.querySelector("[data-token-hint]").textContent = result.tokenHint;
      document.querySelector("[data-token-created]").textContent = result.tokenCreated;
      say("A new secret token was generated. Copy it now: it is shown only once.");
    });
  } else if (d.integration !== undefined) {
    guarded(async () => {
      const enable = d.integration === "true";
      if (!enable && !(await confirmed(d.confirm, "Disable integration"))) return;
      await call(d.url, { enabled: enable });
      window.location.reload();
    });
  } else if (d.inviteOne !== undefined) {
    guarded(async () => {
      const result = await call(d.url, { ids: [d.inviteOne] });
      markInvited(result.employees);
      const invited = result.employees.every((e) => e.status === "invited");
      say(invited ? "Invitation sent." : "Invitation queued: delivery is retried, see Invitations.");
    });
  } else if (d.inviteSelected !== undefined) {
    guarded(async () => {
      const ids = [...document.querySelectorAll("[data-select]:checked")].map((box) => box.value);
      if (ids.length === 0) { say("Select the employees to invite first."); return; }
      if (!(await confirmed(`Send an invitation to ${ids.length} selected employee(s)?`, "Send"))) return;
      const result = await call(d.url, { ids });
      markInvited(result.employees);
      say(`${result.employees.length} invitation(s) sent.`);
    });
  } else if (d.inviteAll !== undefined) {
    guarded(async () => {
      const { staged } = await call(d.countUrl, null, "GET");
      if (staged === 0) { say("No staged employees to invite."); return; }
      if (!(await confirmed(`Send an invitation to all ${staged} staged employees?`, "Send"))) return;
      const result = await call(d.url, { allStaged: true, confirmCount: staged });
      markInvited(result.employees);
      say(`${result.employees.length} invitation(s) sent.`);
    });
  } else if (d.actionUrl !== undefined) {
    guarded(async () => {
      if (d.confirm && !(await confirmed(d.confirm, target.textContent.trim()))) return;
      reveal(await call(d.actionUrl), d);
    });
  } else if (d.delete !== undefined) {
    guarded(async () => {
      if (!(await confirmed(d.confirm, "Delete"))) return;
      await call(d.url);
      target.closest("tr").remove();
      say("Employee deleted.");
    });
  }
});

// Actions whose answer holds a secret shown once (a client secret, a webhook signing secret) put it in a
// read-only field; the others reload the page to show the new state.
function reveal(result, d) {
  if (!d.reveal) { window.location.reload(); return; }
  document.getElementById(d.reveal).value = result[d.revealKey];
  document.querySelector(`[data-reveal-box="${d.reveal}"]`).hidden = false;
  say("Copy it now: it is shown only once. Reload the page to see the list.");
}

document.addEventListener("submit", (event) => {
  const form = event.target;
  if (!form.dataset.api) return;
  event.preventDefault();
  guarded(async () => {
    const result = await call(form.dataset.api, formBody(form));
    if (form.dataset.reveal) reveal(result, form.dataset);
    else if (form.dataset.then === "reload") window.location.reload();
    else say("Saved.");
  });
});
