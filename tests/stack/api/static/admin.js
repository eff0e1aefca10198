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
    document.getElementById('user-name').textContent = behaviour.hideName ? 'Signed in' : user.display_name;
    document.getElementById('tenant-info').textContent =
      'Tenant ' + user.tenant_id + ', site ' + user.site_id + ' (' + user.role + ')';
    if (behaviour.dashboardError) {
      window.dashboardWidgets.render();
    }
  });

  document.getElementById('logout').addEventListener('click', function () {
    fetch('/api/auth/logout', { method: 'POST', credentials: 'same-origin' }).then(function () {
      window.location.replace('/platform/login');
    });
  });
})();
