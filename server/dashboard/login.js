// The login form. A link of the form /login#token=… (printed by the server at start) logs in at once: the
// fragment never leaves the browser, and the form posts the token once to get the session cookie.
"use strict";
(() => {
  const form = document.getElementById("login");
  if (new URLSearchParams(location.search).has("failed")) document.getElementById("failed").hidden = false;
  const token = /^#token=(.+)$/.exec(location.hash);
  if (token) {
    history.replaceState(null, "", "/login");
    document.getElementById("token").value = decodeURIComponent(token[1]);
    form.submit();
  }
})();
