// Register new device and Send invitation dialogs of the Devices page.
(function () {
  "use strict";
  function $(id) { return document.getElementById(id); }

  // The answer's notes: no match, and users left out because they have no managed Apple ID.
  function showNote(note, data) {
    note.replaceChildren();
    const parts = [];
    if (data.no_match) { parts.push(document.createTextNode(data.no_match)); }
    if (data.without_apple_id_message) {
      if (parts.length) { parts.push(document.createTextNode(" ")); }
      parts.push(document.createTextNode(data.without_apple_id_message + " "));
      const link = document.createElement("a");
      link.href = data.fix_url;
      link.textContent = data.fix_label;
      parts.push(link);
    }
    parts.forEach((p) => note.appendChild(p));
    note.hidden = parts.length === 0;
  }

  function picker(input, list, note, onPick, onType) {
    let timer = null;
    let latest = 0;
    async function search() {
      const asked = ++latest;
      const url = input.dataset.url + "?q=" + encodeURIComponent(input.value);
      const response = await fetch(url, { credentials: "same-origin" });
      const data = await response.json();
      if (asked !== latest) { return; }  // a newer search is under way; its answer counts
      list.replaceChildren();
      showNote(note, data);
      for (const user of data.results) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.textContent = user.label;
        button.addEventListener("click", () => {
          list.replaceChildren(); note.hidden = true; onPick(user);
        });
        li.appendChild(button);
        list.appendChild(li);
      }
    }
    input.addEventListener("input", () => {
      if (onType) { onType(); }
      clearTimeout(timer); timer = setTimeout(search, 150);
    });
    input.addEventListener("focus", search);
  }

  const register = $("register-dialog");
  if (register) {
    // A new search or a new opening forgets the previous user's address and "Copied.".
    function resetResult() {
      $("register-result").hidden = true;
      $("register-address").textContent = "";
      $("copy-done").hidden = true;
      $("register-no-password").hidden = true;
    }
    $("open-register").addEventListener("click", () => {
      resetResult();
      $("register-search").value = "";
      $("register-results").replaceChildren();
      $("register-note").hidden = true;
      register.showModal();
    });
    $("personal-device").addEventListener("change", (e) => {
      $("personal-options").hidden = !e.target.checked;
      $("company-note").hidden = e.target.checked;
    });
    picker($("register-search"), $("register-results"), $("register-note"), (user) => {
      resetResult();
      $("register-search").value = user.label;
      $("register-address").textContent = user.address;
      register.querySelectorAll(".device-steps code.address").forEach((c) => { c.textContent = user.address; });
      $("register-no-password").hidden = user.has_password;
      $("register-result").hidden = false;
    }, resetResult);
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
    $("open-invite").addEventListener("click", () => {
      $("invite-status").textContent = "";
      $("invite-status").className = "";
      invite.showModal();
    });
    $("invite-cancel").addEventListener("click", () => invite.close());
    picker($("invite-search"), $("invite-results"), $("invite-note"), (user) => {
      $("invite-user").value = user.id;
      $("invite-picked").textContent = user.label;
      $("invite-search").value = "";
    });
    form.addEventListener("submit", async (event) => {
      event.preventDefault();
      const more = event.submitter && event.submitter.value === "more";
      const body = new FormData(form);
      body.append("then", more ? "more" : "close");
      const response = await fetch(form.dataset.url, {
        method: "POST", body: body, credentials: "same-origin",
        headers: { "X-Requested-With": "fetch" },
      });
      const data = await response.json();
      const status = $("invite-status");
      status.textContent = data.ok ? data.message : data.error;
      status.className = data.ok ? "notice ok" : "form-error";
      if (data.ok) {
        $("invite-user").value = "";
        $("invite-picked").textContent = "";
        // After a single send the page reloads and shows the confirmation at the top.
        if (!more) { setTimeout(() => { invite.close(); window.location.reload(); }, 900); }
        else { $("invite-search").focus(); }
      }
    });
  }
})();
