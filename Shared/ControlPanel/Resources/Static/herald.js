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
// Imports: send the chosen file as the request body, streamed, then open its mapping page.
document.querySelectorAll("form[data-upload]").forEach((form) => {
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const file = form.querySelector("input[type=file]").files[0];
    const error = form.querySelector("#upload-error");
    const bar = form.querySelector("#upload-progress");
    if (!file) return;
    error.textContent = "";
    bar.classList.remove("d-none");
    const request = new XMLHttpRequest();
    request.open("POST", form.dataset.upload + "?name=" + encodeURIComponent(file.name));
    request.setRequestHeader("X-CSRF-Token", form.dataset.csrf);
    request.setRequestHeader("Content-Type", "application/octet-stream");
    request.upload.onprogress = (e) => {
      if (e.lengthComputable) bar.firstElementChild.style.width = Math.round((100 * e.loaded) / e.total) + "%";
    };
    request.onload = () => {
      try {
        const answer = JSON.parse(request.responseText);
        if (request.status === 201) window.location = answer.location;
        else error.textContent = answer.error ? answer.error.message : request.statusText;
      } catch (e) {
        error.textContent = request.statusText;
      }
    };
    request.onerror = () => (error.textContent = "network error");
    request.send(file);
  });
});

// "Copy its profiles into": the form posts to the chosen database's copy.
document.querySelectorAll("form[data-copy-target]").forEach((form) => {
  const target = form.querySelector("select");
  form.addEventListener("submit", (event) => {
    if (!target.value) { event.preventDefault(); target.focus(); return; }
    form.action = "/databases/" + encodeURIComponent(target.value) + "/imports/copy";
  });
});
