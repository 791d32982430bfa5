// Sends the SAML message form on load (the page has no inline script: CSP). The first form is the one.
document.addEventListener("DOMContentLoaded", function () {
  var form = document.forms[0];
  if (form && form.hasAttribute("data-autopost")) {
    form.submit();
  }
});
