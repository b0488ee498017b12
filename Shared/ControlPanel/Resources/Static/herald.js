// Herald panel: progressive enhancement only; every page works without this file.
document.querySelectorAll("form[data-confirm]").forEach((form) => {
  form.addEventListener("submit", (event) => {
    if (!window.confirm(form.dataset.confirm)) event.preventDefault();
  });
});
// The language form returns to the page it was sent from.
document.querySelectorAll("input.js-next").forEach((input) => {
  input.value = window.location.pathname + window.location.search;
});
