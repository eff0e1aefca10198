'use strict';

(function () {
  var form = document.getElementById('login-form');
  var errorBox = document.getElementById('login-error');

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    errorBox.hidden = true;
    var payload = {
      email: document.getElementById('email').value,
      password: document.getElementById('password').value
    };
    fetch('/api/auth/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload)
    }).then(function (response) {
      if (response.ok) {
        window.location = '/platform-admin';
      } else if (response.status === 401) {
        showError('Invalid e-mail or password.');
      } else {
        showError('Sign-in failed (HTTP ' + response.status + ').');
      }
    }).catch(function () {
      showError('Network error, please retry.');
    });
  });
})();
