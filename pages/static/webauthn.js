// The pages' only script: the WebAuthn ceremony of a passkey form.
//
// A form with data-webauthn="create" (adding a passkey) or "get" (signing
// in with one) carries the server's options ({"publicKey":{...}}) in
// data-options. When it is submitted, this asks the browser for the
// passkey, puts the credential (its toJSON() form) in the form's hidden
// "credential" field and submits the form: a plain POST, which the server
// answers as any other form. A refusal (cancelled, not allowed, no
// passkey) shows the form's data-msg-* words in its role=alert element
// (data-alert names it); nothing is posted.
"use strict";
(function () {
  function toBuffer(s) {
    var b = atob(s.replace(/-/g, "+").replace(/_/g, "/") + "===".slice((s.length + 3) % 4));
    var out = new Uint8Array(b.length);
    for (var i = 0; i < b.length; i++) out[i] = b.charCodeAt(i);
    return out.buffer;
  }
  function toB64url(buf) {
    var bytes = new Uint8Array(buf), s = "";
    for (var i = 0; i < bytes.length; i++) s += String.fromCharCode(bytes[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }
  function decodeIDs(list) {
    (list || []).forEach(function (c) { c.id = toBuffer(c.id); });
  }
  // creationOptions and requestOptions turn the JSON options into what
  // navigator.credentials takes: with the browser's own parser when it
  // has one, else by decoding the base64url fields.
  function creationOptions(pk) {
    if (window.PublicKeyCredential.parseCreationOptionsFromJSON) {
      return PublicKeyCredential.parseCreationOptionsFromJSON(pk);
    }
    pk.challenge = toBuffer(pk.challenge);
    pk.user.id = toBuffer(pk.user.id);
    decodeIDs(pk.excludeCredentials);
    return pk;
  }
  function requestOptions(pk) {
    if (window.PublicKeyCredential.parseRequestOptionsFromJSON) {
      return PublicKeyCredential.parseRequestOptionsFromJSON(pk);
    }
    pk.challenge = toBuffer(pk.challenge);
    decodeIDs(pk.allowCredentials);
    return pk;
  }
  // encode is credential.toJSON(), written out for a browser without it.
  function encode(c) {
    if (typeof c.toJSON === "function") return c.toJSON();
    var r = c.response, out = {
      id: c.id, rawId: toB64url(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: { clientDataJSON: toB64url(r.clientDataJSON) }
    };
    if (r.attestationObject) {
      out.response.attestationObject = toB64url(r.attestationObject);
      if (r.getTransports) out.response.transports = r.getTransports();
    } else {
      out.response.authenticatorData = toB64url(r.authenticatorData);
      out.response.signature = toB64url(r.signature);
      if (r.userHandle) out.response.userHandle = toB64url(r.userHandle);
    }
    return out;
  }
  function start(form, ev) {
    var field = form.elements.namedItem("credential");
    if (field.value) return; // the credential is in: post it
    ev.preventDefault();
    var alert = document.getElementById(form.getAttribute("data-alert"));
    var button = form.querySelector("button[type=submit]");
    function fail(key) {
      alert.textContent = form.getAttribute("data-msg-" + key);
      alert.hidden = false;
      button.disabled = false;
      button.focus();
    }
    if (!window.PublicKeyCredential || !navigator.credentials) {
      fail("unsupported");
      return;
    }
    alert.hidden = true;
    button.disabled = true;
    var create = form.getAttribute("data-webauthn") === "create";
    var asked;
    try {
      var pk = JSON.parse(form.getAttribute("data-options")).publicKey;
      asked = create
        ? navigator.credentials.create({ publicKey: creationOptions(pk) })
        : navigator.credentials.get({ publicKey: requestOptions(pk) });
    } catch (e) {
      fail("failed");
      return;
    }
    asked.then(function (c) {
      if (!c) { fail("failed"); return; }
      field.value = JSON.stringify(encode(c));
      form.submit();
    }, function (e) {
      fail(e && (e.name === "NotAllowedError" || e.name === "AbortError") ? "cancelled" : "failed");
    });
  }
  var forms = document.querySelectorAll("form[data-webauthn]");
  for (var i = 0; i < forms.length; i++) {
    forms[i].addEventListener("submit", start.bind(null, forms[i]));
  }
})();
