// Sends Shibboleth's client-storage form (e1s1, e1s3: trousseau/federation/saml/login.py) on load, as
// ÉduConnect's pages do. Trousseau keeps its sessions server-side, so nothing is read or stored: the
// fields only say whether this browser has local storage, as Shibboleth's script fills them.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.forms[0];
  if (!form || !form.hasAttribute("data-storage")) {
    return;
  }
  var key = "shib_idp_session_ss";
  function set(name, value) {
    var field = form.elements.namedItem(name);
    if (field) {
      field.value = value;
    }
  }
  try {
    var probe = "trousseau_storage_probe";
    window.localStorage.setItem(probe, "1");
    window.localStorage.removeItem(probe);
    set("shib_idp_ls_supported", "true");
    set("shib_idp_ls_success." + key, "true");
  } catch (error) {
    set("shib_idp_ls_supported", "false");
    set("shib_idp_ls_exception." + key, String((error && error.name) || error));
  }
  form.submit();
});
