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

// Long facet lists (countries, GPU models; components/facet.html): a box that hides the choices
// not matching what is typed, accents and case aside. Without JavaScript the box stays hidden and
// the list is whole. The text typed is kept per list, since each htmx swap renders the sidebar anew.
const facetSearches = new Map();
const folded = (text) => text.normalize("NFD").replace(/\p{Diacritic}/gu, "").toLowerCase().trim();
const facetFilter = (box) => {
  const list = document.getElementById(box.getAttribute("aria-controls"));
  if (!list) return;
  const wanted = folded(box.value);
  for (const choice of list.querySelectorAll(".facet-choice")) {
    // A ticked choice stays visible: hiding it would hide a filter that applies.
    const input = choice.querySelector("input");
    choice.hidden = wanted !== "" && !input.checked && !folded(choice.textContent).includes(wanted);
  }
};
const facetSearchesShow = (root) => {
  for (const box of root.querySelectorAll("[data-facet-search]")) {
    box.hidden = false;
    box.value = facetSearches.get(box.dataset.facetSearch) || "";
    facetFilter(box);
  }
};
document.addEventListener("DOMContentLoaded", () => facetSearchesShow(document));
document.addEventListener("htmx:load", (event) => facetSearchesShow(event.detail.elt.parentElement || document));
document.addEventListener("input", (event) => {
  const box = event.target.closest?.("[data-facet-search]");
  if (!box) return;
  facetSearches.set(box.dataset.facetSearch, box.value);
  facetFilter(box);
});
// Typing in the box is not a change of the filters: keep its "change" from the form's htmx
// trigger, and Enter from submitting the form.
document.addEventListener(
  "change",
  (event) => {
    if (event.target.matches?.("[data-facet-search]")) event.stopPropagation();
  },
  true,
);
document.addEventListener("keydown", (event) => {
  if (event.key === "Enter" && event.target.matches?.("[data-facet-search]")) event.preventDefault();
});
