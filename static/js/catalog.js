// Keep shared catalog URLs short: leave empty fields (?min_gpus=&max_price=) out of htmx requests,
// and so out of the URL pushed to the address bar. Without JavaScript the form still works as is.
document.addEventListener("htmx:configRequest", (event) => {
  if (!event.detail.elt.closest("[data-drop-empty-params]")) return;
  for (const [key, value] of Array.from(event.detail.formData.entries())) {
    if (value === "") event.detail.formData.delete(key);
  }
});

// The filters drawer (catalog.html): open beside the results on a wide screen, closed above them
// on a narrow one. Applying the filters on a narrow screen closes it, to show the results.
const wideScreen = window.matchMedia("(min-width: 901px)");
const filtersDrawer = () => document.getElementById("filters-drawer");
const drawerFollowScreen = () => {
  const drawer = filtersDrawer();
  if (drawer) drawer.open = wideScreen.matches;
};
document.addEventListener("DOMContentLoaded", drawerFollowScreen);
wideScreen.addEventListener("change", drawerFollowScreen);
document.addEventListener("submit", (event) => {
  const drawer = filtersDrawer();
  if (wideScreen.matches || !drawer || !drawer.contains(event.target)) return;
  drawer.open = false;
  document.getElementById("results")?.scrollIntoView({ block: "start" });
});
