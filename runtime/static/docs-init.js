// The API page: swagger-ui (vendored in swagger_ui/, no network) on this server's /openapi.json.
// Requests go to this server with the token entered under "Authorize" (kept across reloads
// in this browser) and the page's language, so messages come back in Chinese.
window.addEventListener("load", function () {
  window.ui = SwaggerUIBundle({
    url: "/openapi.json",
    dom_id: "#swagger-ui",
    deepLinking: true,
    persistAuthorization: true,
    tryItOutEnabled: false,
    validatorUrl: null,
    displayRequestDuration: true,
    docExpansion: "list",
    filter: true,
    requestInterceptor: function (request) {
      if (!request.headers["Accept-Language"]) {
        request.headers["Accept-Language"] = navigator.language || "zh-CN";
      }
      return request;
    },
  });
});
