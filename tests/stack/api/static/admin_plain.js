'use strict';

(function () {
  var behaviour = window.STANDIN_UI || {};
  fetch('/api/auth/me', { credentials: 'same-origin' }).then(function (response) {
    if (response.status === 401) {
      window.location.replace('/platform/login');
      return null;
    }
    return response.json();
  }).then(function (user) {
    if (!user) {
      return;
    }
    document.querySelector('[data-testid="account-name"]').textContent =
      behaviour.hideName ? user.email.split('@')[0] : user.display_name;
    document.querySelector('[data-testid="tenant-line"]').textContent =
      'Tenant ' + user.tenant_id + ' / site ' + user.site_id;
    if (behaviour.dashboardError) {
      window.dashboardWidgets.render();
    }
  });

  document.querySelector('[data-testid="sign-out"]').addEventListener('click', function () {
    fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' }).then(function () {
      window.location.replace('/platform/login');
    });
  });
})();
