/* Hamlet Box station, two small helps on the dossier page:
   - the camera's still preview is fetched again and again, so it is live (without JavaScript it
     shows the moment the page was opened, and every capture reloads the page anyway);
   - the page reloads when the box's shutter button has added a page (or a press failed), unless
     the volunteer is in the middle of typing or choosing files. Without JavaScript the page shows
     a "reload" link instead. */
(function () {
  "use strict";
  var live = document.querySelector("img[data-live]");
  if (live) {
    var still = live.getAttribute("src");
    var again = function (wait) {
      setTimeout(function () { live.src = still + "?t=" + Date.now(); }, wait);
    };
    live.addEventListener("load", function () { again(500); });
    live.addEventListener("error", function () { again(3000); });
  }

  var box = document.querySelector("[data-version]");
  if (!box || !window.fetch) {
    return;
  }
  var seen = box.getAttribute("data-pages") + "/" + box.getAttribute("data-presses");

  function busy() {
    var inputs = document.querySelectorAll("input[type=file], input[type=text], input[type=tel], input:not([type])");
    for (var i = 0; i < inputs.length; i += 1) {
      var input = inputs[i];
      if ((input.files && input.files.length) || (input.value !== input.defaultValue)) {
        return true;
      }
    }
    return false;
  }

  function poll() {
    fetch(box.getAttribute("data-version"), { credentials: "same-origin", cache: "no-store" })
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (now) {
        var changed = now && (now.pages + "/" + now.presses !== seen || now.status !== "draft");
        if (changed && !busy()) {
          location.assign(box.getAttribute("data-reload"));  // a GET, never a re-posted form
          return;
        }
        setTimeout(poll, 2000);
      }, function () { setTimeout(poll, 5000); });
  }

  setTimeout(poll, 2000);
}());
