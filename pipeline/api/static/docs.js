// Swagger UI from the locally installed build; "try it out" sends the session's CSRF token.
"use strict";
let csrf = "";
fetch("auth/session").then((r) => r.ok ? r.json() : {}).then((s) => { csrf = s.csrf || ""; });
window.ui = SwaggerUIBundle({
  url: document.body.dataset.openapi,
  dom_id: "#swagger-ui",
  presets: [SwaggerUIBundle.presets.apis],
  requestInterceptor: (request) => {
    if (csrf) request.headers["X-CSRF-Token"] = csrf;
    return request;
  },
});
