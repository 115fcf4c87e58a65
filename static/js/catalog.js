// Keep shared catalog URLs short: leave empty fields (?min_gpus=&max_price=) out of htmx requests,
// and so out of the URL pushed to the address bar. Without JavaScript the form still works as is.
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.closest("[data-drop-empty-params]")) return;
  for (const [key, value] of Array.from(event.detail.formData.entries())) {
    if (value === "") event.detail.formData.delete(key);
  }
});
