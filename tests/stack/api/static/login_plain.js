'use strict';

(function () {
  var behaviour = window.STANDIN_UI || {};
  var form = document.querySelector('[data-testid="sign-in-form"]');
  var message = document.querySelector('[data-testid="sign-in-message"]');

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    message.textContent = '';
    var secret = form.querySelector('[data-testid="sign-in-secret"]').value;
    if (behaviour.rejectValidPassword) {
      secret = secret.slice(0, -1);
    }
    fetch('/api/auth/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({
        email: form.querySelector('[data-testid="sign-in-username"]').value,
        password: secret
      })
    }).then(function (response) {
      if (response.ok) {
        window.location.assign(behaviour.afterLogin || '/platform-admin');
      } else {
        message.textContent = response.status === 401 ? 'Those credentials did not work.'
          : 'Something went wrong (' + response.status + ').';
      }
    }).catch(function () {
      message.textContent = 'Cannot reach the server.';
    });
  });
})();
