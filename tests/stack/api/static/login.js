'use strict';

(function () {
  var behaviour = window.STANDIN_UI || {};
  var form = document.getElementById('login-form');
  var errorBox = document.getElementById('login-error');

  function showError(message) {
    errorBox.textContent = message;
    errorBox.hidden = false;
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    errorBox.hidden = true;
    var password = document.getElementById('password').value;
    if (behaviour.rejectValidPassword) {
      password = password.slice(0, -1);
    }
    var payload = {
      email: document.getElementById('email').value,
      password: password
    };
    fetch('/api/auth/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify(payload)
    }).then(function (response) {
      if (response.ok) {
        window.location = behaviour.afterLogin || '/platform-admin';
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
