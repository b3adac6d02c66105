// Passkeys: the forms #passkey-add (profile) and #passkey-login (login page) run a WebAuthn
// ceremony instead of a plain submit. Each asks its data-options URL for the options, calls
// navigator.credentials, then posts the answer as the form's "credential" field; the server
// replies with JSON: {redirect} on success, {error, message} otherwise.
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    var binary = atob(base64 + "===".slice((base64.length + 3) % 4));
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toText(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = "";
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function withIds(list) {
    return (list || []).map(function (item) {
      return { type: item.type, id: toBytes(item.id), transports: item.transports };
    });
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = withIds(options.excludeCredentials);
    return { publicKey: options };
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = withIds(options.allowCredentials);
    return { publicKey: options };
  }

  function answer(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      authenticatorAttachment: credential.authenticatorAttachment || undefined,
      clientExtensionResults: credential.getClientExtensionResults(),
      response: { clientDataJSON: toText(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toText(response.attestationObject);
      json.response.transports = response.getTransports ? response.getTransports() : [];
    } else {
      json.response.authenticatorData = toText(response.authenticatorData);
      json.response.signature = toText(response.signature);
      json.response.userHandle = response.userHandle ? toText(response.userHandle) : undefined;
    }
    return JSON.stringify(json);
  }

  // What the page says when no server message applies: #passkey-status's data-cancelled,
  // data-failed and data-refused, in the page's language (English without them).
  function say(name, english) {
    var status = document.getElementById("passkey-status");
    return (status && status.getAttribute("data-" + name)) || english;
  }

  function show(form, text) {
    var status = document.getElementById("passkey-status");
    if (status) {
      status.textContent = text;
      status.hidden = false;
    }
    var button = form.querySelector("button[type=submit]");
    if (button) { button.disabled = false; }
  }

  function post(url, data) {
    return fetch(url, { method: "POST", body: data, credentials: "same-origin" }).then(
      function (reply) {
        return reply.json().then(
          function (body) { return { ok: reply.ok, body: body }; },
          function () { return { ok: false, body: { message: say("refused", "The server refused the request. Reload the page and try again.") } }; }
        );
      }
    );
  }

  function run(form, creating) {
    var button = form.querySelector("button[type=submit]");
    button.disabled = true;
    var csrf = new FormData();
    csrf.append("csrf", form.elements.csrf.value);
    post(form.getAttribute("data-options"), csrf).then(function (reply) {
      if (!reply.ok) { throw new Error(reply.body.message); }
      return creating
        ? navigator.credentials.create(creationOptions(reply.body))
        : navigator.credentials.get(requestOptions(reply.body));
    }).then(function (credential) {
      var data = new FormData(form);
      data.append("credential", answer(credential));
      return post(form.action, data);
    }).then(function (reply) {
      if (!reply.ok) { throw new Error(reply.body.message); }
      window.location.assign(reply.body.redirect);
    }).catch(function (error) {
      var cancelled = error && (error.name === "NotAllowedError" || error.name === "AbortError");
      show(form, cancelled ? say("cancelled", "The passkey prompt was closed or timed out. Try again.") : (error && error.message) || say("failed", "The passkey did not work."));
    });
  }

  var supported = !!(window.PublicKeyCredential && navigator.credentials);
  var add = document.getElementById("passkey-add");
  var login = document.getElementById("passkey-login");
  if (add) {
    if (!supported) {
      add.hidden = true;
      document.getElementById("passkey-unsupported").hidden = false;
    }
    add.addEventListener("submit", function (event) { event.preventDefault(); run(add, true); });
  }
  if (login && supported) {
    login.hidden = false;
    login.addEventListener("submit", function (event) { event.preventDefault(); run(login, false); });
  }
})();
