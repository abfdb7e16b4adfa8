// Progressive enhancement only: every page works without this file.
document.documentElement.classList.add("js");

// A currency choice applies at once; without JavaScript the form keeps its "Change" button.
document.addEventListener("change", (event) => {
  const select = event.target;
  if (select instanceof HTMLSelectElement && select.closest("form.currency-form")) {
    select.form.requestSubmit();
  }
});
