// Copy buttons: <button data-copy="ID"> copies the text of #ID and says so in #copy-status
// (an aria-live region). A <button> works with Enter and Space, so no key handling is needed.
// What it says comes from #copy-status's data-copied and data-failed, in the page's language.
(function () {
  "use strict";

  function announce(text) {
    var status = document.getElementById("copy-status");
    if (status) {
      status.textContent = "";
      // A fresh text node makes screen readers announce a repeated message again.
      window.setTimeout(function () { status.textContent = text; }, 50);
    }
  }

  function say(name, english) {
    var status = document.getElementById("copy-status");
    return (status && status.getAttribute("data-" + name)) || english;
  }

  function done(ok) {
    announce(ok ? say("copied", "Copied") : say("failed", "Copy failed: select the text and copy it"));
  }

  function fallbackCopy(text) {
    var area = document.createElement("textarea");
    area.value = text;
    area.setAttribute("readonly", "");
    area.className = "visually-hidden";
    document.body.appendChild(area);
    area.select();
    var ok = false;
    try { ok = document.execCommand("copy"); } catch (e) { ok = false; }
    document.body.removeChild(area);
    return ok;
  }

  function copy(button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) { return; }
    var text = source.textContent;
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(
        function () { done(true); },
        function () { done(fallbackCopy(text)); }
      );
    } else {
      done(fallbackCopy(text));
    }
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest ? event.target.closest("button[data-copy]") : null;
    if (button) { copy(button); }
  });
})();
