// The API docs page (templates/api/docs.html): mount Swagger UI on the OpenAPI document. An
// external file because the CSP allows scripts from 'self' only; without scripts (or should the
// bundle fail to load) the server-rendered list of operations stays.
"use strict";
(function () {
  function start() {
    var mount = document.getElementById("swagger-ui");
    if (!mount || typeof window.SwaggerUIBundle !== "function") {
      return;
    }
    window.SwaggerUIBundle({
      url: mount.getAttribute("data-spec-url"),
      domNode: mount,
      deepLinking: true,
      presets: [window.SwaggerUIBundle.presets.apis],
      layout: "BaseLayout",
      validatorUrl: null, // no call to an outside validator: everything stays on this origin
      tryItOutEnabled: false,
      persistAuthorization: false,
    });
    var list = document.getElementById("operations");
    if (list) {
      list.hidden = true;
    }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
