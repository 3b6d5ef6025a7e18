// tessera's one script: security keys and passkeys through navigator.credentials.
// A form marked data-webauthn="create" or "get" stays hidden until this script finds WebAuthn in
// the browser; then its button asks the server for a challenge (data-begin), lets the browser
// talk to the key, and posts the answer with the form. Without WebAuthn (or without this
// script) the page's explanation stays in view instead.
(function () {
  'use strict';

  function toBytes(base64url) {
    var base64 = base64url.replace(/-/g, '+').replace(/_/g, '/');
    while (base64.length % 4) { base64 += '='; }
    var binary = atob(base64);
    var bytes = new Uint8Array(binary.length);
    for (var i = 0; i < binary.length; i++) { bytes[i] = binary.charCodeAt(i); }
    return bytes.buffer;
  }

  function toBase64url(buffer) {
    var bytes = new Uint8Array(buffer);
    var binary = '';
    for (var i = 0; i < bytes.length; i++) { binary += String.fromCharCode(bytes[i]); }
    return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function descriptors(list) {
    return (list || []).map(function (d) {
      return { type: d.type, id: toBytes(d.id), transports: d.transports };
    });
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    options.excludeCredentials = descriptors(options.excludeCredentials);
    return options;
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.allowCredentials = descriptors(options.allowCredentials);
    return options;
  }

  function answer(credential) {
    var response = credential.response;
    var json = {
      id: credential.id,
      rawId: toBase64url(credential.rawId),
      type: credential.type,
      extensions: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
      response: { clientDataJSON: toBase64url(response.clientDataJSON) }
    };
    if (response.attestationObject) {
      json.response.attestationObject = toBase64url(response.attestationObject);
      if (response.getTransports) { json.response.transports = response.getTransports(); }
    } else {
      json.response.authenticatorData = toBase64url(response.authenticatorData);
      json.response.signature = toBase64url(response.signature);
      json.response.userHandle = response.userHandle ? toBase64url(response.userHandle) : null;
    }
    return json;
  }

  function start(form) {
    var mode = form.getAttribute('data-webauthn');
    var status = form.querySelector('[data-webauthn-status]');
    var busy = false;
    form.addEventListener('submit', function (event) {
      event.preventDefault();
      if (busy) { return; }
      if (!form.reportValidity()) { return; }
      busy = true;
      if (status) { status.hidden = true; }
      var body = new URLSearchParams();
      body.set('csrf_token', form.elements.csrf_token.value);
      fetch(form.getAttribute('data-begin'), {
        method: 'POST',
        body: body,
        credentials: 'same-origin',
        headers: { Accept: 'application/json' }
      }).then(function (reply) {
        if (!reply.ok) { throw new Error('begin refused'); }
        return reply.json();
      }).then(function (begun) {
        form.elements.ceremony.value = begun.ceremony;
        return mode === 'create'
          ? navigator.credentials.create({ publicKey: creationOptions(begun.publicKey) })
          : navigator.credentials.get({ publicKey: requestOptions(begun.publicKey) });
      }).then(function (credential) {
        form.elements.credential.value = JSON.stringify(answer(credential));
        form.submit();
      }).catch(function (error) {
        // Cancelled by the person, timed out, or refused: say so and let them try again.
        if (window.console) { window.console.warn('tessera: WebAuthn did not complete:', String(error)); }
        busy = false;
        if (status) { status.hidden = false; }
      });
    });
  }

  var supported = !!(window.PublicKeyCredential && navigator.credentials && window.fetch);
  var forms = document.querySelectorAll('form[data-webauthn]');
  for (var i = 0; i < forms.length; i++) {
    if (!supported) { continue; }
    var missing = forms[i].getAttribute('data-missing');
    if (missing && document.getElementById(missing)) { document.getElementById(missing).hidden = true; }
    forms[i].hidden = false;
    start(forms[i]);
  }
}());
