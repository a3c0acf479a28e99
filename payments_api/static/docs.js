// The API's documentation page: Swagger UI reading the app's own OpenAPI document (no other site is reached).
window.addEventListener("DOMContentLoaded", () => {
  const holder = document.getElementById("api");
  window.SwaggerUIBundle({ url: holder.dataset.document, domNode: holder, deepLinking: true });
});
