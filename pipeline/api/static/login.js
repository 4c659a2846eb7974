// Posts the login as JSON (a page on another origin cannot send JSON here without CORS),
// then opens the console.
"use strict";
document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = event.target;
  const out = document.getElementById("login-error");
  out.textContent = "";
  try {
    const response = await fetch("auth/login", {
      method: "POST",
      headers: {"Content-Type": "application/json"},
      body: JSON.stringify({name: form.name.value, password: form.password.value}),
    });
    if (response.ok) {
      window.location.assign("./");
      return;
    }
    const body = await response.json().catch(() => ({}));
    out.textContent = body.message || ("login failed (" + response.status + ")");
  } catch (e) {
    out.textContent = "cannot reach the server: " + e.message;
  }
});
