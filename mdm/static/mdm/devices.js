// Register new device and Send invitation dialogs of the Devices page.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }

  function picker(input, list, onPick) {
    let timer = null;
    async function search() {
      const url = input.dataset.url + "?q=" + encodeURIComponent(input.value);
      const response = await fetch(url, { credentials: "same-origin" });
      const data = await response.json();
      list.replaceChildren();
      for (const user of data.results) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = user.label;
        button.addEventListener("click", () => { list.replaceChildren(); onPick(user); });
        li.appendChild(button);
        list.appendChild(li);
      }
    }
    input.addEventListener("input", () => { clearTimeout(timer); timer = setTimeout(search, 150); });
    input.addEventListener("focus", search);
  }

  const register = $("register-dialog");
  if (register) {
    $("open-register").addEventListener("click", () => register.showModal());
    $("personal-device").addEventListener("change", (e) => {
      $("personal-options").hidden = !e.target.checked;
      $("company-note").hidden = e.target.checked;
    });
    picker($("register-search"), $("register-results"), (user) => {
      $("register-search").value = user.label;
      $("register-address").textContent = user.address;
      register.querySelectorAll(".device-steps code.address").forEach((c) => { c.textContent = user.address; });
      $("register-no-password").hidden = user.has_password;
      $("register-result").hidden = false;
      $("copy-done").hidden = true;
    });
    $("copy-address").addEventListener("click", async () => {
      const text = $("register-address").textContent;
      try { await navigator.clipboard.writeText(text); }
      catch (err) {  // older browsers and non-secure contexts
        const range = document.createRange();
        range.selectNodeContents($("register-address"));
        const selection = window.getSelection();
        selection.removeAllRanges(); selection.addRange(range);
        document.execCommand("copy");
      }
      $("copy-done").hidden = false;
    });
  }

  const invite = $("invite-dialog");
  if (invite) {
    const form = $("invite-form");
    $("open-invite").addEventListener("click", () => invite.showModal());
    $("invite-cancel").addEventListener("click", () => invite.close());
    picker($("invite-search"), $("invite-results"), (user) => {
      $("invite-user").value = user.id;
      $("invite-picked").textContent = user.label;
      $("invite-search").value = "";
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const more = event.submitter && event.submitter.value === "more";
      const response = await fetch(form.dataset.url, {
        method: "POST", body: new FormData(form), credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      const data = await response.json();
      const status = $("invite-status");
      status.textContent = data.ok ? data.message : data.error;
      status.className = data.ok ? "notice ok" : "form-error";
      if (data.ok) {
        $("invite-user").value = "";
        $("invite-picked").textContent = "";
        if (!more) { setTimeout(() => { invite.close(); window.location.reload(); }, 600); }
        else { $("invite-search").focus(); }
      }
    });
  }
})();
