// Add app: the dialog (or page) searches the synchronised Apps and Books apps and picks one.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }
  const form = $("add-app-form");
  if (!form) { return; }
  const input = $("asset-search");
  const list = $("asset-results");
  const note = $("asset-note");
  const hidden = form.querySelector("input[name=adam_id]");
  let timer = null;
  let latest = 0;

  async function search() {
    const asked = ++latest;
    const response = await fetch(input.dataset.url + "?q=" + encodeURIComponent(input.value),
      { credentials: "same-origin" });
    const data = await response.json();
    if (asked !== latest) { return; }  // a newer search is under way; its answer counts
    list.replaceChildren();
    note.textContent = data.no_match;
    note.hidden = !data.no_match;
    for (const asset of data.results) {
      const li = document.createElement("li");
      const button = document.createElement("button");
      button.type = "button";
      button.textContent = asset.label + " · " + asset.counts +
        (asset.in_catalogue ? " · " + data.in_catalogue_label : "");
      button.disabled = asset.in_catalogue;
      button.dataset.adamId = asset.adam_id;
      button.addEventListener("click", () => {
        clearTimeout(timer); latest++;  // a search still under way must not reopen the list
        hidden.value = asset.adam_id;
        $("asset-picked").textContent = asset.label + " (" + asset.adam_id + ")";
        list.replaceChildren();
      });
      li.appendChild(button);
      list.appendChild(li);
    }
  }
  input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 150); });
  input.addEventListener("focus", search);

  const dialog = $("add-app-dialog");
  const cancel = $("add-app-cancel");
  if (dialog) {
    $("open-add-app").addEventListener("click", (event) => {
      event.preventDefault();
      dialog.showModal();
    });
    cancel.addEventListener("click", () => dialog.close());
  } else {
    cancel.addEventListener("click", () => { window.location.href = $("back-to-apps").href; });
  }
})();
